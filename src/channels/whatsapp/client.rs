//! Sends through the Graph API: `POST {base}/{version}/{phone_number_id}/messages`.

use crate::config::WhatsAppSettings;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;

/// The most characters a WhatsApp text message may hold.
pub const MAX_TEXT_CHARS: usize = 4096;

#[derive(Clone)]
pub struct WhatsAppClient {
    http: reqwest::Client,
    base: String,
    version: String,
    token: Option<SecretString>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SendError {
    #[error("channel not configured: set whatsapp.access_token to send")]
    NotConfigured,
    #[error("the message is longer than {MAX_TEXT_CHARS} characters")]
    TooLong,
    /// The Graph API answered with an error.
    #[error("Graph API error {code:?} (HTTP {status}): {message}")]
    Rejected {
        status: u16,
        code: Option<i64>,
        message: String,
        retryable: bool,
    },
    /// The request never reached the provider (refused connection, DNS): safe to send again.
    #[error("could not reach the Graph API: {0}")]
    Unreachable(String),
    /// The request may have reached the provider but no usable answer came back (timeout, cut
    /// connection, unreadable body): the message may or may not have been sent.
    #[error("no usable answer from the Graph API: {0}")]
    NoAnswer(String),
}

impl SendError {
    /// Whether the provider may have accepted the message although we got no id for it.
    pub fn outcome_unknown(&self) -> bool {
        matches!(self, SendError::NoAnswer(_))
    }

    /// Whether sending again later may succeed, without risk of sending twice.
    pub fn is_retryable(&self) -> bool {
        match self {
            SendError::NotConfigured | SendError::TooLong => false,
            SendError::Rejected { retryable, .. } => *retryable,
            SendError::Unreachable(_) => true,
            SendError::NoAnswer(_) => false,
        }
    }
}

#[derive(Deserialize)]
struct SendResponse {
    messages: Vec<SentMessage>,
}

#[derive(Deserialize)]
struct SentMessage {
    id: String,
}

#[derive(Deserialize)]
struct ErrorResponse {
    error: GraphError,
}

#[derive(Deserialize)]
struct GraphError {
    message: String,
    code: Option<i64>,
    #[serde(default)]
    error_data: Option<serde_json::Value>,
}

impl WhatsAppClient {
    pub fn new(settings: &WhatsAppSettings) -> anyhow::Result<WhatsAppClient> {
        let http = crate::channels::http::client(settings.timeout_ms)?;
        Ok(WhatsAppClient {
            http,
            base: settings.api_base.trim_end_matches('/').to_owned(),
            version: settings.api_version.clone(),
            token: settings.access_token.clone(),
        })
    }

    pub fn is_configured(&self) -> bool {
        self.token.is_some()
    }

    /// Sends a text message and returns the provider's message id. `key`, the outbound
    /// message's idempotency key, travels as `biz_opaque_callback_data`, which Meta echoes in
    /// every status webhook for the message: a send whose answer was lost is still recognised.
    #[tracing::instrument(skip_all, fields(phone_number_id, to))]
    pub async fn send_text(
        &self,
        phone_number_id: &str,
        to: &str,
        body: &str,
        reply_to: Option<&str>,
        key: Option<&str>,
    ) -> Result<String, SendError> {
        let token = self.token.as_ref().ok_or(SendError::NotConfigured)?;
        if body.chars().count() > MAX_TEXT_CHARS {
            return Err(SendError::TooLong);
        }
        let mut payload = json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to,
            "type": "text",
            "text": { "preview_url": false, "body": body },
        });
        if let Some(id) = reply_to {
            payload["context"] = json!({ "message_id": id });
        }
        self.post_message(token, phone_number_id, payload, key).await
    }

    /// Sends the approved template `name` in `language` (a WhatsApp language code such as
    /// `pt_BR`): the only message allowed once the 24-hour window has closed.
    #[tracing::instrument(skip_all, fields(phone_number_id, to, template = name))]
    pub async fn send_template(
        &self,
        phone_number_id: &str,
        to: &str,
        name: &str,
        language: &str,
        key: Option<&str>,
    ) -> Result<String, SendError> {
        let token = self.token.as_ref().ok_or(SendError::NotConfigured)?;
        let payload = json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to,
            "type": "template",
            "template": { "name": name, "language": { "code": language } },
        });
        self.post_message(token, phone_number_id, payload, key).await
    }

    async fn post_message(
        &self,
        token: &SecretString,
        phone_number_id: &str,
        mut payload: serde_json::Value,
        key: Option<&str>,
    ) -> Result<String, SendError> {
        if let Some(key) = key {
            payload["biz_opaque_callback_data"] = json!(key);
        }
        let url = format!("{}/{}/{}/messages", self.base, self.version, phone_number_id);
        let response = self
            .http
            .post(url)
            .bearer_auth(token.expose_secret())
            .json(&payload)
            .send()
            .await
            .map_err(|e| {
                let e = e.without_url();
                if e.is_connect() {
                    SendError::Unreachable(e.to_string())
                } else {
                    SendError::NoAnswer(e.to_string())
                }
            })?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| SendError::NoAnswer(e.to_string()))?;
        if status.is_success() {
            let sent: SendResponse = serde_json::from_slice(&bytes)
                .map_err(|e| SendError::NoAnswer(format!("unexpected success body: {e}")))?;
            return sent
                .messages
                .into_iter()
                .next()
                .map(|m| m.id)
                .ok_or_else(|| SendError::NoAnswer("success without a message id".to_owned()));
        }
        Err(rejection(status.as_u16(), &bytes))
    }
}

fn rejection(status: u16, body: &[u8]) -> SendError {
    match serde_json::from_slice::<ErrorResponse>(body) {
        Ok(ErrorResponse { error }) => {
            let details = error
                .error_data
                .as_ref()
                .and_then(|d| d.get("details"))
                .and_then(|d| d.as_str())
                .map(|d| format!(" ({d})"))
                .unwrap_or_default();
            SendError::Rejected {
                status,
                retryable: is_retryable(status, error.code),
                code: error.code,
                message: format!("{}{details}", error.message),
            }
        }
        Err(_) => SendError::Rejected {
            status,
            code: None,
            message: String::from_utf8_lossy(body).chars().take(200).collect(),
            retryable: status == 429 || status >= 500,
        },
    }
}

/// Throughput limits and service errors pass; undeliverable, the 24-hour window and token or
/// permission problems do not.
fn is_retryable(status: u16, code: Option<i64>) -> bool {
    match code {
        Some(130429 | 131056 | 131000 | 131016) => true,
        Some(131026 | 131047 | 131050 | 190 | 10 | 200..=299) => false,
        _ => status == 429 || status >= 500,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_decide_retries() {
        let body = |code: i64| {
            format!(
                r#"{{"error":{{"message":"m","type":"OAuthException","code":{code},"error_data":{{"messaging_product":"whatsapp","details":"d"}},"fbtrace_id":"x"}}}}"#
            )
        };
        let cases = [
            (429, 130429, true),
            (400, 131056, true),
            (500, 131000, true),
            (400, 131026, false),
            (400, 131047, false),
            (401, 190, false),
            (403, 200, false),
        ];
        for (status, code, retry) in cases {
            let err = rejection(status, body(code).as_bytes());
            assert_eq!(err.is_retryable(), retry, "{code}");
            assert!(err.to_string().contains("m (d)"), "{err}");
        }
        assert!(rejection(502, b"<html>bad gateway</html>").is_retryable());
        assert!(!rejection(400, b"nope").is_retryable());
    }
}
