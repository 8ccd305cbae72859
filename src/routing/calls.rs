//! One tier's turn at a task: reserve the call's worst-case cost, ask the tier's entries in
//! order, check each answer against its schema, and record every call in the ledger and on the
//! trace. Retries with backoff and circuit breakers (issue 4) belong around `Models::complete`.

use super::{ModelRouter, Subject, Tier, route_event};
use crate::models::{Request, pricing};
use crate::store::{NewEvent, NewModelCall, Store};
use rust_decimal::Decimal;
use serde_json::json;

/// A tier's answer to one task.
pub(super) enum TierOutcome<T> {
    Answer {
        value: T,
        call_id: i64,
        model: String,
    },
    /// Every entry of the tier failed; each failure is on the trace.
    Failed,
    /// The budget cannot cover the call's worst case.
    OverBudget,
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
        events: &mut Vec<NewEvent>,
        cost: &mut Decimal,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> anyhow::Result<TierOutcome<T>> {
        let limits = &self.settings.budget;
        for (hop, entry) in self.settings.tiers.entries(tier).iter().enumerate() {
            let Some(price) = self.prices.get(&entry.model) else {
                continue; // settings.validate() refuses unpriced models
            };
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
                        entry.model,
                        worst.round_dp(6)
                    ),
                    "budget",
                    tier,
                ));
                return Ok(TierOutcome::OverBudget);
            };
            let started = store.clock().now_millis();
            let result = self.models.complete(&entry.provider, &entry.model, request).await;
            let ended = store.clock().now_millis();
            let (usage, latency, answered_model, request_id, answer, parsed) = match result {
                Ok(completion) => (
                    completion.usage,
                    completion.latency,
                    completion.model,
                    completion.request_id,
                    Some(completion.text.clone()),
                    parse(&completion.text).map_err(|e| ("invalid_answer".to_owned(), e)),
                ),
                Err(e) => (
                    Default::default(),
                    Default::default(),
                    entry.model.clone(),
                    None,
                    None,
                    Err((e.outcome(), e.to_string())),
                ),
            };
            let call_cost = pricing::cost(&usage, &price);
            *cost += call_cost;
            let (outcome, error) = match &parsed {
                Ok(_) => ("ok".to_owned(), None),
                Err((outcome, error)) => (outcome.clone(), Some(error.clone())),
            };
            let call = NewModelCall {
                message_id: subject.message_id,
                conversation_id: subject.conversation_id,
                contact_id: subject.contact_id,
                task,
                tier: tier.as_str(),
                provider: entry.provider.clone(),
                model: entry.model.clone(),
                usage,
                estimated_input_tokens: 0,
                estimated_output_tokens: 0,
                cost_usd: call_cost,
                latency_ms: i64::try_from(latency.as_millis()).unwrap_or(i64::MAX),
                outcome: outcome.clone(),
                error: error.clone(),
                used: false,
            };
            let call_id = store.settle_call(Some(reservation), &call).await?;
            events.push(
                NewEvent::new(
                    "model_call",
                    format!(
                        "{task} on {tier} {}/{}: {outcome}, {} in + {} out tokens, US$ {}, {} ms",
                        entry.provider,
                        entry.model,
                        usage.prompt_tokens(),
                        usage.output_tokens,
                        call_cost.normalize(),
                        call.latency_ms
                    ),
                )
                .detail(json!({
                    "task": task,
                    "tier": tier,
                    "provider": entry.provider,
                    "model": entry.model,
                    "answered_by": answered_model,
                    "outcome": outcome,
                    "error": error,
                    "usage": usage,
                    "cost_usd": call_cost.normalize().to_string(),
                    "latency_ms": call.latency_ms,
                    // Fallback hops: the entries of this tier tried before this one.
                    "hop": hop,
                    "provider_request_id": request_id,
                    "prompt": request.user,
                    "answer": answer,
                }))
                .timed(started, ended),
            );
            if let Ok(value) = parsed {
                return Ok(TierOutcome::Answer {
                    value,
                    call_id,
                    model: entry.model.clone(),
                });
            }
        }
        Ok(TierOutcome::Failed)
    }

    /// The local tier's row in the ledger: free, with what a model would have needed.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn record_local(
        &self,
        store: &Store,
        subject: Subject,
        task: &'static str,
        model: &str,
        estimated_input: u64,
        estimated_output: u64,
        used: bool,
    ) -> anyhow::Result<()> {
        let call = NewModelCall {
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
        };
        store.settle_call(None, &call).await?;
        Ok(())
    }
}
