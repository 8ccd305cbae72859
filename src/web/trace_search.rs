//! Finding traces: a form over contact, text, intent, model, guardrail rule, error code and a
//! time range, answering with the newest matching messages and links to their traces.

use crate::state::AppState;
use crate::store::TraceQuery;
use crate::web::auth::CurrentUser;
use crate::web::error::AppResult;
use crate::web::templates::{Layout, Page};
use crate::web::timestamp;
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::IntoResponse;
use axum::routing::get;
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new().route("/traces", get(search_traces))
}

/// The form as typed; empty fields are ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SearchForm {
    pub contact: String,
    pub text: String,
    pub intent: String,
    pub model: String,
    pub rule: String,
    pub error: String,
    pub from: String,
    pub to: String,
}

pub struct HitView {
    pub message_id: i64,
    pub at: String,
    pub contact: String,
    pub body: String,
    pub language: String,
    pub intent: String,
    pub state: String,
    pub problems: i64,
}

#[derive(Template)]
#[template(path = "trace_search.html")]
struct SearchPage {
    layout: Layout,
    form: SearchForm,
    searched: bool,
    error: Option<String>,
    hits: Vec<HitView>,
}

fn field(text: &str) -> Option<String> {
    Some(text.trim().to_owned()).filter(|t| !t.is_empty())
}

/// `2026-12-09` or `2026-12-09T16:30` (UTC) as epoch milliseconds; a bare date's end is the
/// end of that day.
fn instant(text: &str, end_of_day: bool) -> Result<Option<i64>, String> {
    let Some(text) = field(text) else {
        return Ok(None);
    };
    if let Ok(t) = chrono::NaiveDateTime::parse_from_str(&text, "%Y-%m-%dT%H:%M") {
        return Ok(Some(t.and_utc().timestamp_millis()));
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(&text, "%Y-%m-%d") {
        let t = if end_of_day {
            d.and_hms_milli_opt(23, 59, 59, 999)
        } else {
            d.and_hms_opt(0, 0, 0)
        };
        return Ok(t.map(|t| t.and_utc().timestamp_millis()));
    }
    Err(format!(
        "{text:?} is not a date (YYYY-MM-DD) or a time (YYYY-MM-DDTHH:MM, UTC)"
    ))
}

impl SearchForm {
    fn query(&self) -> Result<TraceQuery, String> {
        Ok(TraceQuery {
            contact: field(&self.contact),
            text: field(&self.text),
            intent: field(&self.intent),
            model: field(&self.model),
            rule: field(&self.rule),
            error_code: field(&self.error),
            from: instant(&self.from, false)?,
            to: instant(&self.to, true)?,
        })
    }

    fn is_empty(&self) -> bool {
        [
            &self.contact,
            &self.text,
            &self.intent,
            &self.model,
            &self.rule,
            &self.error,
            &self.from,
            &self.to,
        ]
        .iter()
        .all(|f| f.trim().is_empty())
    }
}

#[tracing::instrument(skip_all)]
async fn search_traces(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(form): Query<SearchForm>,
) -> AppResult<impl IntoResponse> {
    let searched = !form.is_empty();
    let (hits, error) = match form.query() {
        Ok(query) => (state.store.search_traces(&query, 100).await?, None),
        Err(e) => (Vec::new(), Some(e)),
    };
    let hits = hits
        .into_iter()
        .map(|h| HitView {
            message_id: h.message_id,
            at: timestamp(h.at),
            contact: h.contact,
            body: h.body.chars().take(120).collect(),
            language: h.language.unwrap_or_default(),
            intent: h.intent.unwrap_or_default(),
            state: h.draft_state.unwrap_or_default(),
            problems: h.problems,
        })
        .collect();
    Ok(Page(SearchPage {
        layout: Layout::new("Traces", &user.0, None),
        form,
        searched,
        error,
        hits,
    }))
}

#[cfg(test)]
mod tests {
    use super::instant;

    #[test]
    fn dates_and_times_parse_and_nonsense_is_refused() {
        assert_eq!(instant("", false), Ok(None));
        assert_eq!(instant("2026-12-09", false), Ok(Some(1_796_774_400_000)));
        assert_eq!(instant("2026-12-09", true), Ok(Some(1_796_860_799_999)));
        assert_eq!(instant("2026-12-09T16:30", false), Ok(Some(1_796_833_800_000)));
        assert!(instant("ayer", false).is_err());
        assert!(instant("09/12/2026", false).is_err());
    }
}
