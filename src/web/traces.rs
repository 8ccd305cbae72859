//! The trace of one inbound message: every action on it, in order.

use crate::state::AppState;
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

pub struct EventView {
    pub kind: String,
    pub summary: String,
    pub detail: String,
    pub who: String,
    pub at: String,
    pub since_start: String,
    pub is_problem: bool,
}

#[derive(Template)]
#[template(path = "trace.html")]
struct TracePage {
    layout: Layout,
    message_id: i64,
    conversation_id: i64,
    body: String,
    events: Vec<EventView>,
    /// What the models cost for this message, all calls included.
    model_cost: String,
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
    let start = rows.first().map_or(0, |r| r.at);
    let events = rows
        .into_iter()
        .map(|r| {
            let detail = serde_json::from_str::<serde_json::Value>(&r.detail)
                .ok()
                .filter(|v| !v.is_null())
                .and_then(|v| serde_json::to_string_pretty(&v).ok())
                .unwrap_or_default();
            let is_problem = matches!(
                r.kind.as_str(),
                "send_attempt"
                    | "send_failed"
                    | "status_failed"
                    | "channel_not_configured"
                    | "retry"
                    | "model_alert"
                    | "degraded"
            ) || (r.kind == "guardrail" && !r.summary.contains(": pass"))
                || (r.kind == "model_call" && !r.summary.contains(": ok,"));
            EventView {
                is_problem,
                since_start: format!("+{} ms", r.at - start),
                at: timestamp(r.at),
                who: r.username.unwrap_or_default(),
                kind: r.kind,
                summary: r.summary,
                detail,
            }
        })
        .collect();
    let page = TracePage {
        layout: Layout::new(format!("Trace of message {id}"), &user.0, None),
        message_id: id,
        conversation_id: message.conversation_id,
        body: message.body,
        events,
        model_cost: format!(
            "{} in {} model call(s)",
            crate::web::spend::usd(spend.cost_usd),
            spend.calls
        ),
    };
    Ok(Page(page))
}
