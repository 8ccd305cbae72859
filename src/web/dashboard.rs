//! The managers' dashboard: what the agent did, per day and language.

use crate::domain::Role;
use crate::state::AppState;
use crate::store::DailyCount;
use crate::web::auth::{CurrentUser, take_flash};
use crate::web::error::AppResult;
use crate::web::templates::{Layout, Page};
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use axum_extra::extract::cookie::CookieJar;
use std::collections::BTreeMap;

pub fn router() -> Router<AppState> {
    Router::new().route("/dashboard", get(show_dashboard))
}

/// The columns, each with the trace event kinds it counts.
pub const COLUMNS: [(&str, &[&str]); 9] = [
    ("Inbound", &["received"]),
    ("Drafted", &["drafted"]),
    ("Auto-sent", &["auto_sent"]),
    ("Held", &["held"]),
    ("Approved", &["approved"]),
    ("Rejected", &["rejected"]),
    ("Sent", &["sent"]),
    ("Delivered", &["delivered"]),
    (
        "Failed",
        &["send_failed", "status_failed", "channel_not_configured"],
    ),
];

pub struct Row {
    pub day: String,
    pub language: String,
    pub counts: Vec<i64>,
}

/// Folds event counts into one row per day and language, in [`COLUMNS`] order, newest first.
pub fn table(counts: &[DailyCount]) -> Vec<Row> {
    let mut rows: BTreeMap<(String, String), Vec<i64>> = BTreeMap::new();
    for count in counts {
        let Some(column) = COLUMNS
            .iter()
            .position(|(_, kinds)| kinds.contains(&count.kind.as_str()))
        else {
            continue;
        };
        rows.entry((count.day.clone(), count.language.clone()))
            .or_insert_with(|| vec![0; COLUMNS.len()])[column] += count.count;
    }
    let mut out: Vec<Row> = rows
        .into_iter()
        .map(|((day, language), counts)| Row {
            day,
            language,
            counts,
        })
        .collect();
    out.sort_by(|a, b| b.day.cmp(&a.day).then(a.language.cmp(&b.language)));
    out
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    layout: Layout,
    columns: Vec<&'static str>,
    totals: Vec<i64>,
    rows: Vec<Row>,
    queued_jobs: i64,
    failed_jobs: i64,
    whatsapp_configured: bool,
    /// Set while the evaluation gate keeps auto-send off: why.
    auto_send_off: Option<String>,
    spend: crate::web::spend::SpendView,
    /// While degraded mode is on: since when, and how many messages wait.
    degraded: Option<crate::web::status::DegradedBanner>,
}

async fn show_dashboard(
    State(state): State<AppState>,
    user: CurrentUser,
    jar: CookieJar,
) -> AppResult<impl IntoResponse> {
    user.require(Role::Manager)?;
    let (jar, flash) = take_flash(jar);
    let since = (state.clock().now() - chrono::Duration::days(30))
        .format("%Y-%m-%d")
        .to_string();
    let rows = table(&state.store.daily_counts(&since).await?);
    let totals = (0..COLUMNS.len())
        .map(|i| rows.iter().map(|r| r.counts[i]).sum())
        .collect();
    let jobs = state.store.job_counts().await?;
    let gate = state.auto_send.status(&state.store).await?;
    let page = DashboardPage {
        auto_send_off: (!gate.allows_auto_send()).then(|| gate.describe()),
        layout: Layout::new("Dashboard", &user.0, flash),
        columns: COLUMNS.iter().map(|c| c.0).collect(),
        totals,
        rows,
        queued_jobs: jobs.queued + jobs.running,
        failed_jobs: jobs.failed,
        whatsapp_configured: state.whatsapp.is_configured(),
        spend: crate::web::spend::spend_view(&state, &since).await?,
        degraded: crate::web::status::degraded_banner(&state).await?,
    };
    Ok((jar, Page(page)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(day: &str, language: &str, kind: &str, count: i64) -> DailyCount {
        DailyCount {
            day: day.into(),
            language: language.into(),
            kind: kind.into(),
            count,
        }
    }

    #[test]
    fn folds_event_kinds_into_columns() {
        let rows = table(&[
            count("2026-12-02", "es", "received", 4),
            count("2026-12-03", "pt", "received", 2),
            count("2026-12-03", "pt", "send_failed", 1),
            count("2026-12-03", "pt", "status_failed", 1),
            count("2026-12-03", "pt", "guardrail", 9),
        ]);
        assert_eq!(rows.len(), 2);
        assert_eq!(
            (rows[0].day.as_str(), rows[0].language.as_str()),
            ("2026-12-03", "pt")
        );
        assert_eq!(rows[0].counts, [2, 0, 0, 0, 0, 0, 0, 0, 2]);
        assert_eq!(rows[1].counts[0], 4);
    }
}
