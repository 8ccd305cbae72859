//! Prometheus metrics. One registry in `AppState` (`state.observability.metrics`): counters fed
//! by the event tail, gauges read from the database at scrape time, and room for other parts
//! (circuit breakers) to register their own with [`Metrics::register`].

use crate::failover::{BreakerState, BreakerView};
use crate::store::{Observation, QueueGauges};
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Metric, Registry};
use serde_json::Value;
use std::sync::Mutex;
use std::sync::atomic::AtomicU64;

type Labels = Vec<(&'static str, String)>;

pub struct Metrics {
    registry: Mutex<Registry>,
    /// Trace events by stage (event kind) and outcome.
    pub messages: Family<Labels, Counter>,
    pub model_calls: Family<Labels, Counter>,
    pub model_latency: Family<Labels, Histogram>,
    pub model_cost: Family<Labels, Counter<f64, AtomicU64>>,
    pub guardrail_verdicts: Family<Labels, Counter>,
    pub sends: Family<Labels, Counter>,
    pub queue_depth: Gauge,
    pub queue_age: Gauge<f64, AtomicU64>,
    pub review_queue: Gauge,
    pub review_age: Gauge<f64, AtomicU64>,
    /// Each provider+model circuit breaker: 0 closed, 1 half-open, 2 open.
    pub breaker_state: Family<Labels, Gauge>,
    /// Times each breaker opened since the process started.
    pub breaker_opened: Family<Labels, Gauge>,
    /// Spans handed to a destination, by destination and outcome (`sent`, `dropped`).
    pub exported_spans: Family<Labels, Counter>,
    /// Sign-ins refused by the login limits, by scope (`account`, `ip`); this instance's.
    pub login_refusals: Family<Labels, Counter>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

fn latency_histogram() -> Histogram {
    Histogram::new([0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0])
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let metrics = Metrics {
            registry: Mutex::new(Registry::with_prefix("tuesday")),
            messages: Family::default(),
            model_calls: Family::default(),
            model_latency: Family::new_with_constructor(latency_histogram),
            model_cost: Family::default(),
            guardrail_verdicts: Family::default(),
            sends: Family::default(),
            queue_depth: Gauge::default(),
            queue_age: Gauge::default(),
            review_queue: Gauge::default(),
            review_age: Gauge::default(),
            breaker_state: Family::default(),
            breaker_opened: Family::default(),
            exported_spans: Family::default(),
            login_refusals: Family::default(),
        };
        let m = &metrics;
        m.register(
            "messages",
            "Trace events by stage and outcome",
            m.messages.clone(),
        );
        m.register(
            "model_calls",
            "Model calls by provider, model, tier and outcome",
            m.model_calls.clone(),
        );
        m.register(
            "model_call_latency_seconds",
            "Model call latency",
            m.model_latency.clone(),
        );
        m.register(
            "model_cost_usd",
            "What model calls cost, as we computed it",
            m.model_cost.clone(),
        );
        m.register(
            "guardrail_verdicts",
            "Guardrail verdicts by rule",
            m.guardrail_verdicts.clone(),
        );
        m.register(
            "sends",
            "Send attempts and status updates by channel and status",
            m.sends.clone(),
        );
        m.register("queue_depth", "Jobs waiting in the queue", m.queue_depth.clone());
        m.register(
            "breaker_state",
            "Circuit breaker per provider and model: 0 closed, 1 half-open, 2 open (this instance)",
            m.breaker_state.clone(),
        );
        m.register(
            "breaker_opened",
            "Times each circuit breaker opened since this instance started",
            m.breaker_opened.clone(),
        );
        m.register(
            "queue_oldest_age_seconds",
            "How long the oldest due job has waited",
            m.queue_age.clone(),
        );
        m.register(
            "review_queue_size",
            "Drafts held for review",
            m.review_queue.clone(),
        );
        m.register(
            "review_queue_oldest_age_seconds",
            "How long the oldest held draft has waited",
            m.review_age.clone(),
        );
        m.register(
            "exported_spans",
            "Trace spans by destination and outcome",
            m.exported_spans.clone(),
        );
        m.register(
            "login_refusals",
            "Sign-ins refused by the login limits, by scope (this instance)",
            m.login_refusals.clone(),
        );
        metrics
    }

    /// Adds a metric under `tuesday_NAME`; for other parts of the app (breaker states…).
    pub fn register(&self, name: &str, help: &str, metric: impl Metric) {
        if let Ok(mut registry) = self.registry.lock() {
            registry.register(name, help, metric);
        }
    }

    /// The text exposition format, after reading the gauges at `now` and the breakers.
    pub fn encode(&self, gauges: QueueGauges, breakers: &[BreakerView], now: i64) -> anyhow::Result<String> {
        for breaker in breakers {
            let labels = vec![
                ("provider", breaker.provider.clone()),
                ("model", breaker.model.clone()),
            ];
            let state = match breaker.state {
                BreakerState::Closed => 0,
                BreakerState::HalfOpen => 1,
                BreakerState::Open => 2,
            };
            self.breaker_state.get_or_create(&labels).set(state);
            let opened = i64::try_from(breaker.times_opened).unwrap_or(i64::MAX);
            self.breaker_opened.get_or_create(&labels).set(opened);
        }
        let age = |at: Option<i64>| at.map_or(0.0, |at| (now - at).max(0) as f64 / 1000.0);
        self.queue_depth.set(gauges.jobs_queued);
        self.queue_age.set(age(gauges.oldest_job_due));
        self.review_queue.set(gauges.drafts_held);
        self.review_age.set(age(gauges.oldest_held_at));
        let registry = self
            .registry
            .lock()
            .map_err(|_| anyhow::anyhow!("the metrics registry lock is poisoned"))?;
        let mut out = String::new();
        encode(&mut out, &registry)?;
        Ok(out)
    }

    /// Counts one trace event.
    pub fn observe(&self, event: &Observation) {
        let detail: Value = serde_json::from_str(&event.detail).unwrap_or(Value::Null);
        let text = |key: &str| detail.get(key).and_then(Value::as_str).unwrap_or("").to_owned();
        let derived = super::trace::derive(&event.kind, &detail);
        let outcome = derived.error_code.clone().unwrap_or_else(|| "ok".to_owned());
        self.messages
            .get_or_create(&vec![("stage", event.kind.clone()), ("outcome", outcome.clone())])
            .inc();
        match event.kind.as_str() {
            "model_call" => {
                let labels = vec![
                    ("provider", text("provider")),
                    ("model", text("model")),
                    ("tier", text("tier")),
                ];
                let mut with_outcome = labels.clone();
                with_outcome.push(("outcome", text("outcome")));
                self.model_calls.get_or_create(&with_outcome).inc();
                if let Some(ms) = detail.get("latency_ms").and_then(Value::as_f64) {
                    self.model_latency.get_or_create(&labels).observe(ms / 1000.0);
                }
                let cost: f64 = text("cost_usd").parse().unwrap_or(0.0);
                self.model_cost.get_or_create(&labels).inc_by(cost);
            }
            "guardrail" => {
                self.guardrail_verdicts
                    .get_or_create(&vec![("rule", text("rule")), ("verdict", text("verdict"))])
                    .inc();
            }
            kind => {
                if let Some(status) = send_status(kind, &detail) {
                    let channel = Some(text("channel"))
                        .filter(|c| !c.is_empty())
                        .unwrap_or_else(|| "whatsapp".to_owned());
                    self.sends
                        .get_or_create(&vec![("channel", channel), ("status", status)])
                        .inc();
                }
            }
        }
    }
}

/// The send status an event reports, if it is about a send.
fn send_status(kind: &str, detail: &Value) -> Option<String> {
    match kind {
        "queued"
        | "sent"
        | "send_attempt"
        | "send_failed"
        | "send_blocked"
        | "send_unconfirmed"
        | "channel_not_configured"
        | "delivered"
        | "read"
        | "status_failed"
        | "status_sent" => Some(match kind {
            "status_sent" | "status_failed" => detail
                .get("status")
                .and_then(Value::as_str)
                .unwrap_or(kind)
                .to_owned(),
            other => other.to_owned(),
        }),
        _ => None,
    }
}
