//! SendGrid Inbound Parse: multipart fields, each in the charset `charsets` names; in raw mode
//! the whole MIME message arrives in `email`.

use super::form::{Field, text};
use super::html::html_to_text;
use super::message::{Attachment, EmailError, ParsedEmail, display_name, normalise_address};
use super::mime::{parse_mime, thread_headers};
use std::collections::HashMap;

pub fn parse_sendgrid(fields: &[Field]) -> Result<ParsedEmail, EmailError> {
    if let Some(raw) = fields.iter().find(|f| f.name == "email" && !f.bytes.is_empty()) {
        return parse_mime(&raw.bytes);
    }
    let charsets: HashMap<String, String> = text(fields, "charsets")
        .and_then(|c| serde_json::from_str(&c).ok())
        .unwrap_or_default();
    let decoded = |name: &str| -> Option<String> {
        let field = fields.iter().find(|f| f.name == name && f.filename.is_none())?;
        let label = charsets.get(name).map_or("utf-8", String::as_str);
        let encoding = encoding_rs::Encoding::for_label(label.as_bytes()).unwrap_or(encoding_rs::UTF_8);
        Some(encoding.decode(&field.bytes).0.into_owned())
    };
    let from = decoded("from").ok_or(EmailError::NoSender)?;
    let headers = decoded("headers").unwrap_or_default();
    let (message_id, in_reply_to, references) = thread_headers(&headers);
    let mut to: Vec<String> = ["to", "cc"]
        .iter()
        .filter_map(|name| decoded(name))
        .flat_map(|list| list.split(',').filter_map(normalise_address).collect::<Vec<_>>())
        .collect();
    // The envelope names the address the mail was actually delivered to.
    if let Some(envelope) =
        text(fields, "envelope").and_then(|e| serde_json::from_str::<serde_json::Value>(&e).ok())
    {
        for address in envelope["to"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str())
        {
            if let Some(address) = normalise_address(address).filter(|a| !to.contains(a)) {
                to.push(address);
            }
        }
    }
    let plain = decoded("text").unwrap_or_default();
    let body = if plain.trim().is_empty() {
        html_to_text(&decoded("html").unwrap_or_default())
    } else {
        plain.replace("\r\n", "\n")
    };
    let info: HashMap<String, serde_json::Value> = text(fields, "attachment-info")
        .and_then(|i| serde_json::from_str(&i).ok())
        .unwrap_or_default();
    let attachments = fields
        .iter()
        .filter(|f| f.filename.is_some())
        .map(|f| Attachment {
            filename: info
                .get(&f.name)
                .and_then(|i| i["filename"].as_str())
                .or(f.filename.as_deref())
                .unwrap_or("unnamed")
                .to_owned(),
            content_type: f
                .content_type
                .clone()
                .unwrap_or_else(|| "application/octet-stream".to_owned()),
            size: f.bytes.len(),
        })
        .collect();
    Ok(ParsedEmail {
        message_id,
        in_reply_to,
        references,
        from_address: normalise_address(&from).unwrap_or_default(),
        from_name: display_name(&from),
        to,
        subject: decoded("subject").unwrap_or_default(),
        date: None,
        text: body,
        stripped: None,
        attachments,
    })
}
