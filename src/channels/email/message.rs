//! An inbound email in provider-neutral form, and how it becomes a channel message: the text the
//! pipeline reads is the provider's stripped reply or our trimmer's cut; the full body is kept.

use super::trim::trim_reply;
use crate::channels::{EMAIL, InboundMessage};
use crate::domain::Millis;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// What any provider's payload or a raw MIME message parses into.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParsedEmail {
    /// The RFC 5322 Message-ID, without angle brackets.
    pub message_id: Option<String>,
    pub in_reply_to: Option<String>,
    /// Oldest first, without angle brackets.
    pub references: Vec<String>,
    pub from_address: String,
    pub from_name: Option<String>,
    /// Every recipient (To, then Cc), lower-case.
    pub to: Vec<String>,
    pub subject: String,
    pub date: Option<Millis>,
    /// The full text: the text/plain part, else the HTML part converted to text.
    pub text: String,
    /// The provider's own stripped reply (Postmark's `StrippedTextReply`, Mailgun's
    /// `stripped-text`), preferred over our trimmer when present.
    pub stripped: Option<String>,
    pub attachments: Vec<Attachment>,
}

/// An attachment, recorded as metadata only: its content is never stored or read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Attachment {
    pub filename: String,
    pub content_type: String,
    pub size: usize,
}

/// An email ready to store: the channel message plus what threading and the inbox need.
#[derive(Debug, Clone, PartialEq)]
pub struct InboundEmail {
    pub message: InboundMessage,
    pub rfc_message_id: String,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    pub subject: String,
    pub full_body: String,
    /// `provider` or `trimmer`: who cut the text the pipeline reads.
    pub trimmed_by: &'static str,
    pub attachments: Vec<Attachment>,
    /// The conversation named by a `reply+<id>@` recipient, if any.
    pub reply_tag: Option<i64>,
}

/// Why an email cannot be taken in.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum EmailError {
    #[error("the message has no sender address")]
    NoSender,
    #[error("the message could not be parsed: {0}")]
    Unparsable(String),
}

impl ParsedEmail {
    /// The email as a channel message. `reply_domain` is the domain of our `reply+<id>@`
    /// addresses; `now` stamps a message without a Date.
    pub fn into_inbound(self, reply_domain: Option<&str>, now: Millis) -> Result<InboundEmail, EmailError> {
        let from = normalise_address(&self.from_address).ok_or(EmailError::NoSender)?;
        let reply_tag = self.to.iter().find_map(|to| reply_tag(to, reply_domain));
        // Our own inbox: the recipient on our reply domain, else the first recipient, without
        // any `+tag`, so every thread to one inbox shares it.
        let inbox = self
            .to
            .iter()
            .find(|to| reply_domain.is_some_and(|d| domain_of(to) == Some(d)))
            .or(self.to.first())
            .map(|to| without_tag(to))
            .unwrap_or_default();
        let (text, trimmed_by) = match self.stripped.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(stripped) => (stripped.to_owned(), "provider"),
            None => (trim_reply(&self.text), "trimmer"),
        };
        // An email with nothing but a subject still says something.
        let body = if text.is_empty() {
            self.subject.trim().to_owned()
        } else {
            text
        };
        let rfc_message_id = self
            .message_id
            .clone()
            .unwrap_or_else(|| synthetic_id(&from, &self));
        Ok(InboundEmail {
            message: InboundMessage {
                channel: EMAIL,
                external_id: rfc_message_id.clone(),
                from,
                profile_name: self.from_name.clone().filter(|n| !n.trim().is_empty()),
                business_number: inbox,
                kind: "email".to_owned(),
                body,
                sent_at: self.date.unwrap_or(now),
                reply_to_external_id: self.in_reply_to.clone(),
            },
            rfc_message_id,
            in_reply_to: self.in_reply_to,
            references: self.references,
            subject: self.subject,
            full_body: self.text,
            trimmed_by,
            attachments: self.attachments,
            reply_tag,
        })
    }
}

/// A stable id for a message that came without a Message-ID, so a retried delivery of it is
/// still recognised.
fn synthetic_id(from: &str, email: &ParsedEmail) -> String {
    let mut hash = Sha256::new();
    for part in [
        from,
        &email.subject,
        &email.text,
        &email.date.unwrap_or(0).to_string(),
    ] {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    format!("{}@no-message-id.tuesday", &hex::encode(hash.finalize())[..32])
}

/// `Ana <Ana@Example.com>` or `Ana@Example.com` → `ana@example.com`; `None` if it is not an
/// address.
pub fn normalise_address(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let inner = match (raw.rfind('<'), raw.rfind('>')) {
        (Some(open), Some(close)) if open < close => &raw[open + 1..close],
        _ => raw,
    };
    let address = inner.trim().trim_matches('"').to_lowercase();
    let (local, domain) = address.split_once('@')?;
    (!local.is_empty() && domain.contains('.') && !address.contains(char::is_whitespace)).then_some(address)
}

/// The display name in `Ana Souza <ana@example.com>`, if any.
pub fn display_name(raw: &str) -> Option<String> {
    let open = raw.find('<')?;
    let name = raw[..open].trim().trim_matches('"').trim();
    (!name.is_empty()).then(|| name.to_owned())
}

/// A Message-ID without its angle brackets and spaces.
pub fn normalise_message_id(raw: &str) -> Option<String> {
    let id = raw.trim().trim_start_matches('<').trim_end_matches('>').trim();
    (!id.is_empty() && !id.contains(char::is_whitespace)).then(|| id.to_owned())
}

/// Every Message-ID in a References or In-Reply-To header value, in order.
pub fn message_ids(raw: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut rest = raw;
    while let Some(open) = rest.find('<') {
        let Some(close) = rest[open..].find('>') else {
            break;
        };
        if let Some(id) = normalise_message_id(&rest[open + 1..open + close]) {
            ids.push(id);
        }
        rest = &rest[open + close + 1..];
    }
    if ids.is_empty() {
        ids.extend(raw.split_whitespace().filter_map(normalise_message_id));
    }
    ids
}

fn domain_of(address: &str) -> Option<&str> {
    address.rsplit_once('@').map(|(_, d)| d)
}

fn without_tag(address: &str) -> String {
    match address.split_once('@') {
        Some((local, domain)) => format!("{}@{domain}", local.split('+').next().unwrap_or(local)),
        None => address.to_owned(),
    }
}

/// The conversation id in `reply+<id>@<reply_domain>`.
pub fn reply_tag(address: &str, reply_domain: Option<&str>) -> Option<i64> {
    let (local, domain) = address.split_once('@')?;
    if reply_domain.is_some_and(|d| !d.eq_ignore_ascii_case(domain)) {
        return None;
    }
    local.strip_prefix("reply+")?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_ids_are_normalised() {
        assert_eq!(
            normalise_address("Ana Souza <Ana.Souza@Example.COM>").as_deref(),
            Some("ana.souza@example.com")
        );
        assert_eq!(
            normalise_address("josé@correo.es").as_deref(),
            Some("josé@correo.es")
        );
        assert_eq!(normalise_address("not an address"), None);
        assert_eq!(normalise_address(""), None);
        assert_eq!(
            display_name("\"Núñez, Iñigo\" <i@x.es>").as_deref(),
            Some("Núñez, Iñigo")
        );
        assert_eq!(message_ids("<a@x> <b@y>\r\n <c@z>"), vec!["a@x", "b@y", "c@z"]);
        assert_eq!(message_ids("a@x"), vec!["a@x"]);
        assert_eq!(
            reply_tag("reply+42@reply.example.com", Some("reply.example.com")),
            Some(42)
        );
        assert_eq!(reply_tag("reply+42@other.com", Some("reply.example.com")), None);
        assert_eq!(
            reply_tag("reply+x@reply.example.com", Some("reply.example.com")),
            None
        );
    }

    #[test]
    fn the_provider_stripped_text_wins_and_the_full_body_is_kept() {
        let email = ParsedEmail {
            message_id: Some("m1@x".into()),
            from_address: "Ana <ANA@x.com>".into(),
            to: vec!["reply+7@reply.example.com".into()],
            subject: "Re: Curso".into(),
            text: "Sí\n\nEl lun, Tuesday escribió:\n> hola".into(),
            stripped: Some("Sí, quiero".into()),
            ..ParsedEmail::default()
        };
        let inbound = email
            .clone()
            .into_inbound(Some("reply.example.com"), 5)
            .expect("valid");
        assert_eq!(inbound.message.body, "Sí, quiero");
        assert_eq!(inbound.trimmed_by, "provider");
        assert_eq!(inbound.full_body, email.text);
        assert_eq!(inbound.reply_tag, Some(7));
        assert_eq!(inbound.message.business_number, "reply@reply.example.com");
        assert_eq!(inbound.message.from, "ana@x.com");
        assert_eq!(inbound.message.sent_at, 5);
        let ours = ParsedEmail {
            stripped: None,
            ..email
        };
        let inbound = ours.into_inbound(None, 5).expect("valid");
        assert_eq!(
            (inbound.message.body.as_str(), inbound.trimmed_by),
            ("Sí", "trimmer")
        );
        let nobody = ParsedEmail::default().into_inbound(None, 0);
        assert_eq!(nobody, Err(EmailError::NoSender));
    }
}
