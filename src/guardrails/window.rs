//! WhatsApp's customer-service window: free text only within 24 hours of the contact's last
//! message; after that, only an approved template may open the conversation again.

use super::{Context, Finding};
use chrono::Duration;

const RULE: &str = "whatsapp_window";

pub fn check(context: &Context<'_>) -> Finding {
    if !crate::channels::is_whatsapp(context.channel) {
        return Finding::pass(
            RULE,
            "not_whatsapp",
            format!("{} has no 24-hour window", context.channel),
        );
    }
    if let Some(template) = context.template {
        return Finding::pass(
            RULE,
            "approved_template",
            format!("sent as the approved template {template}"),
        );
    }
    let Some(history) = &context.history else {
        return Finding::pass(
            RULE,
            "history_not_supplied",
            "no message history given: the window was not checked",
        );
    };
    let hours = context.policy.file.whatsapp_window.hours;
    match history.last_inbound {
        Some(last) if context.now - last < Duration::hours(i64::from(hours)) => Finding::pass(
            RULE,
            "within_window",
            format!(
                "the contact wrote {} minutes ago",
                (context.now - last).num_minutes()
            ),
        ),
        Some(last) => Finding::block(
            RULE,
            "template_required",
            format!(
                "the contact last wrote {} hours ago, more than {hours}: only an approved template may be sent",
                (context.now - last).num_hours()
            ),
        ),
        None => Finding::block(
            RULE,
            "template_required",
            "the contact never wrote to us: only an approved template may be sent",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Language;
    use crate::guardrails::History;
    use crate::guardrails::testing::{context, tuesday};

    #[test]
    fn free_text_only_inside_the_window() {
        let now = tuesday();
        let cases = [
            (Some(now - Duration::minutes(5)), None, "within_window"),
            (
                Some(now - Duration::hours(23) - Duration::minutes(59)),
                None,
                "within_window",
            ),
            (Some(now - Duration::hours(24)), None, "template_required"),
            (Some(now - Duration::days(3)), None, "template_required"),
            (None, None, "template_required"),
            (
                Some(now - Duration::days(3)),
                Some("course_reminder"),
                "approved_template",
            ),
        ];
        for (last_inbound, template, want) in cases {
            let mut ctx = context("BR", Language::Pt).with_history(History {
                last_inbound,
                ..History::default()
            });
            if let Some(template) = template {
                ctx = ctx.with_template(template);
            }
            assert_eq!(check(&ctx).reason, want, "{last_inbound:?} {template:?}");
        }
        assert_eq!(check(&context("BR", Language::Pt)).reason, "history_not_supplied");
        // Twilio carries WhatsApp too; email has no window.
        let closed = History {
            last_inbound: Some(now - Duration::days(3)),
            ..History::default()
        };
        let on = |channel| {
            check(
                &context("BR", Language::Pt)
                    .with_channel(channel)
                    .with_history(closed.clone()),
            )
            .reason
        };
        assert_eq!(on(crate::channels::TWILIO), "template_required");
        assert_eq!(on(crate::channels::EMAIL), "not_whatsapp");
    }
}
