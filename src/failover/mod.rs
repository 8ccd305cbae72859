//! Keeping work going through provider outages: retries with backoff and full jitter
//! ([`retry`]), a circuit breaker per provider and model shared by every worker of a process
//! ([`breaker`]), and degraded mode, when a task's whole chain of models is down and the local
//! classifier and the templates carry on ([`degraded`]).

pub mod breaker;
pub mod degraded;
pub mod retry;

pub use breaker::{BreakerSettings, BreakerState, BreakerView, Breakers, ManualTicker, SystemTicker, Ticker};

use crate::domain::Intent;
use serde::Deserialize;

/// `[failover]`: how model calls are retried, when a provider counts as down, and what
/// degraded mode may send on its own.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FailoverSettings {
    /// Attempts at one provider/model within a task before the next entry is asked.
    pub max_attempts: u32,
    /// The first retry waits a random time up to this; each further one up to twice as long.
    pub retry_base_ms: u64,
    /// The longest wait between attempts, whatever the attempt.
    pub retry_cap_ms: u64,
    /// A `Retry-After` longer than this moves the task to the next entry instead of waiting.
    pub max_retry_after_ms: u64,
    /// Everything one task (a classification, a draft) may spend on calls, retries included.
    pub task_deadline_ms: u64,
    /// Calls in flight to one provider at a time, from this process, so a backlog drains
    /// steadily instead of as a thundering herd.
    pub provider_concurrency: usize,
    pub breaker: BreakerSettings,
    /// Intents whose degraded-mode drafts (templates, local classifier) are sent without
    /// review when every guardrail passes. Every other degraded draft is held.
    pub degraded_auto_send_intents: Vec<Intent>,
    /// How often a draft held because of degraded mode checks whether providers are back, to
    /// be drafted again by a model without anyone touching it.
    pub resume_check_secs: u64,
}

impl Default for FailoverSettings {
    fn default() -> Self {
        FailoverSettings {
            max_attempts: 3,
            retry_base_ms: 250,
            retry_cap_ms: 8_000,
            max_retry_after_ms: 30_000,
            task_deadline_ms: 60_000,
            provider_concurrency: 8,
            breaker: BreakerSettings::default(),
            degraded_auto_send_intents: Vec::new(),
            resume_check_secs: 30,
        }
    }
}

impl FailoverSettings {
    pub fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(self.max_attempts >= 1, "failover.max_attempts must be at least 1");
        anyhow::ensure!(
            self.provider_concurrency >= 1,
            "failover.provider_concurrency must be at least 1"
        );
        self.breaker.validate()
    }
}
