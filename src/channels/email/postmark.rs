//! Postmark's inbound JSON. Its `MessageID` is Postmark's own id; the RFC Message-ID is in
//! `Headers`.

use super::html::html_to_text;
use super::message::{Attachment, EmailError, ParsedEmail, message_ids, normalise_message_id};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Inbound {
    #[serde(default)]
    from: String,
    from_full: Option<Person>,
    #[serde(default)]
    to_full: Vec<Person>,
    #[serde(default)]
    cc_full: Vec<Person>,
    #[serde(default)]
    to: String,
    #[serde(default)]
    subject: String,
    #[serde(rename = "MessageID", default)]
    message_id: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    text_body: String,
    #[serde(default)]
    html_body: String,
    #[serde(default)]
    stripped_text_reply: Option<String>,
    #[serde(default)]
    headers: Vec<Header>,
    #[serde(default)]
    attachments: Vec<PostmarkAttachment>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Person {
    email: String,
    #[serde(default)]
    name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Header {
    name: String,
    value: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PostmarkAttachment {
    #[serde(default)]
    name: String,
    #[serde(default)]
    content_type: String,
    #[serde(default)]
    content_length: usize,
}

pub fn parse_postmark(body: &[u8]) -> Result<ParsedEmail, EmailError> {
    let inbound: Inbound =
        serde_json::from_slice(body).map_err(|e| EmailError::Unparsable(format!("Postmark JSON: {e}")))?;
    let header = |name: &str| {
        inbound
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str())
    };
    let message_id = header("Message-ID")
        .and_then(|v| message_ids(v).into_iter().next())
        .or_else(|| normalise_message_id(&inbound.message_id).map(|id| format!("{id}@postmark")));
    let (from_address, from_name) = match &inbound.from_full {
        Some(p) => (p.email.clone(), Some(p.name.clone())),
        None => (inbound.from.clone(), super::message::display_name(&inbound.from)),
    };
    let mut to: Vec<String> = inbound
        .to_full
        .iter()
        .chain(&inbound.cc_full)
        .map(|p| p.email.to_lowercase())
        .collect();
    if to.is_empty() {
        to.extend(
            inbound
                .to
                .split(',')
                .filter_map(super::message::normalise_address),
        );
    }
    let text = if inbound.text_body.trim().is_empty() {
        html_to_text(&inbound.html_body)
    } else {
        inbound.text_body.replace("\r\n", "\n")
    };
    Ok(ParsedEmail {
        message_id,
        in_reply_to: header("In-Reply-To").and_then(|v| message_ids(v).into_iter().next_back()),
        references: header("References").map(message_ids).unwrap_or_default(),
        from_address,
        from_name,
        to,
        subject: inbound.subject,
        date: chrono::DateTime::parse_from_rfc2822(inbound.date.trim())
            .ok()
            .map(|d| d.timestamp_millis()),
        text,
        stripped: inbound.stripped_text_reply,
        attachments: inbound
            .attachments
            .into_iter()
            .map(|a| Attachment {
                filename: a.name,
                content_type: a.content_type,
                size: a.content_length,
            })
            .collect(),
    })
}
