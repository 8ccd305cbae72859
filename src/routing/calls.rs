//! One tier's turn at a task: ask the tier's entries in order (the fallback chain within the
//! tier), skipping those whose circuit is open; retry each on transient failures with backoff
//! and full jitter within the task's deadline; reserve every attempt's worst-case cost, check
//! each answer against its schema, and record every attempt in the ledger and on the trace,
//! with why it was retried or why the task moved on.

use super::{ModelRouter, Subject, Tier, route_event};
use crate::failover::breaker::Permit;
use crate::failover::retry::{self, Backoff, Failure};
use crate::models::{Price, Request, pricing};
use crate::store::{NewEvent, NewModelCall, Store};
use rust_decimal::Decimal;
use serde_json::json;
use std::time::Duration;
use tokio::time::Instant;

/// A tier's answer to one task.
pub(super) enum TierOutcome<T> {
    Answer {
        value: T,
        call_id: i64,
        model: String,
    },
    /// Every entry of the tier failed; each failure is on the trace. `down` when none of them
    /// answered at all (errors, timeouts, open circuits), as opposed to answering badly.
    Failed {
        down: bool,
    },
    /// The budget cannot cover the call's worst case.
    OverBudget,
}

/// The provider and model an attempt goes to.
struct ModelEntryRef<'a> {
    provider: &'a str,
    model: &'a str,
    /// The fallback hop: how many entries of this tier were tried before this one.
    hop: usize,
}

impl<'a> ModelEntryRef<'a> {
    fn new(provider: &'a str, model: &'a str, hop: usize) -> Self {
        ModelEntryRef { provider, model, hop }
    }
}

/// What one attempt came to.
enum Attempt<T> {
    Answer(T, i64),
    /// The provider answered, but not in the schema: the next entry may do better.
    Unusable,
    Error(crate::models::CallError),
}

impl ModelRouter {
    /// Asks the tier's entries in order until one gives an answer that fits its schema.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn call_tier<T>(
        &self,
        store: &Store,
        subject: Subject,
        task: &'static str,
        tier: Tier,
        request: &Request,
        deadline: Instant,
        events: &mut Vec<NewEvent>,
        cost: &mut Decimal,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> anyhow::Result<TierOutcome<T>> {
        let entries = self.settings.tiers.entries(tier);
        let backoff = Backoff {
            base: Duration::from_millis(self.failover.retry_base_ms),
            cap: Duration::from_millis(self.failover.retry_cap_ms),
            max_retry_after: Duration::from_millis(self.failover.max_retry_after_ms),
        };
        let mut down = true;
        for (index, entry) in entries.iter().enumerate() {
            let Some(price) = self.prices.get(&entry.model) else {
                continue; // settings.validate() refuses unpriced models
            };
            let at = ModelEntryRef::new(&entry.provider, &entry.model, index);
            let then = match entries.get(index + 1) {
                Some(next) => format!("next: {}/{}", next.provider, next.model),
                None => "no other model on this tier".to_owned(),
            };
            if let Permit::Skip { retry_in } = self.breakers.permit(at.provider, at.model) {
                events.push(hop_event(
                    task,
                    tier,
                    &at,
                    "circuit_open",
                    &format!(
                        "skipped, its circuit is open (probe in {} s); {then}",
                        retry_in.as_secs()
                    ),
                ));
                continue;
            }
            let mut attempt = 0u32;
            loop {
                attempt += 1;
                let remaining = deadline.saturating_duration_since(Instant::now());
                if remaining.is_zero() {
                    events.push(hop_event(
                        task,
                        tier,
                        &at,
                        "deadline",
                        "the task's deadline has passed",
                    ));
                    return Ok(TierOutcome::Failed { down });
                }
                let error = match self
                    .attempt(
                        store, subject, task, tier, &at, price, request, remaining, attempt, events, cost,
                        &parse,
                    )
                    .await?
                {
                    None => return Ok(TierOutcome::OverBudget),
                    Some(Attempt::Answer(value, call_id)) => {
                        self.breakers.success(at.provider, at.model);
                        return Ok(TierOutcome::Answer {
                            value,
                            call_id,
                            model: entry.model.clone(),
                        });
                    }
                    Some(Attempt::Unusable) => {
                        self.breakers.success(at.provider, at.model);
                        down = false;
                        events.push(hop_event(
                            task,
                            tier,
                            &at,
                            "invalid_answer",
                            &format!("answered out of schema; {then}"),
                        ));
                        break;
                    }
                    Some(Attempt::Error(error)) => error,
                };
                let cause = error.outcome();
                match retry::classify(&error) {
                    Failure::Transient => {
                        if self.breakers.failure(at.provider, at.model, &cause) {
                            events.push(hop_event(
                                task,
                                tier,
                                &at,
                                "circuit_opened",
                                &format!("{cause}: its circuit is now open; {then}"),
                            ));
                            break;
                        }
                        if attempt >= self.failover.max_attempts {
                            events.push(hop_event(
                                task,
                                tier,
                                &at,
                                "gave_up",
                                &format!(
                                    "{cause} on attempt {attempt} of {}; {then}",
                                    self.failover.max_attempts
                                ),
                            ));
                            break;
                        }
                        let wait = {
                            let mut rng = rand::thread_rng();
                            retry::delay(&backoff, attempt, error.retry_after(), &mut rng)
                        };
                        let Some(wait) = wait.filter(|w| Instant::now() + *w < deadline) else {
                            let why = match error.retry_after() {
                                Some(asked) => {
                                    format!("{cause}, the provider asks to wait {} s", asked.as_secs_f64())
                                }
                                None => format!("{cause}, no time left before the task's deadline"),
                            };
                            events.push(hop_event(task, tier, &at, "no_time", &format!("{why}; {then}")));
                            break;
                        };
                        events.push(
                            NewEvent::new(
                                "retry",
                                format!(
                                    "{task} on {tier} {}/{}: attempt {attempt} failed ({cause}), retrying in {} ms{}",
                                    at.provider,
                                    at.model,
                                    wait.as_millis(),
                                    error.retry_after().map(|a| format!(" (the provider asked for {} ms)", a.as_millis())).unwrap_or_default()
                                ),
                            )
                            .detail(json!({
                                "task": task,
                                "tier": tier,
                                "provider": at.provider,
                                "model": at.model,
                                "attempt": attempt,
                                "cause": cause,
                                "wait_ms": wait.as_millis() as u64,
                                "retry_after_ms": error.retry_after().map(|a| a.as_millis() as u64),
                            })),
                        );
                        tokio::time::sleep(wait).await;
                    }
                    Failure::Alert => {
                        tracing::error!(
                            alert = true,
                            provider = at.provider,
                            model = at.model,
                            error = %error,
                            "a model provider refused the request; retrying cannot help, check the key and the request"
                        );
                        self.breakers.failure(at.provider, at.model, &cause);
                        events.push(
                            NewEvent::new(
                                "model_alert",
                                format!("{task} on {tier} {}/{}: {error} (not retried; a person should look)", at.provider, at.model),
                            )
                            .detail(json!({ "task": task, "tier": tier, "provider": at.provider, "model": at.model, "outcome": cause, "error": error.to_string() })),
                        );
                        events.push(hop_event(
                            task,
                            tier,
                            &at,
                            "alert",
                            &format!("{cause}, not retried; {then}"),
                        ));
                        break;
                    }
                    Failure::Outage => {
                        tracing::error!(alert = true, provider = at.provider, model = at.model, error = %error, "a model provider is out of credit or quota");
                        self.breakers.outage(at.provider, at.model, &cause);
                        events.push(hop_event(
                            task,
                            tier,
                            &at,
                            "outage",
                            &format!("{cause} (out of credit or quota): its circuit is open; {then}"),
                        ));
                        break;
                    }
                    Failure::NotConfigured => break,
                }
            }
        }
        Ok(TierOutcome::Failed { down })
    }

    /// One call to one entry: reserve its worst case, call, settle, and write it on the trace.
    /// `None` when the budget cannot cover it.
    #[allow(clippy::too_many_arguments)]
    async fn attempt<T>(
        &self,
        store: &Store,
        subject: Subject,
        task: &'static str,
        tier: Tier,
        at: &ModelEntryRef<'_>,
        price: Price,
        request: &Request,
        limit: Duration,
        attempt: u32,
        events: &mut Vec<NewEvent>,
        cost: &mut Decimal,
        parse: &impl Fn(&str) -> Result<T, String>,
    ) -> anyhow::Result<Option<Attempt<T>>> {
        let limits = &self.settings.budget;
        let worst = pricing::worst_case(
            request.prompt_tokens_at_most(),
            u64::from(request.max_output_tokens),
            &price,
        );
        let Some(reservation) = store
            .reserve_spend(tier.as_str(), worst, limits.daily_usd, limits.monthly_usd)
            .await?
        else {
            events.push(route_event(
                task,
                &format!(
                    "{tier} {} skipped: its worst case US$ {} would cross the budget",
                    at.model,
                    worst.round_dp(6)
                ),
                "budget",
                tier,
            ));
            return Ok(None);
        };
        let started = store.clock().now_millis();
        let result = self
            .models
            .complete_within(at.provider, at.model, request, Some(limit))
            .await;
        let ended = store.clock().now_millis();
        let (usage, latency, answered_model, request_id, answer, parsed, error) = match result {
            Ok(completion) => (
                completion.usage,
                completion.latency,
                completion.model,
                completion.request_id,
                Some(completion.text.clone()),
                parse(&completion.text).map_err(|e| ("invalid_answer".to_owned(), e)),
                None,
            ),
            Err(e) => (
                Default::default(),
                Default::default(),
                at.model.to_owned(),
                None,
                None,
                Err((e.outcome(), e.to_string())),
                Some(e),
            ),
        };
        let call_cost = pricing::cost(&usage, &price);
        *cost += call_cost;
        let (outcome, error_text) = match &parsed {
            Ok(_) => ("ok".to_owned(), None),
            Err((outcome, error)) => (outcome.clone(), Some(error.clone())),
        };
        let call = NewModelCall {
            message_id: subject.message_id,
            conversation_id: subject.conversation_id,
            contact_id: subject.contact_id,
            task,
            tier: tier.as_str(),
            provider: at.provider.to_owned(),
            model: at.model.to_owned(),
            usage,
            estimated_input_tokens: 0,
            estimated_output_tokens: 0,
            cost_usd: call_cost,
            latency_ms: i64::try_from(latency.as_millis()).unwrap_or(i64::MAX),
            outcome: outcome.clone(),
            error: error_text.clone(),
            used: false,
        };
        let call_id = store.settle_call(Some(reservation), &call).await?;
        let attempt_note = if attempt > 1 {
            format!(" (attempt {attempt})")
        } else {
            String::new()
        };
        events.push(
            NewEvent::new(
                "model_call",
                format!(
                    "{task} on {tier} {}/{}{attempt_note}: {outcome}, {} in + {} out tokens, US$ {}, {} ms",
                    at.provider,
                    at.model,
                    usage.prompt_tokens(),
                    usage.output_tokens,
                    call_cost.normalize(),
                    call.latency_ms
                ),
            )
            .detail(json!({
                "task": task,
                "tier": tier,
                "provider": at.provider,
                "model": at.model,
                "answered_by": answered_model,
                "attempt": attempt,
                "outcome": outcome,
                "error": error_text,
                "usage": usage,
                "cost_usd": call_cost.normalize().to_string(),
                "latency_ms": call.latency_ms,
                "hop": at.hop,
                "retries": attempt - 1,
                "provider_request_id": request_id,
                "prompt": request.user,
                "answer": answer,
            }))
            .timed(started, ended),
        );
        Ok(Some(match (parsed, error) {
            (Ok(value), _) => Attempt::Answer(value, call_id),
            (Err(_), Some(error)) => Attempt::Error(error),
            (Err(_), None) => Attempt::Unusable,
        }))
    }

    /// The local tier's row in the ledger: free, with what a model would have needed. The
    /// caller records it with what the task produced (`store::record_free`).
    pub(super) fn local_call(
        subject: Subject,
        task: &'static str,
        model: &str,
        estimated_input: u64,
        estimated_output: u64,
        used: bool,
    ) -> NewModelCall {
        NewModelCall {
            message_id: subject.message_id,
            conversation_id: subject.conversation_id,
            contact_id: subject.contact_id,
            task,
            tier: Tier::Local.as_str(),
            provider: "local".to_owned(),
            model: model.to_owned(),
            usage: Default::default(),
            estimated_input_tokens: estimated_input,
            estimated_output_tokens: estimated_output,
            cost_usd: Decimal::ZERO,
            latency_ms: 0,
            outcome: "ok".to_owned(),
            error: None,
            used,
        }
    }
}

/// A hop in the fallback chain: why the task left `at`, and where it goes next.
fn hop_event(task: &str, tier: Tier, at: &ModelEntryRef<'_>, reason: &str, why: &str) -> NewEvent {
    NewEvent::new(
        "route",
        format!("{task} on {tier} {}/{}: {why}", at.provider, at.model),
    )
    .detail(json!({
        "task": task,
        "tier": tier,
        "reason": reason,
        "provider": at.provider,
        "model": at.model,
        "hop": true,
    }))
}
