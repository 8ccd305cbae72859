//! Sending approved replies, and following them to delivered and read. Every outbound message is
//! sent at most once: it is marked `sending` before the provider is called and resolved after.
//! A job that finds it still `sending` (its worker died mid-call) never calls the provider again;
//! the message becomes `unconfirmed` and waits for a status webhook or a person.
//!
//! Every outbound message carries one idempotency key, [`idempotency_key`], sent as WhatsApp's
//! `biz_opaque_callback_data`: Meta echoes it in the message's status webhooks, so a status for
//! a send whose answer we never recorded resolves the `unconfirmed` message. Rate limits
//! (130429, 131056) put the send off without counting an attempt. A closed 24-hour window
//! (WhatsApp 131047, Twilio 63016, or the window rule at send time) sends the channel's
//! approved re-engagement template instead.

use crate::channels::{self, SendError, StatusUpdate, Template};
use crate::gate::{self, AtSend};
use crate::jobs::Outcome;
use crate::state::AppState;
use crate::store::{NewEvent, OutboundRow};
use serde_json::json;

#[tracing::instrument(skip(state))]
pub async fn send(state: &AppState, outbound_id: i64) -> anyhow::Result<Outcome> {
    let store = &state.store;
    let Some(out) = store.outbound(outbound_id).await? else {
        return Ok(Outcome::Failed(format!(
            "outbound message {outbound_id} does not exist"
        )));
    };
    match out.status.as_str() {
        "queued" => {
            // The policy is checked again at send time: an opt-out, a closed 24-hour window or
            // the contact's night may have come since the reply was approved.
            let reply = gate::Reply {
                message_id: out.reply_to,
                body: &out.body,
                language: out.language.as_deref().and_then(|l| l.parse().ok()),
                confidence: None,
            };
            let findings = gate::check(state, &reply, state.clock().now())
                .await?
                .unwrap_or_default();
            match gate::at_send(&findings, out.policy_override.is_some()) {
                AtSend::Send => {}
                AtSend::Wait(until, why) => return Ok(Outcome::Later(until, why)),
                // Only the closed 24-hour window stands in the way: the template path.
                AtSend::Stop(why) if channels::is_whatsapp(&out.channel) && only_the_window(&findings) => {
                    if !store.claim_send(&out).await? {
                        return Ok(Outcome::Done);
                    }
                    return send_template_instead(state, &out, &why).await;
                }
                AtSend::Stop(why) => {
                    let event = NewEvent::new("send_blocked", format!("Not sent: {why}"))
                        .detail(json!({ "outbound_id": out.id, "findings": findings }));
                    store.mark_blocked(&out, &why, event).await?;
                    return Ok(Outcome::Done);
                }
            }
            if !store.claim_send(&out).await? {
                return Ok(Outcome::Done);
            }
        }
        "sending" => {
            let why = "the worker stopped during the send: the provider may or may not have it";
            let event = NewEvent::new("send_unconfirmed", format!("Not resent: {why}"))
                .detail(json!({ "outbound_id": out.id }));
            store.mark_unconfirmed(&out, why, event).await?;
            return Ok(Outcome::Done);
        }
        _ => return Ok(Outcome::Done),
    }

    // Dispatch on the message's channel; what follows is the same for every channel.
    let result = channels::send(state, &out, &idempotency_key(out.id)).await;
    let channel = channel_name(&out.channel);
    match result {
        Ok(external_id) => {
            let event = NewEvent::new("sent", format!("Sent through {channel} as {external_id}"))
                .detail(json!({ "outbound_id": out.id, "external_id": external_id, "channel": out.channel }));
            store.mark_sent(&out, &external_id, event).await?;
            Ok(Outcome::Done)
        }
        Err(SendError::NotConfigured(why)) => {
            let event = NewEvent::new(
                "channel_not_configured",
                format!("Not sent: the {channel} channel is not configured"),
            )
            .detail(json!({ "outbound_id": out.id, "error": why }));
            store.mark_unsent(&out, "not_configured", &why, event).await?;
            Ok(Outcome::Done)
        }
        Err(SendError::WindowClosed(why)) => {
            // Re-engagement required (WhatsApp 131047, Twilio 63016): more than 24 h since the
            // customer last wrote.
            send_template_instead(state, &out, &why).await
        }
        Err(error) if error.outcome_unknown() => {
            let event = NewEvent::new(
                "send_unconfirmed",
                format!("Not resent, outcome unknown: {error}"),
            )
            .detail(json!({ "outbound_id": out.id, "error": error.to_string() }));
            store.mark_unconfirmed(&out, &error.to_string(), event).await?;
            Ok(Outcome::Done)
        }
        Err(SendError::RateLimited {
            message,
            per_recipient,
        }) => {
            // A throughput limit (WhatsApp 130429) or one on this recipient (131056): wait,
            // without spending an attempt, and with jitter so a backlog does not come back all
            // at once.
            let (floor, spread) = if per_recipient { (60, 60) } else { (20, 20) };
            let wait = floor + rand::random::<u64>() % spread;
            let event = NewEvent::new(
                "send_attempt",
                format!("{channel} rate limit: sending again in {wait} s ({message})"),
            )
            .detail(json!({ "outbound_id": out.id, "error": message, "wait_secs": wait, "retryable": true }));
            store.requeue_send(&out, event).await?;
            let at = state.clock().now() + chrono::Duration::seconds(wait as i64);
            Ok(Outcome::Later(at, format!("{channel} rate limit")))
        }
        Err(error) if error.is_retryable() => {
            let event = NewEvent::new(
                "send_attempt",
                format!("Send attempt failed, will retry: {error}"),
            )
            .detail(json!({ "outbound_id": out.id, "error": error.to_string(), "retryable": true }));
            store.requeue_send(&out, event).await?;
            Ok(Outcome::Retry(error.to_string()))
        }
        Err(error) => {
            let event = NewEvent::new("send_failed", format!("Send failed: {error}"))
                .detail(json!({ "outbound_id": out.id, "error": error.to_string(), "retryable": false }));
            store
                .mark_unsent(&out, "failed", &error.to_string(), event)
                .await?;
            Ok(Outcome::Done)
        }
    }
}

/// The channel's name for people, in trace summaries.
fn channel_name(channel: &str) -> &str {
    match channel {
        channels::WHATSAPP => "WhatsApp",
        channels::TWILIO => "Twilio WhatsApp",
        channels::EMAIL => "email",
        other => other,
    }
}

/// Whether every binding finding is the closed WhatsApp window (and not, say, an opt-out).
fn only_the_window(findings: &[crate::guardrails::Finding]) -> bool {
    let mut blocking = findings
        .iter()
        .filter(|f| f.verdict == crate::guardrails::Verdict::Block && f.hold_until.is_none())
        .peekable();
    blocking.peek().is_some() && blocking.all(|f| f.rule == "whatsapp_window")
}

/// The template path: the 24-hour window has closed, so the free-text reply cannot go. The
/// channel's approved re-engagement template goes instead (under the same idempotency key),
/// inviting the customer to write again; without one configured, the reply fails with the
/// reason, for a person. `out` must already be marked `sending`.
async fn send_template_instead(state: &AppState, out: &OutboundRow, why: &str) -> anyhow::Result<Outcome> {
    let store = &state.store;
    let template = match Template::reengagement(&state.settings, &out.channel, out.language.as_deref()) {
        Ok(template) => template,
        Err(missing) => {
            let error = format!("template required ({why}); {missing}");
            let event = NewEvent::new("send_failed", format!("Not sent: {error}"))
                .detail(json!({ "outbound_id": out.id, "error": error, "retryable": false, "template_required": true }));
            store.mark_unsent(out, "failed", &error, event).await?;
            return Ok(Outcome::Done);
        }
    };
    let result = channels::send_template(state, out, &template, &idempotency_key(out.id)).await;
    match result {
        Ok(external_id) => {
            let mut detail = template.detail();
            detail["outbound_id"] = json!(out.id);
            detail["external_id"] = json!(external_id);
            detail["channel"] = json!(out.channel);
            let event = NewEvent::new(
                "sent_template",
                format!(
                    "Sent the approved template {} instead of the reply: {why}",
                    template.describe()
                ),
            )
            .detail(detail);
            store.mark_sent(out, &external_id, event).await?;
        }
        Err(error) if error.outcome_unknown() => {
            let event = NewEvent::new(
                "send_unconfirmed",
                format!("Template not resent, outcome unknown: {error}"),
            )
            .detail(
                json!({ "outbound_id": out.id, "error": error.to_string(), "template": template.detail() }),
            );
            store.mark_unconfirmed(out, &error.to_string(), event).await?;
        }
        Err(error) => {
            let event = NewEvent::new(
                "send_failed",
                format!("Template {} failed: {error}", template.describe()),
            )
            .detail(json!({ "outbound_id": out.id, "error": error.to_string(), "retryable": false, "template": template.detail() }));
            store
                .mark_unsent(out, "failed", &format!("template send failed: {error}"), event)
                .await?;
        }
    }
    Ok(Outcome::Done)
}

/// The idempotency key of outbound message `id`: the same on every attempt to send it.
pub fn idempotency_key(outbound_id: i64) -> String {
    format!("tuesday-out-{outbound_id}")
}

fn outbound_id_of(key: &str) -> Option<i64> {
    key.strip_prefix("tuesday-out-")?.parse().ok()
}

/// Applies a status report. One for a message we have not recorded yet (its send is still
/// being written) is retried rather than dropped; one whose idempotency key names an
/// `unconfirmed` send first resolves that send as sent, with the provider's id.
pub async fn apply_status(state: &AppState, update: &StatusUpdate) -> anyhow::Result<Outcome> {
    let store = &state.store;
    if store.apply_status(update).await?.is_some() {
        return Ok(Outcome::Done);
    }
    if let Some(id) = update.callback_data.as_deref().and_then(outbound_id_of)
        && let Some(out) = store.outbound(id).await?
        && matches!(out.status.as_str(), "unconfirmed" | "sending")
    {
        let event = NewEvent::new(
            "send_confirmed",
            format!(
                "Confirmed by WhatsApp's {} status: sent as {}",
                update.status.as_str(),
                update.external_id
            ),
        )
        .detail(json!({ "outbound_id": out.id, "external_id": update.external_id, "was": out.status }));
        store.mark_sent(&out, &update.external_id, event).await?;
        if store.apply_status(update).await?.is_some() {
            return Ok(Outcome::Done);
        }
    }
    Ok(Outcome::Retry(format!(
        "no outbound message with id {} yet",
        update.external_id
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_idempotency_key_names_its_message() {
        assert_eq!(outbound_id_of(&idempotency_key(42)), Some(42));
        assert_eq!(outbound_id_of("tuesday-out-x"), None);
        assert_eq!(outbound_id_of("someone-else-42"), None);
    }
}
