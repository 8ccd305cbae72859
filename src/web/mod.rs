//! The browser side: login, the review inbox, the dashboard and traces. Every page is rendered
//! on the server with askama; each feature exposes a `router()` and the root merges them.

mod admin;
mod audit;
pub mod auth;
mod charts;
pub mod client_ip;
mod conversation;
mod dashboard;
pub mod error;
mod evaluation;
mod exports;
mod guardrails;
mod inbox;
mod login_limit;
pub mod ops;
mod spend;
pub mod status;
mod templates;
mod trace_search;
mod traces;

use crate::state::AppState;
use axum::Router;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(auth::router())
        .merge(inbox::router())
        .merge(conversation::router())
        .merge(dashboard::router())
        .merge(traces::router())
        .merge(admin::router())
        .merge(guardrails::router())
        .merge(evaluation::router())
        .merge(status::router())
        .merge(trace_search::router())
        .merge(audit::router())
}

/// "3 min ago", "2 h ago", "5 d ago": how long from an epoch-milliseconds instant to `now`.
pub fn age(at: i64, now: i64) -> String {
    let seconds = (now - at).max(0) / 1000;
    match seconds {
        0..60 => format!("{seconds} s"),
        60..3600 => format!("{} min", seconds / 60),
        3600..86400 => format!("{} h", seconds / 3600),
        _ => format!("{} d", seconds / 86400),
    }
}

/// An epoch-milliseconds instant as `2026-12-03 19:04:38 UTC`.
pub fn timestamp(at: i64) -> String {
    chrono::DateTime::from_timestamp_millis(at)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default()
}
