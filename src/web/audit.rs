//! The audit log page: every human action and policy override, newest first. Managers read it;
//! there is no way to change it.

use crate::domain::Role;
use crate::state::AppState;
use crate::web::auth::CurrentUser;
use crate::web::error::AppResult;
use crate::web::templates::{Layout, Page};
use crate::web::timestamp;
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;

pub fn router() -> Router<AppState> {
    Router::new().route("/audit", get(show_audit_log))
}

pub struct AuditView {
    pub at: String,
    pub username: String,
    pub action: String,
    pub message_id: Option<i64>,
    pub summary: String,
    pub detail: String,
    pub is_override: bool,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    layout: Layout,
    entries: Vec<AuditView>,
}

async fn show_audit_log(State(state): State<AppState>, user: CurrentUser) -> AppResult<impl IntoResponse> {
    user.require(Role::Manager)?;
    let entries = state
        .store
        .audit_log(500)
        .await?
        .into_iter()
        .map(|r| {
            let detail = serde_json::from_str::<serde_json::Value>(&r.detail).unwrap_or_default();
            AuditView {
                is_override: detail.get("override_reason").is_some_and(|v| !v.is_null()),
                at: timestamp(r.at),
                username: r.username,
                action: r.action,
                message_id: r.message_id,
                summary: r.summary,
                detail: serde_json::to_string_pretty(&detail).unwrap_or_default(),
            }
        })
        .collect();
    Ok(Page(AuditPage {
        layout: Layout::new("Audit log", &user.0, None),
        entries,
    }))
}
