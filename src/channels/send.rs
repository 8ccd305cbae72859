//! One call that sends an outbound message through its conversation's channel, and the
//! channel-neutral ways a send can fail, which the outbox turns into states.

use super::{EMAIL, TWILIO, WHATSAPP, email, whatsapp};
use crate::state::AppState;
use crate::store::OutboundRow;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SendError {
    /// The channel has no credentials or server: recorded as `not_configured`.
    #[error("{0}")]
    NotConfigured(String),
    /// Outside WhatsApp's 24-hour window (Meta 131047, Twilio 63016): only an approved
    /// template may go, so the outbox sends the channel's instead.
    #[error("{0}")]
    WindowClosed(String),
    /// A rate limit (WhatsApp 130429, or 131056 for one recipient): send again later.
    #[error("{message}")]
    RateLimited { message: String, per_recipient: bool },
    /// The provider answered with a refusal.
    #[error("{message}")]
    Rejected { message: String, retryable: bool },
    /// The request never reached the provider: safe to send again.
    #[error("{0}")]
    Unreachable(String),
    /// The request may have reached the provider but no usable answer came back.
    #[error("{0}")]
    NoAnswer(String),
}

impl SendError {
    /// Whether the provider may have accepted the message although we got no id for it.
    pub fn outcome_unknown(&self) -> bool {
        matches!(self, SendError::NoAnswer(_))
    }

    /// Whether sending again later may succeed, without risk of sending twice.
    pub fn is_retryable(&self) -> bool {
        match self {
            SendError::Rejected { retryable, .. } => *retryable,
            SendError::Unreachable(_) | SendError::RateLimited { .. } => true,
            SendError::NotConfigured(_) | SendError::WindowClosed(_) | SendError::NoAnswer(_) => false,
        }
    }
}

impl From<whatsapp::SendError> for SendError {
    fn from(error: whatsapp::SendError) -> SendError {
        let message = error.to_string();
        match error {
            whatsapp::SendError::NotConfigured => SendError::NotConfigured(message),
            whatsapp::SendError::Unreachable(_) => SendError::Unreachable(message),
            whatsapp::SendError::NoAnswer(_) => SendError::NoAnswer(message),
            whatsapp::SendError::Rejected {
                code: Some(131047), ..
            } => SendError::WindowClosed(message),
            whatsapp::SendError::Rejected {
                code: Some(code @ (130429 | 131056)),
                ..
            } => SendError::RateLimited {
                message,
                per_recipient: code == 131056,
            },
            whatsapp::SendError::Rejected { retryable, .. } => SendError::Rejected { message, retryable },
            whatsapp::SendError::TooLong => SendError::Rejected {
                message,
                retryable: false,
            },
        }
    }
}

/// Sends `out` on its channel and returns the provider's id for it. `key` is the message's
/// idempotency key, which WhatsApp echoes in the status webhooks.
pub async fn send(state: &AppState, out: &OutboundRow, key: &str) -> Result<String, SendError> {
    match out.channel.as_str() {
        WHATSAPP => Ok(state
            .whatsapp
            .send_text(
                &out.business_number,
                &out.to_address,
                &out.body,
                out.inbound_external_id.as_deref(),
                Some(key),
            )
            .await?),
        TWILIO => {
            state
                .twilio
                .send_text(&out.business_number, &out.to_address, &out.body)
                .await
        }
        EMAIL => email::send_reply(state, out).await,
        other => Err(SendError::NotConfigured(format!(
            "channel not configured: Tuesday cannot send on {other:?}"
        ))),
    }
}
