//! Mailgun's inbound route: form fields with the body, the stripped reply and every header as a
//! JSON list of pairs.

use super::form::{Field, text};
use super::html::html_to_text;
use super::message::{Attachment, EmailError, ParsedEmail, display_name, message_ids, normalise_address};

pub fn parse_mailgun(fields: &[Field]) -> Result<ParsedEmail, EmailError> {
    let headers: Vec<(String, String)> = text(fields, "message-headers")
        .and_then(|h| serde_json::from_str(&h).ok())
        .unwrap_or_default();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
            .or_else(|| text(fields, name))
    };
    let from = text(fields, "from")
        .or_else(|| text(fields, "sender"))
        .ok_or(EmailError::NoSender)?;
    let plain = text(fields, "body-plain").unwrap_or_default();
    let body = if plain.trim().is_empty() {
        html_to_text(&text(fields, "body-html").unwrap_or_default())
    } else {
        plain.replace("\r\n", "\n")
    };
    let mut to: Vec<String> = text(fields, "recipient")
        .into_iter()
        .chain(header("To"))
        .flat_map(|list| list.split(',').filter_map(normalise_address).collect::<Vec<_>>())
        .collect();
    to.dedup();
    Ok(ParsedEmail {
        message_id: header("Message-Id").and_then(|v| message_ids(&v).into_iter().next()),
        in_reply_to: header("In-Reply-To").and_then(|v| message_ids(&v).into_iter().next_back()),
        references: header("References").map(|v| message_ids(&v)).unwrap_or_default(),
        from_address: normalise_address(&from).unwrap_or_default(),
        from_name: display_name(&from),
        to,
        subject: text(fields, "subject").unwrap_or_default(),
        date: header("Date")
            .and_then(|d| chrono::DateTime::parse_from_rfc2822(d.trim()).ok())
            .map(|d| d.timestamp_millis()),
        text: body,
        stripped: text(fields, "stripped-text"),
        attachments: fields
            .iter()
            .filter(|f| f.filename.is_some())
            .map(|f| Attachment {
                filename: f.filename.clone().unwrap_or_default(),
                content_type: f
                    .content_type
                    .clone()
                    .unwrap_or_else(|| "application/octet-stream".to_owned()),
                size: f.bytes.len(),
            })
            .collect(),
    })
}
