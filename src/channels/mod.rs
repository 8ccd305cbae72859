//! The outside world: provider webhooks in, provider APIs out. Each channel turns its wire format
//! into the channel-neutral types below, so the pipeline never sees a provider's JSON.

pub mod email;
pub(crate) mod http;
mod send;
mod template;
pub mod twilio;
pub mod whatsapp;

pub use send::{SendError, send};
pub use template::{Template, send_template};

use crate::domain::Millis;
use serde::{Deserialize, Serialize};

pub const WHATSAPP: &str = "whatsapp";
/// Email, whichever provider delivered it (Postmark, SendGrid, Mailgun or raw MIME).
pub const EMAIL: &str = "email";
/// WhatsApp reached through Twilio rather than Meta's Cloud API.
pub const TWILIO: &str = "twilio";

/// Whether a channel is WhatsApp, whoever carries it: its 24-hour window applies.
pub fn is_whatsapp(channel: &str) -> bool {
    channel == WHATSAPP || channel == TWILIO
}

/// A message a contact sent us, as parsed from a webhook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboundMessage {
    pub channel: &'static str,
    /// The provider's id, unique per channel; deliveries are de-duplicated on it.
    pub external_id: String,
    /// The contact's address on the channel (a WhatsApp id is the phone number in digits).
    pub from: String,
    pub profile_name: Option<String>,
    /// Our own number or inbox the message was sent to.
    pub business_number: String,
    /// `text`, `image`, `button`, …: what the provider called it.
    pub kind: String,
    /// The text of the message, or a short description for media.
    pub body: String,
    pub sent_at: Millis,
    /// The provider id of the message this one quotes, if any.
    pub reply_to_external_id: Option<String>,
}

/// How far an outbound message got. Ordered: a message only ever moves forward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Queued,
    Sent,
    /// Ranked above `sent` but below `delivered`: a later `delivered` or `read` proves the
    /// message did arrive, so it wins over an earlier failure report.
    Failed,
    Delivered,
    Read,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Queued => "queued",
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Failed => "failed",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Read => "read",
        }
    }

    pub fn rank(self) -> i64 {
        match self {
            DeliveryStatus::Queued => 0,
            DeliveryStatus::Sent => 10,
            DeliveryStatus::Failed => 15,
            DeliveryStatus::Delivered => 20,
            DeliveryStatus::Read => 30,
        }
    }

    pub fn parse(s: &str) -> Option<DeliveryStatus> {
        Some(match s {
            "queued" => DeliveryStatus::Queued,
            "sent" => DeliveryStatus::Sent,
            "failed" | "undelivered" => DeliveryStatus::Failed,
            "delivered" => DeliveryStatus::Delivered,
            "read" => DeliveryStatus::Read,
            _ => return None,
        })
    }
}

/// A provider's report on a message we sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusUpdate {
    pub channel: String,
    pub external_id: String,
    pub status: DeliveryStatus,
    pub at: Millis,
    pub error: Option<String>,
    /// What we attached to the send (WhatsApp's `biz_opaque_callback_data`): our idempotency
    /// key, which names the outbound message even when its provider id was never recorded.
    #[serde(default)]
    pub callback_data: Option<String>,
}

/// A contact's own choice about hearing from us: Meta's marketing stop and resume.
#[derive(Debug, Clone, PartialEq)]
pub struct PreferenceUpdate {
    pub channel: &'static str,
    pub address: String,
    /// `true` for stop, `false` for resume.
    pub stop: bool,
    pub at: Millis,
}

/// Everything one webhook delivery carried.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Delivery {
    pub messages: Vec<InboundMessage>,
    pub statuses: Vec<StatusUpdate>,
    pub preferences: Vec<PreferenceUpdate>,
    /// Parts of the payload we recognised but do not act on yet (errors, preferences, …).
    pub ignored: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::DeliveryStatus::*;

    #[test]
    fn statuses_only_move_forward() {
        assert!(Sent.rank() < Failed.rank());
        assert!(Failed.rank() < Delivered.rank());
        assert!(Delivered.rank() < Read.rank());
    }
}
