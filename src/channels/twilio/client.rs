//! Sends through Twilio's Messages API: `POST {base}/2010-04-01/Accounts/{sid}/Messages.json`,
//! form-encoded, basic auth with the account SID and auth token. Free text goes as `Body`; an
//! approved template as `ContentSid` (plus `ContentVariables`).

use super::settings::{ContentSid, TwilioSettings};
use crate::channels::SendError;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// The most characters Twilio accepts in a WhatsApp body.
pub const MAX_BODY_CHARS: usize = 1600;

/// Outside the 24-hour window: only a template may be sent.
const WINDOW_CLOSED: i64 = 63016;

#[derive(Clone)]
pub struct TwilioClient {
    http: reqwest::Client,
    base: String,
    account: Option<(String, SecretString)>,
    status_callback: Option<String>,
}

#[derive(Deserialize)]
struct Created {
    sid: String,
}

#[derive(Deserialize)]
struct TwilioError {
    code: Option<i64>,
    message: String,
    #[serde(default)]
    more_info: Option<String>,
}

impl TwilioClient {
    pub fn new(settings: &TwilioSettings) -> anyhow::Result<TwilioClient> {
        let http = crate::channels::http::client(settings.timeout_ms)?;
        Ok(TwilioClient {
            http,
            base: settings.api_base.trim_end_matches('/').to_owned(),
            account: settings.account_sid.clone().zip(settings.auth_token.clone()),
            status_callback: settings
                .public_url
                .as_ref()
                .map(|u| format!("{}/webhooks/twilio/status", u.trim_end_matches('/'))),
        })
    }

    pub fn is_configured(&self) -> bool {
        self.account.is_some()
    }

    /// Sends `body` from our number to the contact's and returns Twilio's message SID.
    #[tracing::instrument(skip_all)]
    pub async fn send_text(&self, from_number: &str, to: &str, body: &str) -> Result<String, SendError> {
        if !self.is_configured() {
            return Err(not_configured());
        }
        if body.chars().count() > MAX_BODY_CHARS {
            return Err(SendError::Rejected {
                message: format!("the message is longer than {MAX_BODY_CHARS} characters"),
                retryable: false,
            });
        }
        self.create_message(from_number, to, vec![("Body", body.to_owned())])
            .await
    }

    /// Sends an approved content template (`ContentSid`, and `ContentVariables` when it takes
    /// any) instead of free text, and returns Twilio's message SID.
    #[tracing::instrument(skip_all, fields(content_sid = %content_sid))]
    pub async fn send_template(
        &self,
        from_number: &str,
        to: &str,
        content_sid: &ContentSid,
        variables: Option<String>,
    ) -> Result<String, SendError> {
        let mut content = vec![("ContentSid", content_sid.as_str().to_owned())];
        content.extend(variables.map(|v| ("ContentVariables", v)));
        self.create_message(from_number, to, content).await
    }

    /// `POST …/Messages.json` with the addresses, the status callback and `content`.
    async fn create_message(
        &self,
        from_number: &str,
        to: &str,
        content: Vec<(&'static str, String)>,
    ) -> Result<String, SendError> {
        let Some((sid, token)) = &self.account else {
            return Err(not_configured());
        };
        let whatsapp = |number: &str| format!("whatsapp:+{}", number.trim_start_matches('+'));
        let mut form = vec![("From", whatsapp(from_number)), ("To", whatsapp(to))];
        form.extend(content);
        if let Some(callback) = &self.status_callback {
            form.push(("StatusCallback", callback.clone()));
        }
        let url = format!("{}/2010-04-01/Accounts/{sid}/Messages.json", self.base);
        let response = self
            .http
            .post(url)
            .basic_auth(sid, Some(token.expose_secret()))
            .form(&form)
            .send()
            .await
            .map_err(|e| {
                let e = e.without_url();
                if e.is_connect() {
                    SendError::Unreachable(format!("could not reach Twilio: {e}"))
                } else {
                    SendError::NoAnswer(format!("no usable answer from Twilio: {e}"))
                }
            })?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| SendError::NoAnswer(format!("no usable answer from Twilio: {e}")))?;
        if status.is_success() {
            let created: Created = serde_json::from_slice(&bytes)
                .map_err(|e| SendError::NoAnswer(format!("unexpected Twilio success body: {e}")))?;
            return Ok(created.sid);
        }
        Err(rejection(status.as_u16(), &bytes))
    }
}

fn not_configured() -> SendError {
    SendError::NotConfigured(
        "channel not configured: set twilio.account_sid and twilio.auth_token to send".to_owned(),
    )
}

fn rejection(status: u16, body: &[u8]) -> SendError {
    let Ok(error) = serde_json::from_slice::<TwilioError>(body) else {
        return SendError::Rejected {
            message: format!(
                "Twilio HTTP {status}: {}",
                String::from_utf8_lossy(body)
                    .chars()
                    .take(200)
                    .collect::<String>()
            ),
            retryable: status == 429 || status >= 500,
        };
    };
    let code = error.code.map_or_else(|| "?".to_owned(), |c| c.to_string());
    let more = error.more_info.map(|m| format!(" ({m})")).unwrap_or_default();
    let message = format!("Twilio error {code} (HTTP {status}): {}{more}", error.message);
    match error.code {
        Some(WINDOW_CLOSED) => SendError::WindowClosed(message),
        Some(20429) => SendError::Rejected {
            message,
            retryable: true,
        },
        _ => SendError::Rejected {
            message,
            retryable: status == 429 || status >= 500,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_decide_what_happens() {
        let body = |code: i64, status: u16| {
            format!(
                r#"{{"code":{code},"message":"m","more_info":"https://www.twilio.com/docs/errors/{code}","status":{status}}}"#
            )
        };
        assert!(
            matches!(rejection(400, body(63016, 400).as_bytes()), SendError::WindowClosed(m) if m.contains("63016"))
        );
        assert!(rejection(429, body(20429, 429).as_bytes()).is_retryable());
        assert!(rejection(500, body(20500, 500).as_bytes()).is_retryable());
        assert!(!rejection(400, body(21211, 400).as_bytes()).is_retryable());
        assert!(!rejection(401, body(20003, 401).as_bytes()).is_retryable());
        assert!(rejection(502, b"<html>bad gateway</html>").is_retryable());
    }
}
