//! Raw RFC 5322 messages (the `/webhooks/email/mime` endpoint and SendGrid's raw mode), parsed
//! with `mail-parser`: every charset and transfer encoding decoded, HTML-only mail converted.

use super::html::html_to_text;
use super::message::{Attachment, EmailError, ParsedEmail, message_ids, normalise_message_id};
use mail_parser::{Address, HeaderValue, MessageParser, MimeHeaders};

pub fn parse_mime(raw: &[u8]) -> Result<ParsedEmail, EmailError> {
    let message = MessageParser::default()
        .parse(raw)
        .ok_or_else(|| EmailError::Unparsable("not an RFC 5322 message".to_owned()))?;
    let from = message.from().and_then(Address::first);
    let text = match message.text_bodies().find(|p| !p.is_text_html()) {
        Some(part) => part.text_contents().unwrap_or_default().to_owned(),
        None => message
            .html_bodies()
            .next()
            .and_then(|p| p.text_contents())
            .map(html_to_text)
            .unwrap_or_default(),
    };
    let attachments = message
        .attachments()
        .map(|part| Attachment {
            filename: part.attachment_name().unwrap_or("unnamed").to_owned(),
            content_type: part
                .content_type()
                .map(|ct| match ct.subtype() {
                    Some(sub) => format!("{}/{sub}", ct.ctype()),
                    None => ct.ctype().to_owned(),
                })
                .unwrap_or_else(|| "application/octet-stream".to_owned()),
            size: part.len(),
        })
        .collect();
    let recipients = message
        .to()
        .into_iter()
        .chain(message.cc())
        .flat_map(|a| a.clone().into_list())
        .filter_map(|a| a.address.map(|s| s.to_lowercase()))
        .collect();
    Ok(ParsedEmail {
        message_id: message.message_id().and_then(normalise_message_id),
        in_reply_to: ids(message.in_reply_to()).into_iter().next_back(),
        references: ids(message.references()),
        from_address: from.and_then(|a| a.address()).unwrap_or_default().to_owned(),
        from_name: from.and_then(|a| a.name()).map(str::to_owned),
        to: recipients,
        subject: message.subject().unwrap_or_default().to_owned(),
        date: message.date().map(|d| d.to_timestamp() * 1000),
        text: text.replace("\r\n", "\n"),
        stripped: None,
        attachments,
    })
}

fn ids(value: &HeaderValue<'_>) -> Vec<String> {
    value
        .as_text_list()
        .map(|list| {
            list.iter()
                .flat_map(|id| message_ids(&format!("<{id}>")))
                .collect()
        })
        .unwrap_or_default()
}

/// The threading headers in a bare header block (SendGrid's `headers` field).
pub fn thread_headers(headers: &str) -> (Option<String>, Option<String>, Vec<String>) {
    let mut raw = headers.replace("\r\n", "\n").trim_end().to_owned();
    raw.push_str("\n\n");
    match MessageParser::default().parse(raw.as_bytes()) {
        Some(message) => (
            message.message_id().and_then(normalise_message_id),
            ids(message.in_reply_to()).into_iter().next_back(),
            ids(message.references()),
        ),
        None => (None, None, Vec::new()),
    }
}
