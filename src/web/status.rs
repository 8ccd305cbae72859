//! `/status`: the circuit breaker of every provider and model this instance has called, and
//! degraded mode, for managers and admins.

use crate::domain::Role;
use crate::failover::{BreakerState, BreakerView};
use crate::state::AppState;
use crate::web::auth::{CurrentUser, take_flash};
use crate::web::error::AppResult;
use crate::web::templates::{Layout, Page};
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use axum_extra::extract::cookie::CookieJar;
use std::time::Duration;

pub fn router() -> Router<AppState> {
    Router::new().route("/status", get(show_status))
}

/// One breaker, ready to print.
pub struct BreakerRow {
    pub provider: String,
    pub model: String,
    pub state: &'static str,
    pub is_open: bool,
    pub consecutive_failures: u32,
    pub window: String,
    pub opened: String,
    pub probe_in: String,
    pub times_opened: u64,
    pub last_error: String,
}

fn seconds(d: Duration) -> String {
    format!("{} s", d.as_secs())
}

impl From<BreakerView> for BreakerRow {
    fn from(v: BreakerView) -> Self {
        BreakerRow {
            state: v.state.as_str(),
            is_open: v.state != BreakerState::Closed,
            consecutive_failures: v.consecutive_failures,
            window: format!("{} of {}", v.window_failures, v.window_calls),
            opened: v
                .opened_ago
                .map(|d| format!("{} ago", seconds(d)))
                .unwrap_or_else(|| "never".to_owned()),
            probe_in: v.probe_in.map(seconds).unwrap_or_default(),
            times_opened: v.times_opened,
            last_error: v.last_error.unwrap_or_default(),
            provider: v.provider,
            model: v.model,
        }
    }
}

/// Degraded mode as a banner: since when, and how many messages wait.
pub struct DegradedBanner {
    pub since: String,
    pub waiting: i64,
}

/// The banner while degraded mode is on; `None` otherwise. The dashboard shows it too.
pub async fn degraded_banner(state: &AppState) -> anyhow::Result<Option<DegradedBanner>> {
    let Some(mode) = state.store.degraded_mode().await? else {
        return Ok(None);
    };
    Ok(Some(DegradedBanner {
        since: crate::web::timestamp(mode.since),
        waiting: state.store.degraded_waiting().await?,
    }))
}

#[derive(Template)]
#[template(path = "status.html")]
struct StatusPage {
    layout: Layout,
    breakers: Vec<BreakerRow>,
    models_configured: bool,
    degraded: Option<DegradedBanner>,
}

async fn show_status(
    State(state): State<AppState>,
    user: CurrentUser,
    jar: CookieJar,
) -> AppResult<impl IntoResponse> {
    user.require(Role::Manager)?;
    let (jar, flash) = take_flash(jar);
    let page = StatusPage {
        layout: Layout::new("Status", &user.0, flash),
        breakers: state
            .breakers
            .snapshot()
            .into_iter()
            .map(BreakerRow::from)
            .collect(),
        models_configured: state.router.has_models(),
        degraded: degraded_banner(&state).await?,
    };
    Ok((jar, Page(page)))
}
