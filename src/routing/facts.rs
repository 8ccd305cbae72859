//! Gathers what the drafting policy and prompt need to know about a message's conversation
//! and contact: the thread, the contact's last reviewed draft, the value of the lead.

use super::policy::{DraftFacts, PreviousDraft};
use crate::catalog::Catalog;
use crate::domain::{Currency, Intent};
use crate::store::{InboundContext, ReviewedDraft, Store};

/// How many of the latest messages a drafting prompt sees.
const THREAD_IN_PROMPT: usize = 12;

/// The facts, and the thread for the prompt: (`customer` or `us`, text), oldest first.
pub async fn gather(
    store: &Store,
    catalog: &Catalog,
    ctx: &InboundContext,
    intent: Intent,
    is_text: bool,
    heavy_edit_ratio: f64,
) -> anyhow::Result<(DraftFacts, Vec<(&'static str, String)>)> {
    let thread = store.thread(ctx.conversation_id).await?;
    let upto: Vec<_> = thread.iter().filter(|m| m.id <= ctx.message_id).collect();
    let inbound_text: Vec<&str> = upto
        .iter()
        .filter(|m| m.direction == "in")
        .map(|m| m.body.as_str())
        .collect();
    let lead_value_usd = catalog
        .find_courses(&inbound_text.join("\n"))
        .iter()
        .filter_map(|c| c.price(Currency::Usd).map(|p| p.amount))
        .max();
    let previous = store
        .last_reviewed_draft(ctx.contact_id, ctx.message_id)
        .await?
        .map_or(PreviousDraft::Fine, |d| judge(&d, heavy_edit_ratio));
    let facts = DraftFacts {
        intent,
        is_text,
        message_chars: ctx.body.chars().count(),
        courses_named: catalog.find_courses(&ctx.body).len(),
        thread_messages: upto.len() as i64,
        lead_value_usd,
        previous,
        window_closed: false,
    };
    let prompt_thread = upto
        .iter()
        .skip(upto.len().saturating_sub(THREAD_IN_PROMPT))
        .map(|m| {
            (
                if m.direction == "in" { "customer" } else { "us" },
                m.body.clone(),
            )
        })
        .collect();
    Ok((facts, prompt_thread))
}

/// A rejected draft, or one a person rewrote by at least `heavy` of its characters.
pub fn judge(draft: &ReviewedDraft, heavy: f64) -> PreviousDraft {
    if draft.state == "rejected" {
        return PreviousDraft::Rejected;
    }
    let Some(final_body) = draft.final_body.as_deref() else {
        return PreviousDraft::Fine;
    };
    let changed = crate::text::edit_share(&draft.body, final_body);
    if changed >= heavy {
        PreviousDraft::HeavilyEdited(changed)
    } else {
        PreviousDraft::Fine
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reviewed(state: &str, body: &str, final_body: Option<&str>) -> ReviewedDraft {
        ReviewedDraft {
            state: state.to_owned(),
            body: body.to_owned(),
            final_body: final_body.map(str::to_owned),
        }
    }

    #[test]
    fn judges_rejections_and_heavy_edits() {
        let body = "Hola, el curso cuesta 279 €. ¿Te envío el enlace?";
        assert_eq!(
            judge(&reviewed("rejected", body, None), 0.4),
            PreviousDraft::Rejected
        );
        assert_eq!(
            judge(&reviewed("approved", body, Some(body)), 0.4),
            PreviousDraft::Fine
        );
        let light = "Hola, el curso cuesta 279 €. ¿Te envío el enlace ahora?";
        assert_eq!(
            judge(&reviewed("approved", body, Some(light)), 0.4),
            PreviousDraft::Fine
        );
        let rewritten = "Buenas tardes Marta: te llamo mañana para contarte todo.";
        assert!(matches!(
            judge(&reviewed("approved", body, Some(rewritten)), 0.4),
            PreviousDraft::HeavilyEdited(share) if share >= 0.4
        ));
    }
}
