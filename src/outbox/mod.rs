//! Sending approved replies, and following them to delivered and read. Every outbound message is
//! sent at most once: it is marked `sending` before the provider is called and resolved after.
//! A job that finds it still `sending` (its worker died mid-call) never calls the provider again;
//! the message becomes `unconfirmed` and waits for a status webhook or a person.

use crate::channels::{self, SendError, StatusUpdate};
use crate::gate::{self, AtSend};
use crate::jobs::Outcome;
use crate::state::AppState;
use crate::store::NewEvent;
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
    let result = channels::send(state, &out).await;
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
            // The provider says the 24-hour window is closed: only a template may go now, which
            // a person chooses from the inbox's "Not sent" list.
            let event = NewEvent::new("send_blocked", format!("Not sent: whatsapp_window: {why}"))
                .detail(json!({ "outbound_id": out.id, "error": why, "template_required": true }));
            store.mark_unsent(&out, "blocked", &why, event).await?;
            Ok(Outcome::Done)
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

/// Applies a status report. One for a message we have not recorded yet (its send is still
/// being written) is retried rather than dropped.
pub async fn apply_status(state: &AppState, update: &StatusUpdate) -> anyhow::Result<Outcome> {
    match state.store.apply_status(update).await? {
        Some(_) => Ok(Outcome::Done),
        None => Ok(Outcome::Retry(format!(
            "no outbound message with id {} yet",
            update.external_id
        ))),
    }
}
