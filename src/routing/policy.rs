//! The routing policy: which tier does each task, and why. Pure functions of what is known
//! about the message, the contact and the budget; no I/O. Every answer carries a machine
//! reason and a sentence for the trace.

use super::{RoutingSettings, SimpleDrafts, Tier};
use crate::domain::Intent;
use crate::guardrails::{Finding, Verdict};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::Serialize;

/// A tier chosen for a task, with the rule that chose it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Choice {
    pub tier: Tier,
    /// Machine-readable: `below_tau0`, `complaint`, `budget`, …
    pub reason: &'static str,
    /// For people, in English.
    pub why: String,
}

impl Choice {
    fn new(tier: Tier, reason: &'static str, why: impl Into<String>) -> Choice {
        Choice {
            tier,
            reason,
            why: why.into(),
        }
    }
}

/// After `tier` classified a message with `confidence`: the next tier to ask, if any.
/// Local escalates to fast below τ0; fast escalates to standard below τ1; standard is final.
pub fn classification_next(tier: Tier, confidence: f64, settings: &RoutingSettings) -> Option<Choice> {
    match tier {
        Tier::Local if confidence < settings.tau0 => Some(Choice::new(
            Tier::Fast,
            "below_tau0",
            format!(
                "local confidence {confidence:.2} is below τ0 {:.2}",
                settings.tau0
            ),
        )),
        Tier::Fast if confidence < settings.tau1 => Some(Choice::new(
            Tier::Standard,
            "below_tau1",
            format!("fast confidence {confidence:.2} is below τ1 {:.2}", settings.tau1),
        )),
        _ => None,
    }
}

/// What the contact's last reviewed draft tells us.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PreviousDraft {
    /// No earlier draft, or one sent as written (or lightly edited).
    Fine,
    Rejected,
    /// Approved after a person changed this share of it.
    HeavilyEdited(f64),
}

/// What drafting's rules look at.
#[derive(Debug, Clone, PartialEq)]
pub struct DraftFacts {
    pub intent: Intent,
    /// Text the customer typed (text, button, interactive); media and the like are not.
    pub is_text: bool,
    pub message_chars: usize,
    /// Catalog courses named in the message.
    pub courses_named: usize,
    /// Messages in the conversation so far, both directions, this one included.
    pub thread_messages: i64,
    /// The highest USD list price among the courses the contact asked about.
    pub lead_value_usd: Option<Decimal>,
    pub previous: PreviousDraft,
    /// More than the WhatsApp window since the contact last wrote: no free text may go.
    pub window_closed: bool,
}

/// The tier that should draft the reply, before budget and availability have their say.
pub fn draft_tier(facts: &DraftFacts, settings: &RoutingSettings) -> Choice {
    let simple = match settings.simple_drafts {
        SimpleDrafts::Templates => Tier::Local,
        SimpleDrafts::Fast => Tier::Fast,
    };
    let plain_price = facts.intent == Intent::Pricing
        && facts.courses_named <= 1
        && facts.message_chars <= settings.plain_question_max_chars;
    if !facts.is_text {
        return Choice::new(Tier::Local, "not_text", "not a text message: template reply");
    }
    if facts.window_closed {
        // The outbox sends the approved template instead: a model's draft could never go.
        return Choice::new(
            Tier::Local,
            "window_closed",
            "the 24-hour window has closed: only a template can go, so no model drafts",
        );
    }
    if facts.intent == Intent::OptOut {
        return Choice::new(simple, "simple_intent", "opt-out: the fixed confirmation");
    }
    if facts.intent == Intent::Complaint {
        return Choice::new(Tier::Flagship, "complaint", "complaints are drafted on flagship");
    }
    match facts.previous {
        PreviousDraft::Rejected => {
            return Choice::new(
                Tier::Flagship,
                "previous_rejected",
                "the contact's previous draft was rejected",
            );
        }
        PreviousDraft::HeavilyEdited(share) => {
            return Choice::new(
                Tier::Flagship,
                "previous_heavily_edited",
                format!("the contact's previous draft was {:.0}% rewritten", share * 100.0),
            );
        }
        PreviousDraft::Fine => {}
    }
    if facts.intent == Intent::Greeting || plain_price {
        return Choice::new(
            simple,
            "simple_intent",
            format!("a simple {} message", facts.intent),
        );
    }
    if facts.thread_messages >= settings.long_thread_messages {
        return Choice::new(
            Tier::Flagship,
            "long_thread",
            format!("a long thread ({} messages)", facts.thread_messages),
        );
    }
    if let Some(value) = facts.lead_value_usd.filter(|v| *v >= settings.high_value_usd) {
        return Choice::new(
            Tier::Flagship,
            "high_value_lead",
            format!("a high-value lead (a US$ {value} course)"),
        );
    }
    Choice::new(Tier::Standard, "default", "standard drafts by default")
}

/// Spend so far against the limits, reservations for calls in flight included.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BudgetState {
    pub spent_today: Decimal,
    pub spent_month: Decimal,
    pub daily_limit: Decimal,
    pub monthly_limit: Decimal,
}

impl BudgetState {
    /// The larger of the two shares used, as a fraction (1.0 = a limit reached).
    pub fn used_share(&self) -> f64 {
        let share = |spent: Decimal, limit: Decimal| {
            if limit <= Decimal::ZERO {
                f64::INFINITY
            } else {
                (spent / limit).to_f64().unwrap_or(f64::INFINITY)
            }
        };
        share(self.spent_today, self.daily_limit).max(share(self.spent_month, self.monthly_limit))
    }

    /// Whether a call that costs at most `worst_case` keeps both limits.
    pub fn fits(&self, worst_case: Decimal) -> bool {
        self.spent_today + worst_case <= self.daily_limit
            && self.spent_month + worst_case <= self.monthly_limit
    }
}

/// The highest tier the budget allows now: near a limit the tier steps down instead of failing.
pub fn budget_ceiling(state: &BudgetState, settings: &RoutingSettings) -> Choice {
    let used = state.used_share();
    let [to_standard, to_fast, to_local] = settings.budget.step_down_at;
    let percent = (used * 100.0).min(999.0);
    if used >= to_local {
        Choice::new(
            Tier::Local,
            "budget",
            format!("{percent:.0}% of the budget used: local only"),
        )
    } else if used >= to_fast {
        Choice::new(
            Tier::Fast,
            "budget",
            format!("{percent:.0}% of the budget used: fast at most"),
        )
    } else if used >= to_standard {
        Choice::new(
            Tier::Standard,
            "budget",
            format!("{percent:.0}% of the budget used: standard at most"),
        )
    } else {
        Choice::new(
            Tier::Flagship,
            "within_budget",
            format!("{percent:.0}% of the budget used"),
        )
    }
}

/// Which way to move when the wanted tier has no model: drafting steps down (a cheaper answer
/// beats none); classification escalating on doubt steps up (a cheaper tier already doubted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fallback {
    Down,
    Up,
}

/// The tier actually used for `wanted`: capped by the budget `ceiling`, then moved to a tier that
/// has models. `Local` when nothing fits.
pub fn fit(wanted: &Choice, ceiling: &Choice, configured: &[Tier], fallback: Fallback) -> Choice {
    if wanted.tier == Tier::Local {
        return wanted.clone();
    }
    let mut choice = if wanted.tier > ceiling.tier {
        Choice::new(ceiling.tier, "budget", format!("{}; {}", wanted.why, ceiling.why))
    } else {
        wanted.clone()
    };
    if choice.tier == Tier::Local || configured.contains(&choice.tier) {
        return choice;
    }
    let found = match fallback {
        Fallback::Down => configured.iter().rev().find(|t| **t < choice.tier).copied(),
        Fallback::Up => configured
            .iter()
            .find(|t| **t > choice.tier && **t <= ceiling.tier)
            .copied(),
    };
    let missing = choice.tier;
    choice.tier = found.unwrap_or(Tier::Local);
    choice.reason = "not_configured";
    choice.why = format!("{}; no {missing} model is configured", choice.why);
    choice
}

/// The next tier down, as the budget steps: flagship → standard → fast → local.
pub fn step_down(tier: Tier) -> Tier {
    match tier {
        Tier::Flagship => Tier::Standard,
        Tier::Standard => Tier::Fast,
        Tier::Fast | Tier::Local => Tier::Local,
    }
}

/// Rules that judge the circumstances rather than the draft's words: a re-draft cannot fix them.
const CONTEXT_RULES: [&str; 5] = [
    "confidence",
    "sending_hours",
    "whatsapp_window",
    "rate",
    "opt_out",
];

/// What to do once the guardrails have judged a draft.
#[derive(Debug, Clone, PartialEq)]
pub enum AfterGuardrails {
    Keep,
    /// Draft again on this tier, telling the model what failed.
    Redraft {
        tier: Tier,
        failures: Vec<String>,
    },
    /// The re-draft failed too: a person takes over (the draft is held).
    HoldForPerson {
        failures: Vec<String>,
    },
}

/// A standard draft that fails a guardrail on its wording is re-drafted once on flagship with
/// the reasons; if that fails too, a person takes over.
pub fn after_guardrails(tier: Tier, findings: &[Finding], redrafted: bool) -> AfterGuardrails {
    let failures: Vec<String> = findings
        .iter()
        .filter(|f| f.verdict != Verdict::Pass && !CONTEXT_RULES.contains(&f.rule))
        .map(|f| format!("{} ({}): {}", f.rule, f.reason, f.message))
        .collect();
    if failures.is_empty() {
        AfterGuardrails::Keep
    } else if redrafted {
        AfterGuardrails::HoldForPerson { failures }
    } else if tier == Tier::Standard {
        AfterGuardrails::Redraft {
            tier: Tier::Flagship,
            failures,
        }
    } else {
        AfterGuardrails::Keep
    }
}

#[cfg(test)]
mod tests;
