//! The Cloud API webhook payload: batched entries of messages and statuses, parsed into the
//! channel-neutral types. Unknown fields and message types are kept, never a crash.

use crate::channels::{Delivery, DeliveryStatus, InboundMessage, PreferenceUpdate, StatusUpdate, WHATSAPP};
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ParseError {
    /// The body is not JSON at all.
    #[error("the body is not valid JSON: {0}")]
    Malformed(String),
    /// Valid JSON, but not a payload we understand. Stored raw, acknowledged.
    #[error("unrecognised payload: {0}")]
    Unrecognised(String),
    /// A business phone number we do not serve.
    #[error("unknown phone_number_id {0:?}")]
    UnknownPhoneNumber(String),
}

#[derive(Deserialize)]
struct Envelope {
    object: String,
    entry: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    #[serde(default)]
    changes: Vec<Change>,
}

#[derive(Deserialize)]
struct Change {
    field: String,
    value: Value,
}

#[derive(Deserialize)]
struct MessagesValue {
    metadata: Metadata,
    #[serde(default)]
    contacts: Vec<Contact>,
    #[serde(default)]
    messages: Vec<RawMessage>,
    #[serde(default)]
    statuses: Vec<RawStatus>,
    #[serde(default)]
    errors: Vec<Value>,
}

#[derive(Deserialize)]
struct PreferencesValue {
    #[serde(default)]
    user_preferences: Vec<Preference>,
}

#[derive(Deserialize)]
struct Preference {
    wa_id: String,
    value: String,
    timestamp: serde_json::Value,
}

#[derive(Deserialize)]
struct Metadata {
    phone_number_id: String,
}

#[derive(Deserialize)]
struct Contact {
    wa_id: String,
    #[serde(default)]
    profile: Option<Profile>,
}

#[derive(Deserialize)]
struct Profile {
    name: Option<String>,
}

#[derive(Deserialize)]
struct RawMessage {
    from: String,
    id: String,
    timestamp: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    context: Option<Quoted>,
    #[serde(flatten)]
    content: serde_json::Map<String, Value>,
}

#[derive(Deserialize)]
struct Quoted {
    id: Option<String>,
}

#[derive(Deserialize)]
struct RawStatus {
    id: String,
    status: String,
    timestamp: String,
    #[serde(default)]
    errors: Vec<Value>,
    #[serde(default)]
    biz_opaque_callback_data: Option<String>,
}

/// Parses one delivery. `known_numbers` are the business phone number ids we serve.
pub fn parse_delivery(body: &[u8], known_numbers: &[String]) -> Result<Delivery, ParseError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| ParseError::Malformed(e.to_string()))?;
    let envelope: Envelope =
        serde_json::from_value(value).map_err(|e| ParseError::Unrecognised(e.to_string()))?;
    if envelope.object != "whatsapp_business_account" {
        return Err(ParseError::Unrecognised(format!(
            "object is {:?}",
            envelope.object
        )));
    }

    let mut delivery = Delivery::default();
    for change in envelope.entry.into_iter().flat_map(|e| e.changes) {
        if change.field == "user_preferences" {
            let value: PreferencesValue = serde_json::from_value(change.value)
                .map_err(|e| ParseError::Unrecognised(format!("user_preferences change: {e}")))?;
            for preference in value.user_preferences {
                let stop = match preference.value.as_str() {
                    "stop" => true,
                    "resume" => false,
                    other => {
                        delivery.ignored.push(format!("preference {other}"));
                        continue;
                    }
                };
                let seconds = match &preference.timestamp {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                delivery.preferences.push(PreferenceUpdate {
                    channel: WHATSAPP,
                    address: preference.wa_id,
                    stop,
                    at: parse_timestamp(&seconds)?,
                });
            }
            continue;
        }
        if change.field != "messages" {
            delivery.ignored.push(format!("field {}", change.field));
            continue;
        }
        let value: MessagesValue = serde_json::from_value(change.value)
            .map_err(|e| ParseError::Unrecognised(format!("messages change: {e}")))?;
        let number = value.metadata.phone_number_id;
        if !known_numbers.contains(&number) {
            return Err(ParseError::UnknownPhoneNumber(number));
        }
        for message in value.messages {
            let profile_name = value
                .contacts
                .iter()
                .find(|c| c.wa_id == message.from)
                .and_then(|c| c.profile.as_ref()?.name.clone());
            delivery.messages.push(InboundMessage {
                channel: WHATSAPP,
                sent_at: parse_timestamp(&message.timestamp)?,
                body: describe(&message.kind, &message.content),
                external_id: message.id,
                from: message.from,
                profile_name,
                business_number: number.clone(),
                kind: message.kind,
                reply_to_external_id: message.context.and_then(|c| c.id),
            });
        }
        for status in value.statuses {
            let Some(state) = DeliveryStatus::parse(&status.status) else {
                delivery.ignored.push(format!("status {}", status.status));
                continue;
            };
            delivery.statuses.push(StatusUpdate {
                channel: WHATSAPP.to_owned(),
                at: parse_timestamp(&status.timestamp)?,
                error: status.errors.first().map(describe_error),
                external_id: status.id,
                status: state,
                callback_data: status.biz_opaque_callback_data,
            });
        }
        for error in &value.errors {
            delivery.ignored.push(format!("error {}", describe_error(error)));
        }
    }
    Ok(delivery)
}

fn parse_timestamp(seconds: &str) -> Result<i64, ParseError> {
    seconds
        .parse::<i64>()
        .map(|s| s.saturating_mul(1000))
        .map_err(|_| ParseError::Unrecognised(format!("timestamp {seconds:?} is not Unix seconds")))
}

/// The text of a message, or a short description of what it carried.
fn describe(kind: &str, content: &serde_json::Map<String, Value>) -> String {
    let field = |path: &[&str]| {
        let mut v = content.get(kind)?;
        for key in path {
            v = v.get(key)?;
        }
        v.as_str().map(str::to_owned)
    };
    let text = match kind {
        "text" => field(&["body"]),
        "button" => field(&["text"]),
        "interactive" => field(&["button_reply", "title"]).or_else(|| field(&["list_reply", "title"])),
        "image" | "video" | "document" => field(&["caption"]).map(|c| format!("[{kind}] {c}")),
        "reaction" => field(&["emoji"]),
        "location" => {
            let loc = content.get("location");
            let coord = |k: &str| {
                loc.and_then(|l| l.get(k))
                    .and_then(Value::as_f64)
                    .unwrap_or_default()
            };
            Some(format!(
                "[location {:.5},{:.5}]",
                coord("latitude"),
                coord("longitude")
            ))
        }
        _ => None,
    };
    text.unwrap_or_else(|| format!("[{kind}]"))
}

fn describe_error(error: &Value) -> String {
    let code = error.get("code").map(ToString::to_string).unwrap_or_default();
    let title = error
        .get("title")
        .or_else(|| error.get("message"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let details = error
        .pointer("/error_data/details")
        .and_then(Value::as_str)
        .unwrap_or("");
    format!("{code} {title} {details}").trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> Vec<String> {
        vec!["106540352242922".to_owned()]
    }

    const BATCH: &str = r#"{"object":"whatsapp_business_account","entry":[
      {"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp",
        "metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},
        "contacts":[{"profile":{"name":"Ana Souza"},"wa_id":"5511987654321"}],
        "messages":[
          {"from":"5511987654321","id":"wamid.A","timestamp":"1749416383","type":"text","text":{"body":"Quanto custa o curso de Análise de Dados? 😀"}},
          {"from":"5511987654321","id":"wamid.B","timestamp":"1749416390","type":"image","image":{"id":"m1","mime_type":"image/jpeg"}},
          {"from":"5511987654321","id":"wamid.C","timestamp":"1749416395","type":"interactive","context":{"from":"15550783881","id":"wamid.OUT"},
           "interactive":{"type":"button_reply","button_reply":{"id":"b1","title":"Sí, quiero"}}}]}}]},
      {"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp",
        "metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},
        "statuses":[{"id":"wamid.OUT","status":"failed","timestamp":"1749416400","recipient_id":"5511987654321",
          "errors":[{"code":131026,"title":"Message undeliverable","error_data":{"details":"Receiver is incapable"}}]}]}},
        {"field":"user_preferences","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},
          "user_preferences":[{"wa_id":"5511987654321","detail":"User requested to stop marketing messages","category":"marketing_messages","value":"stop","timestamp":1749416410}]}},
        {"field":"account_update","value":{}}]}]}"#;

    #[test]
    fn reads_batched_messages_and_statuses() {
        let delivery = parse_delivery(BATCH.as_bytes(), &known()).expect("parses");
        assert_eq!(delivery.messages.len(), 3);
        let first = &delivery.messages[0];
        assert_eq!(first.external_id, "wamid.A");
        assert_eq!(first.body, "Quanto custa o curso de Análise de Dados? 😀");
        assert_eq!(first.profile_name.as_deref(), Some("Ana Souza"));
        assert_eq!(first.sent_at, 1_749_416_383_000);
        assert_eq!(delivery.messages[1].body, "[image]");
        assert_eq!(delivery.messages[2].body, "Sí, quiero");
        assert_eq!(
            delivery.messages[2].reply_to_external_id.as_deref(),
            Some("wamid.OUT")
        );
        assert_eq!(delivery.statuses.len(), 1);
        assert_eq!(delivery.statuses[0].status, DeliveryStatus::Failed);
        assert!(
            delivery.statuses[0]
                .error
                .as_deref()
                .unwrap_or("")
                .contains("131026")
        );
        assert_eq!(delivery.ignored, ["field account_update"]);
        assert_eq!(
            delivery.preferences,
            [PreferenceUpdate {
                channel: WHATSAPP,
                address: "5511987654321".into(),
                stop: true,
                at: 1_749_416_410_000
            }]
        );
    }

    #[test]
    fn sorts_bad_input_into_the_right_error() {
        assert!(matches!(
            parse_delivery(b"{not json", &known()),
            Err(ParseError::Malformed(_))
        ));
        assert!(matches!(
            parse_delivery(br#"{"object":"page","entry":[]}"#, &known()),
            Err(ParseError::Unrecognised(_))
        ));
        assert!(matches!(
            parse_delivery(br#"{"hello":"world"}"#, &known()),
            Err(ParseError::Unrecognised(_))
        ));
        let other_number = BATCH.replace("106540352242922", "999");
        assert_eq!(
            parse_delivery(other_number.as_bytes(), &known()),
            Err(ParseError::UnknownPhoneNumber("999".to_owned()))
        );
        let bad_time = BATCH.replace("\"1749416383\"", "\"yesterday\"");
        assert!(matches!(
            parse_delivery(bad_time.as_bytes(), &known()),
            Err(ParseError::Unrecognised(_))
        ));
    }

    #[test]
    fn empty_batch_is_fine() {
        let delivery = parse_delivery(br#"{"object":"whatsapp_business_account","entry":[]}"#, &known())
            .expect("parses");
        assert_eq!(delivery, Delivery::default());
    }
}
