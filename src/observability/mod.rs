//! Observability: the trace model over our events, Prometheus metrics, OTLP/Langfuse export,
//! redaction of personal data, retention, and readiness. The events table stays the source of
//! truth; a background tail reads new events once (across instances), counts them into the
//! metrics and hands them to the export, so nothing here ever slows the pipeline.

pub mod export;
pub mod metrics;
pub mod redaction;
pub mod retention;
mod settings;
pub mod trace;

pub use settings::{LangfuseSettings, LogFormat, ObservabilitySettings, OtlpSettings, Redaction};

use crate::state::AppState;
use export::Destination;
use metrics::Metrics;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::watch;

/// What the app shares for observability: the metrics registry and the workers' liveness.
#[derive(Debug, Default)]
pub struct Observability {
    pub metrics: Metrics,
    /// Set while this process runs background workers and they are alive.
    workers_running: AtomicBool,
    /// Whether this process is meant to run workers (role worker or all, workers enabled).
    workers_expected: AtomicBool,
}

impl Observability {
    pub fn new() -> Arc<Observability> {
        Arc::new(Observability::default())
    }

    /// This process runs workers from now on; `/readyz` checks they stay alive.
    pub fn workers_started(&self) {
        self.workers_expected.store(true, Ordering::SeqCst);
        self.workers_running.store(true, Ordering::SeqCst);
    }

    pub fn workers_stopped(&self) {
        self.workers_running.store(false, Ordering::SeqCst);
    }

    /// `None` when ready, else why not.
    pub fn workers_problem(&self) -> Option<&'static str> {
        (self.workers_expected.load(Ordering::SeqCst) && !self.workers_running.load(Ordering::SeqCst))
            .then_some("the workers are not running")
    }
}

/// Events read per round of the tail.
const TAIL_BATCH: i64 = 500;

/// Runs the event tail (metrics and export) and the retention job until `stop` turns true,
/// then sends what the buffers hold one last time.
pub async fn run_background(state: AppState, mut stop: watch::Receiver<bool>) {
    let settings = &state.settings.observability;
    let mut destinations = match Destination::configured(settings) {
        Ok(d) => d,
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "trace export is off: its settings are invalid");
            Vec::new()
        }
    };
    let http = reqwest::Client::new();
    let interval = Duration::from_millis(settings.tap_interval_ms.max(10));
    let retention_every = Duration::from_secs(3600);
    let mut last_retention: Option<tokio::time::Instant> = None;
    loop {
        if let Err(e) = tail_once(&state, &mut destinations, &http).await {
            tracing::warn!(error = %format!("{e:#}"), "reading new trace events failed; will retry");
        }
        if settings.retention_days > 0 && last_retention.is_none_or(|t| t.elapsed() >= retention_every) {
            last_retention = Some(tokio::time::Instant::now());
            if let Err(e) = retention::run(&state).await {
                tracing::warn!(error = %format!("{e:#}"), "retention run failed; will retry");
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.wait_for(|s| *s) => break,
        }
    }
    let _ = tail_once(&state, &mut destinations, &http).await;
}

/// Takes the new events, counts them, and exports them where configured.
pub async fn tail_once(
    state: &AppState,
    destinations: &mut [Destination],
    http: &reqwest::Client,
) -> anyhow::Result<usize> {
    let metrics = &state.observability.metrics;
    let mut taken = 0;
    loop {
        let events = state.store.take_new_events(TAIL_BATCH).await?;
        if events.is_empty() {
            break;
        }
        taken += events.len();
        for event in &events {
            metrics.observe(event);
        }
        if !destinations.is_empty() {
            let redaction = state.settings.observability.redaction;
            let spans: Vec<_> = events
                .iter()
                .filter_map(|e| export::to_span(e, redaction))
                .collect();
            for destination in destinations.iter_mut() {
                destination.push(spans.iter().cloned(), metrics);
            }
        }
        if events.len() < TAIL_BATCH as usize {
            break;
        }
    }
    for destination in destinations.iter_mut() {
        destination.flush(http, metrics).await;
    }
    Ok(taken)
}

#[cfg(test)]
mod tests {
    use super::Observability;

    #[test]
    fn readiness_follows_the_workers_where_they_are_expected() {
        let web_only = Observability::default();
        assert_eq!(
            web_only.workers_problem(),
            None,
            "a web process has no workers to wait for"
        );
        let worker = Observability::default();
        worker.workers_started();
        assert_eq!(worker.workers_problem(), None);
        worker.workers_stopped();
        assert_eq!(worker.workers_problem(), Some("the workers are not running"));
    }
}
