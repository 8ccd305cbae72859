//! The retention job: message bodies and traces older than `observability.retention_days` are
//! removed; the dashboard's counts are rolled up first and survive.

use crate::state::AppState;
use crate::store::RetentionSummary;

/// Applies retention as of now. Does nothing when `retention_days` is 0.
pub async fn run(state: &AppState) -> anyhow::Result<RetentionSummary> {
    run_at(state, state.clock().now_millis()).await
}

/// Applies retention as of `now` (epoch ms).
pub async fn run_at(state: &AppState, now: i64) -> anyhow::Result<RetentionSummary> {
    let days = state.settings.observability.retention_days;
    if days == 0 {
        return Ok(RetentionSummary::default());
    }
    let cutoff = now - i64::from(days) * 86_400_000;
    let summary = state.store.apply_retention(cutoff).await?;
    tracing::info!(
        days,
        events = summary.events_removed,
        messages = summary.messages_cleared,
        drafts = summary.drafts_cleared,
        deliveries = summary.deliveries_cleared,
        "retention applied"
    );
    Ok(summary)
}
