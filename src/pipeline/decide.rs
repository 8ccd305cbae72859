//! The last stage: send on our own, or hold for a person.

use crate::domain::Intent;
use crate::guardrails::{Finding, Verdict, overall};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    pub auto_send: bool,
    /// Why the draft is held; empty when it is sent.
    pub reasons: Vec<HoldReason>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HoldReason {
    pub rule: String,
    pub reason: String,
    pub message: String,
    pub span: Option<(usize, usize)>,
}

/// Auto-send only when every guardrail passed and the intent is on the auto-send list.
pub fn decide(intent: Intent, findings: &[Finding], auto_send_intents: &[Intent]) -> Decision {
    let mut reasons: Vec<HoldReason> = findings
        .iter()
        .filter(|f| f.verdict != Verdict::Pass)
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
    Decision {
        auto_send: overall(findings) == Verdict::Pass && reasons.is_empty(),
        reasons,
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
        }
    }

    #[test]
    fn sends_only_clean_drafts_of_allowed_intents() {
        let allowed = [Intent::Greeting, Intent::Pricing];
        assert!(decide(Intent::Greeting, &[finding(Verdict::Pass)], &allowed).auto_send);
        let held = decide(Intent::Complaint, &[finding(Verdict::Pass)], &allowed);
        assert!(!held.auto_send);
        assert_eq!(held.reasons[0].reason, "intent_needs_review");
        assert!(!decide(Intent::Pricing, &[finding(Verdict::Hold)], &allowed).auto_send);
        assert!(!decide(Intent::Pricing, &[finding(Verdict::Block)], &allowed).auto_send);
    }
}
