//! The trace of one inbound message: every observation on a timeline with its duration,
//! expandable, errors and retries marked, and the path from the draft to what was sent.

use crate::observability::export::trace_id_hex;
use crate::observability::trace::{self, Level};
use crate::observability::{Redaction, redaction};
use crate::state::AppState;
use crate::store::EventRow;
use crate::web::auth::CurrentUser;
use crate::web::error::{AppError, AppResult};
use crate::web::templates::{Layout, Page};
use crate::web::timestamp;
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use axum::routing::get;

pub fn router() -> Router<AppState> {
    Router::new().route("/messages/{id}/trace", get(show_trace))
}

/// Width of the timeline's SVG coordinate space.
const WIDTH: i64 = 1000;

pub struct EventView {
    pub id: i64,
    pub kind: String,
    pub obs_type: String,
    pub summary: String,
    pub detail: String,
    pub who: String,
    pub at: String,
    pub since_start: String,
    /// "42 ms", or empty for a point in time.
    pub duration: String,
    pub is_problem: bool,
    pub is_warning: bool,
    pub is_retry: bool,
    pub bar_x: i64,
    pub bar_width: i64,
    pub bar_color: &'static str,
}

/// The draft and the reply it became.
pub struct ReplyView {
    pub draft_state: String,
    pub draft_body: String,
    /// The text sent, when a person changed it.
    pub edited_body: Option<String>,
    pub outbound_id: Option<i64>,
    pub outbound_status: String,
    pub external_id: String,
    /// Anchors of the observations along the way: drafted → decided → queued → sent.
    pub steps: Vec<(String, i64)>,
}

#[derive(Template)]
#[template(path = "trace.html")]
struct TracePage {
    layout: Layout,
    message_id: i64,
    conversation_id: i64,
    trace_id: String,
    body: String,
    events: Vec<EventView>,
    total: String,
    reply: Option<ReplyView>,
    /// What the models cost for this message, all calls included.
    model_cost: String,
}

fn millis(ms: i64) -> String {
    if ms >= 10_000 {
        format!("{:.1} s", ms as f64 / 1000.0)
    } else {
        format!("{ms} ms")
    }
}

/// The timeline: each row's bar placed between the trace's first start and last end.
pub fn timeline(rows: Vec<EventRow>) -> (Vec<EventView>, i64) {
    let start = |r: &EventRow| r.started_at.unwrap_or(r.at);
    let end = |r: &EventRow| r.ended_at.unwrap_or(r.at).max(start(r));
    let t0 = rows.iter().map(start).min().unwrap_or(0);
    let t1 = rows.iter().map(end).max().unwrap_or(t0);
    let span = (t1 - t0).max(1);
    let views = rows
        .into_iter()
        .map(|r| {
            let detail_value = serde_json::from_str::<serde_json::Value>(&r.detail).unwrap_or_default();
            let (s, e) = (start(&r), end(&r));
            let level = trace::level(&r.kind, &r.summary, &detail_value);
            let is_retry = trace::is_retry(&r.kind, &detail_value);
            let timed = r.started_at.is_some();
            let obs_type = r
                .obs_type
                .clone()
                .unwrap_or_else(|| trace::ObsType::of_kind(&r.kind).as_str().to_owned());
            let bar_color = match (level, obs_type.as_str()) {
                (Level::Error, _) => "#c92a2a",
                (Level::Warning, _) => "#e67700",
                (_, "generation") => "#7048e8",
                (_, "guardrail") => "#2b8a3e",
                (_, "span") => "#3b5bdb",
                _ => "#868e96",
            };
            EventView {
                id: r.id,
                is_problem: level == Level::Error,
                is_warning: level == Level::Warning,
                is_retry,
                since_start: format!("+{}", millis(s - t0)),
                duration: if timed { millis(e - s) } else { String::new() },
                bar_x: (s - t0) * WIDTH / span,
                bar_width: ((e - s) * WIDTH / span).max(4),
                bar_color,
                at: timestamp(r.at),
                who: r.username.unwrap_or_default(),
                detail: Some(detail_value)
                    .filter(|v| !v.is_null())
                    .and_then(|v| serde_json::to_string_pretty(&v).ok())
                    .unwrap_or_default(),
                obs_type,
                kind: r.kind,
                summary: r.summary,
            }
        })
        .collect();
    (views, t1 - t0)
}

async fn show_trace(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<impl IntoResponse> {
    let message = state.store.message(id).await?.ok_or(AppError::NotFound)?;
    let rows = state.store.trace(id).await?;
    let spend = state
        .store
        .spend_for(crate::store::SpendScope::Message(id))
        .await?;
    let reply = state.store.reply_for(id).await?;
    let (events, total) = timeline(rows);
    let anchor = |kinds: &[&str]| {
        events
            .iter()
            .find(|e| kinds.contains(&e.kind.as_str()))
            .map(|e| e.id)
    };
    let reply = reply.map(|r| {
        let steps = [
            ("drafted", &["drafted"][..]),
            ("decided", &["auto_sent", "held"][..]),
            ("reviewed", &["approved", "rejected"][..]),
            ("queued", &["queued"][..]),
            (
                "sent",
                &[
                    "sent",
                    "sent_template",
                    "send_failed",
                    "send_unconfirmed",
                    "channel_not_configured",
                    "send_blocked",
                ][..],
            ),
            ("delivered", &["delivered", "read", "status_failed"][..]),
        ]
        .into_iter()
        .filter_map(|(label, kinds)| anchor(kinds).map(|id| (label.to_owned(), id)))
        .collect();
        let sent = r.outbound_body.clone().or(r.final_body.clone());
        ReplyView {
            edited_body: sent.filter(|s| *s != r.draft_body),
            draft_state: r.draft_state,
            draft_body: r.draft_body,
            outbound_id: r.outbound_id,
            outbound_status: r.outbound_status.unwrap_or_default(),
            external_id: r.external_id.unwrap_or_default(),
            steps,
        }
    });
    let body = if state.settings.observability.redaction == Redaction::Everywhere {
        redaction::mask(&message.body)
    } else {
        message.body
    };
    let page = TracePage {
        layout: Layout::new(format!("Trace of message {id}"), &user.0, None),
        message_id: id,
        conversation_id: message.conversation_id,
        trace_id: trace_id_hex(id),
        body,
        events,
        total: millis(total),
        reply,
        model_cost: format!(
            "{} in {} model call(s)",
            crate::web::spend::usd(spend.cost_usd),
            spend.calls
        ),
    };
    Ok(Page(page))
}
