//! Tiered model routing: each task goes to the cheapest tier that does it well. The rules live
//! in [`policy`] (pure); this module carries them out — budget reservations, calls through
//! [`Models::complete`], answers checked against their schema, escalation — and writes every
//! decision and call on the message's trace and in the `model_calls` ledger.
//!
//! Tiers: `local` (the built-in classifier and the reply templates, free), then `fast`,
//! `standard` and `flagship`, each an ordered list of provider/model entries in the settings.

mod calls;
pub mod facts;
pub mod policy;
pub mod prompts;
mod settings;

pub use settings::{BudgetSettings, ModelEntry, RoutingSettings, SimpleDrafts, TierSettings};

use crate::failover::{Breakers, FailoverSettings, SystemTicker};
use crate::guardrails::Finding;
use crate::models::{Models, PriceTable};
use crate::pipeline::classify::Classification;
use crate::store::{NewEvent, NewModelCall, Store};
use calls::TierOutcome;
use policy::{AfterGuardrails, BudgetState, Choice, Fallback};
use prompts::DraftInput;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::fmt;
use std::sync::Arc;
use tokio::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    Local,
    Fast,
    Standard,
    Flagship,
}

impl Tier {
    pub const ALL: [Tier; 4] = [Tier::Local, Tier::Fast, Tier::Standard, Tier::Flagship];
    pub const HOSTED: [Tier; 3] = [Tier::Fast, Tier::Standard, Tier::Flagship];

    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Local => "local",
            Tier::Fast => "fast",
            Tier::Standard => "standard",
            Tier::Flagship => "flagship",
        }
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whom a task is for, so its calls land in the ledger under the right message, conversation
/// and contact. All `None` for the command line.
#[derive(Debug, Clone, Copy, Default)]
pub struct Subject {
    pub message_id: Option<i64>,
    pub conversation_id: Option<i64>,
    pub contact_id: Option<i64>,
}

/// A classification and the route it took.
#[derive(Debug, Clone)]
pub struct RoutedClassification {
    pub classification: Classification,
    pub tier: Tier,
    /// `local` or the model that answered.
    pub model: String,
    /// What every call of the task cost, failed ones included.
    pub cost: Decimal,
    /// Decisions and calls, in order, for the message's trace.
    pub events: Vec<NewEvent>,
    /// The cascade wanted a model and every one it tried was down: the local answer stands
    /// because nothing else could answer (degraded mode).
    pub degraded: bool,
    /// The local tier's row in the ledger, not yet stored: the caller records it with its
    /// result (the pipeline, in the draft's transaction).
    pub free_calls: Vec<NewModelCall>,
}

impl RoutedClassification {
    /// The local classifier's answer, for messages no model should see (media and the like).
    pub fn local(classification: Classification) -> RoutedClassification {
        RoutedClassification {
            classification,
            tier: Tier::Local,
            model: "local".to_owned(),
            cost: Decimal::ZERO,
            events: Vec::new(),
            degraded: false,
            free_calls: Vec::new(),
        }
    }
}

/// A drafted reply and the route it took.
#[derive(Debug, Clone)]
pub struct RoutedDraft {
    pub body: String,
    /// `template:<name>` or `model:<tier>:<model>`, for the drafts table.
    pub source: String,
    pub tier: Tier,
    pub model: String,
    /// The guardrails' verdicts on `body`.
    pub findings: Vec<Finding>,
    pub cost: Decimal,
    pub events: Vec<NewEvent>,
    /// The canary planted in the model's instructions, when a model drafted the reply: a
    /// guardrail blocks a draft that contains it.
    pub canary: Option<String>,
    /// A model should have drafted and every one tried was down: the template stands in.
    pub degraded: bool,
    /// As in [`RoutedClassification::free_calls`].
    pub free_calls: Vec<NewModelCall>,
}

/// The inputs of a drafting task.
pub struct DraftTask<'a> {
    pub subject: Subject,
    pub input: DraftInput<'a>,
    pub facts: policy::DraftFacts,
    /// The template reply and its name: the reference for models, the fallback for all.
    pub template_body: &'a str,
    pub template_name: &'a str,
}

/// The router: settings, provider clients and prices, built once at start-up.
pub struct ModelRouter {
    settings: RoutingSettings,
    models: Models,
    prices: PriceTable,
    /// The labels classification prompts offer and answers must pick from.
    taxonomy: crate::domain::Taxonomy,
    failover: FailoverSettings,
    /// Shared with `AppState`, so every worker sees one breaker per provider and model.
    breakers: Arc<Breakers>,
}

impl ModelRouter {
    /// A router with the default failover settings and breakers of its own (the commands).
    pub fn new(settings: &RoutingSettings) -> anyhow::Result<ModelRouter> {
        let failover = FailoverSettings::default();
        let breakers = Arc::new(Breakers::new(
            failover.breaker.clone(),
            Arc::new(SystemTicker::default()),
        ));
        ModelRouter::with_failover(settings, &failover, breakers)
    }

    pub fn with_failover(
        settings: &RoutingSettings,
        failover: &FailoverSettings,
        breakers: Arc<Breakers>,
    ) -> anyhow::Result<ModelRouter> {
        settings.validate()?;
        failover.validate()?;
        Ok(ModelRouter {
            models: Models::with_concurrency(&settings.providers, failover.provider_concurrency)?,
            prices: settings.price_table(),
            settings: settings.clone(),
            taxonomy: crate::domain::Taxonomy::default(),
            failover: failover.clone(),
            breakers,
        })
    }

    /// Classifies into `taxonomy` instead of the default labels.
    pub fn with_taxonomy(mut self, taxonomy: crate::domain::Taxonomy) -> ModelRouter {
        self.taxonomy = taxonomy;
        self
    }

    pub fn breakers(&self) -> &Arc<Breakers> {
        &self.breakers
    }

    /// When a task started now must be done by.
    fn deadline(&self) -> Instant {
        Instant::now() + std::time::Duration::from_millis(self.failover.task_deadline_ms)
    }

    pub fn settings(&self) -> &RoutingSettings {
        &self.settings
    }

    pub fn prices(&self) -> &PriceTable {
        &self.prices
    }

    /// Whether any hosted tier has a model; without one everything runs locally.
    pub fn has_models(&self) -> bool {
        !self.settings.configured_tiers().is_empty()
    }

    /// The highest tier the budget allows right now.
    pub async fn ceiling(&self, store: &Store) -> anyhow::Result<Choice> {
        if !self.has_models() {
            return Ok(Choice {
                tier: Tier::Flagship,
                reason: "within_budget",
                why: "no hosted models configured".to_owned(),
            });
        }
        let spent = store.spend_to_date().await?;
        Ok(policy::budget_ceiling(&self.budget_state(spent), &self.settings))
    }

    fn budget_state(&self, spent: crate::store::SpendToDate) -> BudgetState {
        BudgetState {
            spent_today: spent.today,
            spent_month: spent.month,
            daily_limit: self.settings.budget.daily_usd,
            monthly_limit: self.settings.budget.monthly_usd,
        }
    }

    /// Classifies with the cascade: the local answer stands unless it is in doubt; then fast,
    /// then standard, each within the budget.
    #[tracing::instrument(skip_all, fields(message_id = subject.message_id))]
    pub async fn classify(
        &self,
        store: &Store,
        subject: Subject,
        language: crate::domain::Language,
        text: &str,
        local: Classification,
    ) -> anyhow::Result<RoutedClassification> {
        let mut events = Vec::new();
        let mut cost = Decimal::ZERO;
        let ceiling = self.ceiling(store).await?;
        let configured = self.settings.configured_tiers();
        let canary = prompts::canary();
        let request = prompts::classification(
            &self.taxonomy,
            language,
            text,
            &canary,
            self.settings.classify_max_tokens,
        );
        let (mut tier, mut model) = (Tier::Local, "local".to_owned());
        let mut answer = local.clone();
        let mut kept: Option<i64> = None;
        let deadline = self.deadline();
        let mut down = false;
        let mut next = policy::classification_next(Tier::Local, local.confidence, &self.settings);
        if next.is_none() {
            events.push(route_event(
                "classify",
                &format!(
                    "Classification stays local: confidence {:.2} ≥ τ0 {:.2}",
                    local.confidence, self.settings.tau0
                ),
                "confident",
                Tier::Local,
            ));
        }
        while let Some(wanted) = next.take() {
            let fitted = policy::fit(&wanted, &ceiling, &configured, Fallback::Up);
            if fitted.tier <= tier {
                // The answer that stands: the last tier that answered, else the local one.
                let standing = if kept.is_some() { tier } else { Tier::Local };
                events.push(route_event(
                    "classify",
                    &format!("Classification stays {standing}: {}", fitted.why),
                    fitted.reason,
                    standing,
                ));
                break;
            }
            events.push(route_event(
                "classify",
                &format!("Classification escalates to {}: {}", fitted.tier, fitted.why),
                fitted.reason,
                fitted.tier,
            ));
            match self
                .call_tier(
                    store,
                    subject,
                    "classify",
                    fitted.tier,
                    &request,
                    deadline,
                    &mut events,
                    &mut cost,
                    |text| prompts::parse_classification(text, &self.taxonomy),
                )
                .await?
            {
                TierOutcome::Answer {
                    value,
                    call_id,
                    model: m,
                } => {
                    tier = fitted.tier;
                    model = m;
                    kept = Some(call_id);
                    answer = Classification {
                        intent: value.intent,
                        confidence: value.confidence,
                        ranked: vec![(value.intent, value.confidence)],
                    };
                    next = policy::classification_next(tier, value.confidence, &self.settings);
                }
                TierOutcome::Failed { down: tier_down } if fitted.tier < Tier::Standard => {
                    // A tier that cannot answer is no better than one in doubt.
                    down = tier_down;
                    tier = fitted.tier;
                    next = Some(Choice {
                        tier: Tier::Standard,
                        reason: "tier_failed",
                        why: format!("{} could not answer", fitted.tier),
                    });
                }
                TierOutcome::Failed { down: tier_down } => {
                    down = tier_down;
                    break;
                }
                TierOutcome::OverBudget => {
                    down = false;
                    break;
                }
            }
        }
        let estimate = prompts::estimate_tokens(&request.system) + prompts::estimate_tokens(&request.user);
        let free_calls = vec![Self::local_call(
            subject,
            "classify",
            "classifier",
            estimate,
            12,
            kept.is_none(),
        )];
        if let Some(id) = kept {
            store.mark_call_used(id).await?;
        }
        let tier = if kept.is_some() { tier } else { Tier::Local };
        Ok(RoutedClassification {
            classification: answer,
            tier,
            model,
            cost,
            events,
            degraded: kept.is_none() && down,
            free_calls,
        })
    }

    /// Drafts the reply on the tier the policy picks, checks it with `check` (the guardrails,
    /// given the draft and the canary), and re-drafts a failing standard draft once on flagship.
    #[tracing::instrument(skip_all, fields(message_id = task.subject.message_id))]
    pub async fn draft(
        &self,
        store: &Store,
        task: &DraftTask<'_>,
        check: impl Fn(&str, Option<&str>) -> Vec<Finding>,
    ) -> anyhow::Result<RoutedDraft> {
        let mut events = Vec::new();
        let mut cost = Decimal::ZERO;
        let wanted = policy::draft_tier(&task.facts, &self.settings);
        let ceiling = self.ceiling(store).await?;
        let configured = self.settings.configured_tiers();
        let fitted = policy::fit(&wanted, &ceiling, &configured, Fallback::Down);
        events.push(route_event(
            "draft",
            &format!("Draft on {}: {}", fitted.tier, fitted.why),
            fitted.reason,
            fitted.tier,
        ));
        let canary = prompts::canary();
        let request = prompts::draft(&task.input, &canary, self.settings.draft_max_tokens);
        let mut drafted: Option<(Tier, String, String, i64)> = None;
        let mut tier = fitted.tier;
        let mut tried = Vec::new();
        let deadline = self.deadline();
        let mut down = false;
        while tier != Tier::Local {
            tried.push(tier);
            match self
                .call_tier(
                    store,
                    task.subject,
                    "draft",
                    tier,
                    &request,
                    deadline,
                    &mut events,
                    &mut cost,
                    |t| prompts::parse_draft(t, &canary),
                )
                .await?
            {
                TierOutcome::Answer {
                    value,
                    call_id,
                    model,
                } => {
                    drafted = Some((tier, model, value.reply, call_id));
                    break;
                }
                TierOutcome::Failed { down: tier_down } => {
                    down = tier_down;
                    let up = Tier::HOSTED.into_iter().find(|t| {
                        *t > tier && *t <= ceiling.tier && configured.contains(t) && !tried.contains(t)
                    });
                    let to = up.unwrap_or(Tier::Local);
                    events.push(route_event(
                        "draft",
                        &format!("Draft escalates to {to}: {tier} could not answer"),
                        "tier_failed",
                        to,
                    ));
                    tier = to;
                }
                TierOutcome::OverBudget => {
                    down = false;
                    let to = policy::step_down(tier);
                    events.push(route_event(
                        "draft",
                        &format!("Draft steps down to {to}: the budget cannot cover {tier}"),
                        "budget",
                        to,
                    ));
                    tier = to;
                }
            }
        }
        let Some((tier, model, body, call_id)) = drafted else {
            let estimate =
                prompts::estimate_tokens(&request.system) + prompts::estimate_tokens(&request.user);
            let output = prompts::estimate_tokens(task.template_body);
            return Ok(RoutedDraft {
                findings: check(task.template_body, None),
                body: task.template_body.to_owned(),
                source: format!("template:{}", task.template_name),
                tier: Tier::Local,
                model: "templates".to_owned(),
                cost,
                events,
                canary: None,
                degraded: down,
                free_calls: vec![Self::local_call(
                    task.subject,
                    "draft",
                    "templates",
                    estimate,
                    output,
                    true,
                )],
            });
        };
        let findings = check(&body, Some(&canary));
        let mut result = RoutedDraft {
            source: format!("model:{tier}:{model}"),
            body,
            tier,
            model,
            findings,
            cost,
            events,
            canary: Some(canary),
            degraded: false,
            free_calls: Vec::new(),
        };
        let mut kept = call_id;
        if let AfterGuardrails::Redraft { tier: to, failures } =
            policy::after_guardrails(tier, &result.findings, false)
            && let Some((body, model, call_id)) = self
                .redraft(store, task, &mut result, to, &failures, &ceiling, &configured)
                .await?
        {
            kept = call_id;
            result.findings = check(&body, result.canary.as_deref());
            result.body = body;
            result.tier = to;
            result.source = format!("model:{to}:{model}");
            result.model = model;
            if let AfterGuardrails::HoldForPerson { failures } =
                policy::after_guardrails(to, &result.findings, true)
            {
                result.events.push(route_event(
                    "redraft",
                    &format!(
                        "The {to} re-draft failed too ({}); held for a person",
                        failures.join("; ")
                    ),
                    "redraft_failed",
                    to,
                ));
            }
        }
        store.mark_call_used(kept).await?;
        Ok(result)
    }

    /// Re-drafts on `to` with the reasons the last draft failed. Returns the new reply, its
    /// model and its call, or `None` when no re-draft could be made (the draft is then held).
    #[allow(clippy::too_many_arguments)]
    async fn redraft(
        &self,
        store: &Store,
        task: &DraftTask<'_>,
        result: &mut RoutedDraft,
        to: Tier,
        failures: &[String],
        ceiling: &Choice,
        configured: &[Tier],
    ) -> anyhow::Result<Option<(String, String, i64)>> {
        let wanted = Choice {
            tier: to,
            reason: "guardrail_failed",
            why: format!("the {} draft failed: {}", result.tier, failures.join("; ")),
        };
        let fitted = policy::fit(&wanted, ceiling, configured, Fallback::Down);
        if fitted.tier != to {
            result.events.push(route_event(
                "redraft",
                &format!(
                    "No re-draft on {to} ({}); the draft is held for a person",
                    fitted.why
                ),
                fitted.reason,
                result.tier,
            ));
            return Ok(None);
        }
        result.events.push(route_event(
            "redraft",
            &format!("Re-draft on {to}: {}", wanted.why),
            wanted.reason,
            to,
        ));
        let canary = result.canary.clone().unwrap_or_default();
        let input = DraftInput {
            failures,
            ..task.input
        };
        let request = prompts::draft(&input, &canary, self.settings.draft_max_tokens);
        let outcome = self
            .call_tier(
                store,
                task.subject,
                "redraft",
                to,
                &request,
                self.deadline(),
                &mut result.events,
                &mut result.cost,
                |t| prompts::parse_draft(t, &canary),
            )
            .await?;
        let TierOutcome::Answer {
            value,
            call_id,
            model,
        } = outcome
        else {
            result.events.push(route_event(
                "redraft",
                &format!("The {to} re-draft failed; the draft is held for a person"),
                "tier_failed",
                result.tier,
            ));
            return Ok(None);
        };
        Ok(Some((value.reply, model, call_id)))
    }
}

/// A routing decision for the trace.
fn route_event(task: &str, summary: &str, reason: &str, tier: Tier) -> NewEvent {
    NewEvent::new("route", summary.to_owned()).detail(json!({
        "task": task,
        "tier": tier,
        "reason": reason,
    }))
}
