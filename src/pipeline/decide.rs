//! The last stage: send on our own, or hold for a person.

use crate::domain::Intent;
use crate::eval::gate::GateStatus;
use crate::guardrails::{Finding, Verdict};
use chrono::{DateTime, Utc};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    pub auto_send: bool,
    /// Why the draft is held for a person; empty when it is sent.
    pub reasons: Vec<HoldReason>,
    /// A send that may go without a person but not yet (outside sending hours, over the daily
    /// limit) waits in the queue until then.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub send_after: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HoldReason {
    pub rule: String,
    pub reason: String,
    pub message: String,
    pub span: Option<(usize, usize)>,
}

/// Auto-send only when no guardrail needs a person, the intent is on the auto-send list and
/// the evaluation gate is open. Holds that only mean "not yet" (they carry `hold_until`) set
/// `send_after` instead. A draft the gate alone holds is a shadow send: what the agent would
/// have sent on its own.
pub fn decide(
    intent: Intent,
    findings: &[Finding],
    auto_send_intents: &[Intent],
    gate: &GateStatus,
) -> Decision {
    let send_after = findings
        .iter()
        .filter(|f| f.verdict != Verdict::Pass)
        .filter_map(|f| f.hold_until)
        .max();
    let mut reasons: Vec<HoldReason> = findings
        .iter()
        .filter(|f| f.verdict != Verdict::Pass && f.hold_until.is_none())
        .map(|f| HoldReason {
            rule: f.rule.to_owned(),
            reason: f.reason.to_owned(),
            message: f.message.clone(),
            span: f.span,
        })
        .collect();
    if !auto_send_intents.contains(&intent) {
        reasons.push(HoldReason {
            rule: "policy".to_owned(),
            reason: "intent_needs_review".to_owned(),
            message: format!("{intent} replies are reviewed by a person"),
            span: None,
        });
    }
    if reasons.is_empty()
        && let GateStatus::Closed { why } = gate
    {
        reasons.push(HoldReason {
            rule: "evaluation".to_owned(),
            reason: "shadow_mode".to_owned(),
            message: format!("would have been sent on its own, but auto-send is off: {why}"),
            span: None,
        });
    }
    Decision {
        auto_send: reasons.is_empty(),
        reasons,
        send_after,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(verdict: Verdict) -> Finding {
        Finding {
            rule: "prices",
            verdict,
            reason: "r",
            message: "m".into(),
            span: None,
            hold_until: None,
        }
    }

    #[test]
    fn sends_only_clean_drafts_of_allowed_intents() {
        let allowed = [Intent::Greeting, Intent::Pricing];
        assert!(
            decide(
                Intent::Greeting,
                &[finding(Verdict::Pass)],
                &allowed,
                &GateStatus::Off
            )
            .auto_send
        );
        let held = decide(
            Intent::Complaint,
            &[finding(Verdict::Pass)],
            &allowed,
            &GateStatus::Off,
        );
        assert!(!held.auto_send);
        assert_eq!(held.reasons[0].reason, "intent_needs_review");
        assert!(
            !decide(
                Intent::Pricing,
                &[finding(Verdict::Hold)],
                &allowed,
                &GateStatus::Off
            )
            .auto_send
        );
        assert!(
            !decide(
                Intent::Pricing,
                &[finding(Verdict::Block)],
                &allowed,
                &GateStatus::Off
            )
            .auto_send
        );
    }

    #[test]
    fn a_closed_gate_holds_what_would_have_been_sent_and_nothing_else_changes() {
        let allowed = [Intent::Greeting];
        let closed = GateStatus::Closed {
            why: "the latest evaluation scored 77.2%".into(),
        };
        let shadow = decide(Intent::Greeting, &[finding(Verdict::Pass)], &allowed, &closed);
        assert!(!shadow.auto_send);
        assert_eq!(shadow.reasons.len(), 1);
        assert_eq!(shadow.reasons[0].reason, "shadow_mode");
        assert!(shadow.reasons[0].message.contains("77.2%"));
        let held = decide(Intent::Complaint, &[finding(Verdict::Pass)], &allowed, &closed);
        assert_eq!(held.reasons.len(), 1, "a draft held anyway is not a shadow send");
        assert_eq!(held.reasons[0].reason, "intent_needs_review");
        let open = GateStatus::Open {
            run_id: 1,
            accuracy: 0.95,
        };
        assert!(decide(Intent::Greeting, &[finding(Verdict::Pass)], &allowed, &open).auto_send);
    }

    #[test]
    fn a_not_yet_hold_waits_instead_of_asking_a_person() {
        let allowed = [Intent::Greeting];
        let opens: DateTime<Utc> = "2027-01-13T08:00:00Z".parse().expect("instant");
        let mut later = finding(Verdict::Hold);
        later.hold_until = Some(opens);
        let decision = decide(
            Intent::Greeting,
            &[finding(Verdict::Pass), later],
            &allowed,
            &GateStatus::Off,
        );
        assert!(decision.auto_send && decision.reasons.is_empty());
        assert_eq!(decision.send_after, Some(opens));
    }
}
