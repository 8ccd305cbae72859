//! Durable background work: what a job is, and the workers that run them. Jobs live in the
//! database (see `store::jobs`); handlers are idempotent, so a job run twice does no harm.

use crate::channels::StatusUpdate;
use crate::domain::Millis;
use crate::state::AppState;
use crate::{outbox, pipeline};
use anyhow::Context;
use serde::Deserialize;
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

/// A unit of work to store in the queue.
#[derive(Debug, Clone)]
pub struct Job {
    pub kind: &'static str,
    pub payload: serde_json::Value,
    /// Enqueueing a second job with the same key does nothing.
    pub dedupe_key: Option<String>,
    /// When to run it first; `None`, now.
    pub run_at: Option<Millis>,
    /// When it must be done by. The most urgent runnable job is claimed first; `None` gives it
    /// [`DEFAULT_DEADLINE_MS`] from when it may run.
    pub deadline: Option<Millis>,
}

pub const PROCESS_INBOUND: &str = "process_inbound";
pub const SEND: &str = "send";
pub const APPLY_STATUS: &str = "apply_status";
/// Drafts again, with the models, a message degraded mode held, once providers are back.
pub const RESUME_DEGRADED: &str = "resume_degraded";

/// WhatsApp's customer-service window: free-text replies only within 24 h of the customer's
/// last message. It sets an inbound message's deadline.
pub const WHATSAPP_WINDOW_MS: Millis = 24 * 60 * 60 * 1000;
/// The deadline of a job that names none, from when it may run.
pub const DEFAULT_DEADLINE_MS: Millis = WHATSAPP_WINDOW_MS;

impl Job {
    fn new(kind: &'static str, payload: serde_json::Value, dedupe_key: String) -> Job {
        Job {
            kind,
            payload,
            dedupe_key: Some(dedupe_key),
            run_at: None,
            deadline: None,
        }
    }

    /// Processes an inbound message the customer sent at `sent_at`: due before their 24-hour
    /// window closes.
    pub fn process_inbound(message_id: i64, sent_at: Millis) -> Job {
        Job {
            deadline: Some(sent_at + WHATSAPP_WINDOW_MS),
            ..Job::new(
                PROCESS_INBOUND,
                json!({ "message_id": message_id }),
                format!("inbound:{message_id}"),
            )
        }
    }

    pub fn send(outbound_id: i64) -> Job {
        Job::new(
            SEND,
            json!({ "outbound_id": outbound_id }),
            format!("send:{outbound_id}"),
        )
    }

    /// One check, made at `now`, whether providers are back for a message degraded mode held.
    pub fn resume_degraded(message_id: i64, now: Millis) -> Job {
        Job::new(
            RESUME_DEGRADED,
            json!({ "message_id": message_id }),
            format!("resume:{message_id}:{now}"),
        )
    }

    pub fn apply_status(update: &StatusUpdate) -> anyhow::Result<Job> {
        Ok(Job::new(
            APPLY_STATUS,
            serde_json::to_value(update)?,
            format!(
                "status:{}:{}:{}",
                update.channel,
                update.external_id,
                update.status.as_str()
            ),
        ))
    }
}

/// What a handler made of its job.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Done,
    /// Try again later; the worker backs off and gives up after the configured attempts.
    Retry(String),
    /// Give up now: retrying cannot help.
    Failed(String),
    /// Not now: run again at this time, without counting an attempt.
    Later(chrono::DateTime<chrono::Utc>, String),
}

#[derive(Deserialize)]
struct MessageRef {
    message_id: i64,
}

#[derive(Deserialize)]
struct OutboundRef {
    outbound_id: i64,
}

/// Claims and runs one job. Returns `false` when no job was ready.
pub async fn run_one(state: &AppState, worker: &str) -> anyhow::Result<bool> {
    run_one_tracked(state, worker, &Mutex::new(None)).await
}

/// Like [`run_one`], keeping the id of the job in hand in `current` while it runs, so a
/// shutdown that cannot wait for it can give it back to the queue.
async fn run_one_tracked(
    state: &AppState,
    worker: &str,
    current: &Mutex<Option<i64>>,
) -> anyhow::Result<bool> {
    let settings = &state.settings.worker;
    let lease = Duration::from_secs(settings.lease_secs);
    let Some(job) = state.store.claim_job(worker, lease.as_millis() as i64).await? else {
        return Ok(false);
    };
    set(current, Some(job.id));
    let span = tracing::info_span!("job", id = job.id, kind = %job.kind, attempt = job.attempts);
    let work = tracing::Instrument::instrument(dispatch(state, &job.kind, &job.payload), span);
    let outcome = renewing_lease(state, job.id, worker, lease, work)
        .await
        .unwrap_or_else(|e| Outcome::Retry(format!("{e:#}")));
    match outcome {
        Outcome::Done => state.store.complete_job(job.id, worker).await?,
        Outcome::Later(at, reason) => {
            tracing::info!(job = job.id, kind = %job.kind, %reason, %at, "job deferred");
            state
                .store
                .defer_job(job.id, worker, at.timestamp_millis(), &reason)
                .await?;
        }
        Outcome::Retry(reason) if job.attempts < i64::from(settings.max_attempts) => {
            let delay = backoff(job.attempts as u32, Duration::from_millis(settings.retry_base_ms));
            tracing::warn!(job = job.id, kind = %job.kind, %reason, ?delay, "job will be retried");
            let run_at = state.clock().now_millis() + delay.as_millis() as i64;
            state.store.retry_job(job.id, worker, run_at, &reason).await?;
        }
        Outcome::Retry(reason) | Outcome::Failed(reason) => {
            tracing::error!(job = job.id, kind = %job.kind, %reason, "job failed for good");
            // A message must not be dropped: one that could not be processed goes to a person,
            // unless this worker lost the job meanwhile and another one is still trying.
            if matches!(job.kind.as_str(), PROCESS_INBOUND | RESUME_DEGRADED)
                && let Ok(MessageRef { message_id }) = serde_json::from_str(&job.payload)
                && state
                    .store
                    .renew_lease(job.id, worker, lease.as_millis() as i64)
                    .await?
            {
                pipeline::hand_over(state, message_id, &reason).await?;
            }
            state.store.fail_job(job.id, worker, &reason).await?;
        }
    }
    set(current, None);
    Ok(true)
}

/// Runs `work`, renewing the job's lease every third of it, so a job that outlasts its lease
/// (a slow model, retries) is not claimed by a second worker while this one still runs it, nor
/// counted as another attempt. A process that dies stops renewing, and its job is claimed again
/// once the lease runs out.
async fn renewing_lease<F: std::future::Future>(
    state: &AppState,
    job: i64,
    worker: &str,
    lease: Duration,
    work: F,
) -> F::Output {
    let mut work = std::pin::pin!(work);
    let every = (lease / 3).max(Duration::from_millis(10));
    loop {
        tokio::select! {
            output = &mut work => return output,
            _ = tokio::time::sleep(every) => {
                match state.store.renew_lease(job, worker, lease.as_millis() as i64).await {
                    Ok(true) => {}
                    Ok(false) => tracing::warn!(job, worker, "the job's lease ran out and another worker holds it"),
                    Err(e) => tracing::warn!(job, error = format!("{e:#}"), "could not renew the job's lease"),
                }
            }
        }
    }
}

fn set(current: &Mutex<Option<i64>>, job: Option<i64>) {
    *current.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = job;
}

async fn dispatch(state: &AppState, kind: &str, payload: &str) -> anyhow::Result<Outcome> {
    match kind {
        PROCESS_INBOUND => {
            let job: MessageRef = serde_json::from_str(payload).context("while reading the job payload")?;
            pipeline::process_inbound(state, job.message_id).await
        }
        SEND => {
            let job: OutboundRef = serde_json::from_str(payload).context("while reading the job payload")?;
            outbox::send(state, job.outbound_id).await
        }
        APPLY_STATUS => {
            let update: StatusUpdate =
                serde_json::from_str(payload).context("while reading the job payload")?;
            outbox::apply_status(state, &update).await
        }
        RESUME_DEGRADED => {
            let job: MessageRef = serde_json::from_str(payload).context("while reading the job payload")?;
            crate::failover::degraded::resume(state, job.message_id).await
        }
        other => Ok(Outcome::Failed(format!("unknown job kind {other:?}"))),
    }
}

/// Exponential backoff: base · 2^(attempt-1), capped at ten minutes.
pub fn backoff(attempt: u32, base: Duration) -> Duration {
    let factor = 2u32.saturating_pow(attempt.saturating_sub(1).min(16));
    (base * factor).min(Duration::from_secs(600))
}

/// Runs every job that is ready now, one after another, and returns how many ran. Tests and the
/// CLI use it to drive the queue deterministically.
pub async fn drain(state: &AppState) -> anyhow::Result<usize> {
    let mut ran = 0;
    while run_one(state, "drain").await? {
        ran += 1;
    }
    Ok(ran)
}

/// Runs `concurrency` workers until `shutdown` turns true. Then no worker claims another job;
/// each gets `worker.shutdown_grace_secs` to finish the one in hand, and a job still running
/// after that is stopped and given back to the queue at once (not counted as an attempt), for
/// this or another instance to run. Handlers are idempotent and a send cut short becomes
/// `unconfirmed`, never resent blindly.
pub async fn run_workers(state: AppState, shutdown: watch::Receiver<bool>) {
    let concurrency = state.settings.worker.concurrency.max(1);
    let mut workers = Vec::new();
    for n in 0..concurrency {
        let state = state.clone();
        let mut shutdown = shutdown.clone();
        let name = format!("worker-{}-{n}", std::process::id());
        let current = Arc::new(Mutex::new(None));
        let in_hand = current.clone();
        let worker = name.clone();
        let handle = tokio::spawn(async move {
            let idle = Duration::from_millis(state.settings.worker.poll_interval_ms);
            loop {
                if *shutdown.borrow() {
                    break;
                }
                match run_one_tracked(&state, &worker, &in_hand).await {
                    Ok(true) => continue,
                    Ok(false) => {}
                    Err(e) => tracing::error!(error = format!("{e:#}"), "worker could not reach the queue"),
                }
                tokio::select! {
                    _ = state.jobs_ready.notified() => {}
                    _ = tokio::time::sleep(idle) => {}
                    _ = shutdown.changed() => {}
                }
            }
        });
        workers.push((name, current, handle));
    }
    let mut stop = shutdown.clone();
    let _ = stop.wait_for(|s| *s).await;
    let grace = Duration::from_secs(state.settings.worker.shutdown_grace_secs);
    let deadline = tokio::time::Instant::now() + grace;
    for (name, current, mut handle) in workers {
        match tokio::time::timeout_at(deadline, &mut handle).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "worker task ended abnormally"),
            Err(_) => {
                handle.abort();
                let _ = handle.await;
                let job = *current.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                if let Some(job) = job {
                    tracing::warn!(job, worker = %name, ?grace, "job still running after the grace period: released");
                    if let Err(e) = state.store.release_job(job, &name).await {
                        tracing::error!(
                            job,
                            error = format!("{e:#}"),
                            "could not release the job; its lease will expire"
                        );
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let base = Duration::from_secs(1);
        assert_eq!(backoff(1, base), Duration::from_secs(1));
        assert_eq!(backoff(2, base), Duration::from_secs(2));
        assert_eq!(backoff(5, base), Duration::from_secs(16));
        assert_eq!(backoff(40, base), Duration::from_secs(600));
    }
}
