//! Twilio's form parameters as channel messages and status updates.

use crate::channels::{DeliveryStatus, InboundMessage, StatusUpdate, TWILIO};
use crate::domain::Millis;

fn get<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// `whatsapp:+5511987654321` → `5511987654321`, the form WhatsApp ids take everywhere else.
fn digits(address: &str) -> String {
    address.chars().filter(char::is_ascii_digit).collect()
}

/// An inbound message, or the name of the parameter it lacks.
pub fn parse_message(params: &[(String, String)], now: Millis) -> Result<InboundMessage, String> {
    let sid = get(params, "MessageSid").ok_or("missing MessageSid")?;
    let from = get(params, "WaId")
        .map(digits)
        .or_else(|| get(params, "From").map(digits))
        .filter(|d| !d.is_empty())
        .ok_or("missing From")?;
    let to = get(params, "To").ok_or("missing To")?;
    let media: usize = get(params, "NumMedia").and_then(|n| n.parse().ok()).unwrap_or(0);
    let body = get(params, "Body").unwrap_or_default().to_owned();
    let (kind, body) = if media > 0 && body.trim().is_empty() {
        let content_type = get(params, "MediaContentType0").unwrap_or("media");
        let kind = content_type.split('/').next().unwrap_or("media").to_owned();
        (kind, format!("[{content_type} attachment]"))
    } else {
        ("text".to_owned(), body)
    };
    Ok(InboundMessage {
        channel: TWILIO,
        external_id: sid.to_owned(),
        from,
        profile_name: get(params, "ProfileName")
            .map(str::to_owned)
            .filter(|n| !n.is_empty()),
        business_number: format!("+{}", digits(to)),
        kind,
        body,
        sent_at: now,
        reply_to_external_id: get(params, "OriginalRepliedMessageSid").map(str::to_owned),
    })
}

/// A status callback; `None` for the states that say nothing new (`accepted`, `sending`…).
pub fn parse_status(params: &[(String, String)], now: Millis) -> Result<Option<StatusUpdate>, String> {
    let sid = get(params, "MessageSid").ok_or("missing MessageSid")?;
    let status = get(params, "MessageStatus").ok_or("missing MessageStatus")?;
    let Some(status) = DeliveryStatus::parse(status) else {
        return Ok(None);
    };
    let error = get(params, "ErrorCode")
        .filter(|c| !c.is_empty() && *c != "0")
        .map(|code| match code {
            "63016" => {
                "Twilio error 63016: outside the 24-hour window, only an approved template may be sent"
                    .to_owned()
            }
            other => format!("Twilio error {other}"),
        });
    Ok(Some(StatusUpdate {
        channel: TWILIO.to_owned(),
        external_id: sid.to_owned(),
        status,
        at: now,
        error,
        // Twilio's callbacks carry the MessageSid we stored; no key of ours comes back.
        callback_data: None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn messages_in_three_languages_and_media() {
        let params = form(&[
            ("MessageSid", "SM1"),
            ("From", "whatsapp:+5511987654321"),
            ("To", "whatsapp:+14155238886"),
            ("Body", "Olá! Quanto custa o curso de Análise de Dados? 😊"),
            ("NumMedia", "0"),
            ("ProfileName", "Conceição"),
            ("WaId", "5511987654321"),
        ]);
        let message = parse_message(&params, 7).expect("valid");
        assert_eq!(message.from, "5511987654321");
        assert_eq!(message.business_number, "+14155238886");
        assert_eq!(message.profile_name.as_deref(), Some("Conceição"));
        assert_eq!(message.body, "Olá! Quanto custa o curso de Análise de Dados? 😊");
        let photo = form(&[
            ("MessageSid", "SM2"),
            ("From", "whatsapp:+34600111222"),
            ("To", "whatsapp:+14155238886"),
            ("Body", ""),
            ("NumMedia", "1"),
            ("MediaContentType0", "image/jpeg"),
        ]);
        let message = parse_message(&photo, 7).expect("valid");
        assert_eq!(
            (message.kind.as_str(), message.from.as_str()),
            ("image", "34600111222")
        );
        assert_eq!(
            parse_message(&form(&[("From", "x")]), 0),
            Err("missing MessageSid".to_owned())
        );
    }

    #[test]
    fn statuses_and_the_window_error() {
        let failed = form(&[
            ("MessageSid", "SM9"),
            ("MessageStatus", "undelivered"),
            ("ErrorCode", "63016"),
        ]);
        let update = parse_status(&failed, 1).expect("valid").expect("a status");
        assert_eq!(update.status, DeliveryStatus::Failed);
        assert!(update.error.as_deref().unwrap_or("").contains("63016"));
        let read = form(&[("MessageSid", "SM9"), ("MessageStatus", "read")]);
        assert_eq!(
            parse_status(&read, 1).expect("valid").map(|u| u.status),
            Some(DeliveryStatus::Read)
        );
        let sending = form(&[("MessageSid", "SM9"), ("MessageStatus", "sending")]);
        assert_eq!(parse_status(&sending, 1), Ok(None));
    }
}
