//! WhatsApp Business Cloud API: signed webhooks in, Graph API sends out.

mod client;
mod payload;
mod signature;
mod webhook;

pub use client::{MAX_TEXT_CHARS, SendError, WhatsAppClient};
pub use payload::{ParseError, parse_delivery};
pub use signature::{sign, verify_signature};
pub use webhook::router;
