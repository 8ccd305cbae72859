//! Email: provider webhooks and raw MIME in, a reply trimmer and RFC 5322 threading, SMTP out.

mod auth;
mod compose;
mod form;
mod html;
mod mailgun;
mod message;
mod mime;
mod postmark;
mod sendgrid;
mod settings;
mod smtp;
mod trim;
mod webhook;

pub use auth::{mailgun_signature, verify_mailgun};
pub use compose::{dress, reply_references, reply_subject, signature};
pub use form::{Field, read_fields};
pub use html::html_to_text;
pub use mailgun::parse_mailgun;
pub use message::{Attachment, EmailError, InboundEmail, ParsedEmail, normalise_address};
pub use mime::parse_mime;
pub use postmark::parse_postmark;
pub use sendgrid::parse_sendgrid;
pub use settings::{EmailSettings, SmtpTls};
pub use smtp::{EmailSender, send_reply};
pub use trim::trim_reply;
pub use webhook::router;
