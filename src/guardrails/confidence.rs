//! Hand over to a person when the classifier is unsure.

use super::{Context, Finding};

const RULE: &str = "confidence";

pub fn check(context: &Context<'_>) -> Option<Finding> {
    let below = context.confidence < context.confidence_threshold;
    let message = format!(
        "classification confidence {:.2} is {} the threshold {:.2}",
        context.confidence,
        if below { "below" } else { "at or above" },
        context.confidence_threshold
    );
    Some(if below {
        Finding::hold(RULE, "low_confidence", message)
    } else {
        Finding::pass(RULE, "confident", message)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Language;
    use crate::guardrails::testing::context;

    #[test]
    fn holds_below_the_threshold() {
        for (confidence, want) in [(0.3, "low_confidence"), (0.6, "confident"), (0.95, "confident")] {
            let ctx = context("ES", Language::Es).with_confidence(confidence, 0.6);
            assert_eq!(check(&ctx).map(|f| f.reason), Some(want), "{confidence}");
        }
    }
}
