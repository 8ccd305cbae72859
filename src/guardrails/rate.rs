//! At most N outbound messages per contact per local day, and never the same text twice in a
//! row. Over the daily limit the send waits for the contact's next day.

use super::sending_hours::next_local_midnight;
use super::{Context, Finding};

const RULE: &str = "rate";

/// Case, accents and spacing don't make a message different.
fn normalise(text: &str) -> String {
    crate::text::tokens(&crate::text::fold(text)).join(" ")
}

pub fn check(draft: &str, context: &Context<'_>) -> Vec<Finding> {
    let Some(history) = &context.history else {
        return vec![Finding::pass(
            RULE,
            "history_not_supplied",
            "no message history given: the rate was not checked",
        )];
    };
    let mut findings = Vec::new();
    if history
        .previous_outbound
        .is_some_and(|previous| normalise(previous) == normalise(draft))
    {
        findings.push(
            Finding::block(
                RULE,
                "repeated_text",
                "the same text as the last message we sent this contact",
            )
            .at((0, draft.len())),
        );
    }
    let max = context.policy.file.rate.max_per_day;
    if history.outbound_today >= max {
        let finding = Finding::hold(
            RULE,
            "daily_limit_reached",
            format!(
                "{} messages already sent today; the limit is {max}",
                history.outbound_today
            ),
        );
        findings.push(match next_local_midnight(context.timezone(), context.now) {
            Some(at) => finding.until(at),
            None => finding,
        });
    }
    if findings.is_empty() {
        findings.push(Finding::pass(
            RULE,
            "within_rate",
            format!("{} of {max} messages today", history.outbound_today),
        ));
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Language;
    use crate::guardrails::History;
    use crate::guardrails::Verdict::{Block, Hold};
    use crate::guardrails::testing::{context, problems};

    #[test]
    fn limits_per_day_and_repeats() {
        let draft = "¡Hola! ¿En qué te ayudo?";
        type Problems = &'static [(crate::guardrails::Verdict, &'static str)];
        let cases: &[(u32, Option<&str>, Problems)] = &[
            (0, None, &[]),
            (5, Some("Hola, ¿te ayudo?"), &[]),
            (6, None, &[(Hold, "daily_limit_reached")]),
            (1, Some("¡HOLA!  ¿en que te ayudo?"), &[(Block, "repeated_text")]),
            (
                9,
                Some("¡Hola! ¿En qué te ayudo?"),
                &[(Block, "repeated_text"), (Hold, "daily_limit_reached")],
            ),
        ];
        for (count, previous, want) in cases {
            let ctx = context("MX", Language::Es).with_history(History {
                outbound_today: *count,
                previous_outbound: *previous,
                ..History::default()
            });
            assert_eq!(problems(&check(draft, &ctx)), *want, "{count} {previous:?}");
        }
    }

    #[test]
    fn the_limit_lifts_at_the_contacts_midnight() {
        let ctx = context("MX", Language::Es).with_history(History {
            outbound_today: 6,
            ..History::default()
        });
        let held = check("hola", &ctx);
        // 2027-01-12 11:00 in Mexico City; midnight there is 06:00 UTC on the 13th.
        assert_eq!(held[0].hold_until, "2027-01-13T06:00:00Z".parse().ok());
    }
}
