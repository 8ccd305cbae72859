//! Degraded mode: a task whose whole chain of models is down is classified by the local model
//! and drafted from the templates. Such drafts are held for review unless their intent is in
//! `failover.degraded_auto_send_intents`; when providers come back, a held degraded draft
//! nobody has touched is drafted again by the models, without anyone having to act.

use crate::domain::Intent;
use crate::failover::BreakerState;
use crate::jobs::Outcome;
use crate::pipeline::decide::{Decision, HoldReason};
use crate::state::AppState;
use crate::store::NewEvent;
use serde_json::json;

/// The hold reason a degraded-mode draft carries.
pub const REASON: &str = "degraded_mode";

/// Holds a degraded-mode draft for review unless its intent may go on its own. Returns whether
/// it added the hold.
pub fn hold(decision: &mut Decision, intent: Intent, auto_send_intents: &[Intent]) -> bool {
    if auto_send_intents.contains(&intent) {
        return false;
    }
    decision.reasons.push(HoldReason {
        rule: "failover".to_owned(),
        reason: REASON.to_owned(),
        message: "every model for this task is down: classified locally and drafted from a \
                  template, to be drafted again when providers are back"
            .to_owned(),
        span: None,
    });
    decision.auto_send = false;
    true
}

/// A `resume_degraded` job: once providers are back, takes back the degraded draft nobody has
/// touched and runs the pipeline again; while they are still down, checks again later.
pub async fn resume(state: &AppState, message_id: i64) -> anyhow::Result<Outcome> {
    let settings = &state.settings.failover;
    if state.store.degraded_mode().await?.is_some() && !may_answer(state) {
        let at = state.clock().now() + chrono::Duration::seconds(settings.resume_check_secs as i64);
        return Ok(Outcome::Later(at, "providers are still down".to_owned()));
    }
    let conversation_id = state
        .store
        .inbound_context(message_id)
        .await?
        .map(|ctx| ctx.conversation_id);
    let Some(conversation_id) = conversation_id else {
        return Ok(Outcome::Failed(format!(
            "inbound message {message_id} does not exist"
        )));
    };
    let event = NewEvent::new(
        "resumed",
        "Providers are back: the degraded-mode draft is set aside and the message drafted again",
    )
    .on(message_id, conversation_id)
    .detail(json!({ "reason": REASON }));
    // Sets the degraded draft aside, unless a person reviewed it meanwhile (their decision
    // stands) or an earlier run of this job already did and was cut short before drafting
    // again. Either way the pipeline finishes the work: it leaves a message with a draft alone.
    state.store.reopen_degraded(message_id, event).await?;
    crate::pipeline::process_inbound(state, message_id).await
}

/// Whether some configured model's breaker would let a call through now (closed, or due for
/// its half-open probe). Breakers live per process: a process that has not seen a failure
/// yet (after a restart) tries.
fn may_answer(state: &AppState) -> bool {
    let entries = state.router.settings().tiers.all_entries();
    let views = state.breakers.snapshot();
    entries.iter().any(|entry| {
        views
            .iter()
            .find(|v| v.provider == entry.provider && v.model == entry.model)
            .is_none_or(|v| v.state != BreakerState::Open)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decision() -> Decision {
        Decision {
            auto_send: true,
            reasons: Vec::new(),
            send_after: None,
        }
    }

    #[test]
    fn degraded_drafts_are_held_unless_their_intent_may_go_alone() {
        let mut d = decision();
        assert!(hold(&mut d, Intent::Pricing, &[Intent::Greeting]));
        assert!(!d.auto_send);
        assert_eq!(d.reasons[0].reason, REASON);
        let mut d = decision();
        assert!(!hold(&mut d, Intent::Greeting, &[Intent::Greeting]));
        assert!(d.auto_send && d.reasons.is_empty());
    }
}
