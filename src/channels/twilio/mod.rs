//! WhatsApp through Twilio: signed form webhooks in (messages and status callbacks), the
//! Messages API out.

mod client;
mod payload;
mod settings;
mod signature;
mod webhook;

pub use client::{MAX_BODY_CHARS, TwilioClient};
pub use payload::{parse_message, parse_status};
pub use settings::{ContentSid, TwilioSettings, TwilioTemplate};
pub use signature::{sign, verify_signature};
pub use webhook::router;
