//! Hand over to a person when the classifier is unsure.

use super::{Context, Finding, Verdict};

pub fn check(context: &Context<'_>) -> Option<Finding> {
    let below = context.confidence < context.confidence_threshold;
    Some(Finding {
        rule: "confidence",
        verdict: if below { Verdict::Hold } else { Verdict::Pass },
        reason: if below { "low_confidence" } else { "confident" },
        message: format!(
            "classification confidence {:.2} is {} the threshold {:.2}",
            context.confidence,
            if below { "below" } else { "at or above" },
            context.confidence_threshold
        ),
        span: None,
    })
}
