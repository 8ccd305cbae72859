//! The Anthropic Messages API: `POST {base}/v1/messages` with `x-api-key` and
//! `anthropic-version`. The stable part of the system prompt is marked for prompt caching; the
//! usage's `input_tokens` exclude the cached tokens, which come in their own two fields.

use super::{CallError, Completion, Request, Usage, error_from, transport};
use reqwest::header::HeaderValue;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;
use std::time::Duration;

pub const VERSION: &str = "2023-06-01";

#[derive(Deserialize)]
struct MessageResponse {
    /// The provider's id for this answer (`msg_…`), kept on the trace.
    #[serde(default)]
    id: Option<String>,
    #[serde(rename = "type")]
    kind: String,
    content: Vec<ContentBlock>,
    model: String,
    stop_reason: Option<String>,
    usage: AnthropicUsage,
}

#[derive(Deserialize)]
struct ContentBlock {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    text: String,
}

#[derive(Deserialize)]
struct AnthropicUsage {
    input_tokens: u64,
    output_tokens: u64,
    #[serde(default)]
    cache_creation_input_tokens: Option<u64>,
    #[serde(default)]
    cache_read_input_tokens: Option<u64>,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    #[serde(rename = "type")]
    kind: String,
    message: String,
}

/// The request body, public to the module's tests.
pub(super) fn body(model: &str, request: &Request) -> serde_json::Value {
    let mut system = vec![json!({
        "type": "text",
        "text": request.system,
        "cache_control": {"type": "ephemeral"},
    })];
    if !request.system_suffix.is_empty() {
        system.push(json!({"type": "text", "text": request.system_suffix}));
    }
    json!({
        "model": model,
        "max_tokens": request.max_output_tokens,
        "system": system,
        "messages": [{"role": "user", "content": request.user}],
    })
}

pub(super) async fn complete(
    http: &reqwest::Client,
    base_url: &str,
    api_key: Option<&SecretString>,
    model: &str,
    request: &Request,
) -> Result<Completion, CallError> {
    let mut key = HeaderValue::from_str(api_key.map(|k| k.expose_secret()).unwrap_or_default())
        .map_err(|_| CallError::Transport("the API key is not a valid header value".to_owned()))?;
    key.set_sensitive(true);
    let response = http
        .post(format!("{base_url}/v1/messages"))
        .header("x-api-key", key)
        .header("anthropic-version", VERSION)
        .json(&body(model, request))
        .send()
        .await
        .map_err(transport)?;
    if !response.status().is_success() {
        return Err(error_from(response, parse_error).await);
    }
    let bytes = response.bytes().await.map_err(transport)?;
    parse(&bytes)
}

fn parse_error(body: &str) -> Option<(String, String)> {
    let parsed: ErrorBody = serde_json::from_str(body).ok()?;
    Some((parsed.error.kind, parsed.error.message))
}

pub(super) fn parse(bytes: &[u8]) -> Result<Completion, CallError> {
    let message: MessageResponse = serde_json::from_slice(bytes)
        .map_err(|e| CallError::Malformed(format!("not an Anthropic message: {e}")))?;
    if message.kind != "message" {
        return Err(CallError::Malformed(format!("answer of type {:?}", message.kind)));
    }
    if message.stop_reason.as_deref() == Some("max_tokens") {
        return Err(CallError::Malformed(
            "the answer was cut at max_tokens".to_owned(),
        ));
    }
    let text: String = message
        .content
        .iter()
        .filter(|b| b.kind == "text")
        .map(|b| b.text.as_str())
        .collect();
    Ok(Completion {
        text,
        usage: Usage {
            input_tokens: message.usage.input_tokens,
            output_tokens: message.usage.output_tokens,
            cache_write_tokens: message.usage.cache_creation_input_tokens.unwrap_or(0),
            cache_read_tokens: message.usage.cache_read_input_tokens.unwrap_or(0),
        },
        model: message.model,
        latency: Duration::ZERO,
        request_id: message.id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_tokens_exclude_the_cached_ones() {
        let answer = br#"{"id":"msg_01","type":"message","role":"assistant","model":"claude-haiku-4-5",
            "content":[{"type":"text","text":"{\"intent\":\"pricing\","},{"type":"text","text":"\"confidence\":0.9}"}],
            "stop_reason":"end_turn","stop_sequence":null,
            "usage":{"input_tokens":21,"output_tokens":12,"cache_creation_input_tokens":0,"cache_read_input_tokens":1800}}"#;
        let completion = parse(answer).expect("parses");
        assert_eq!(completion.text, r#"{"intent":"pricing","confidence":0.9}"#);
        assert_eq!(
            completion.usage,
            Usage {
                input_tokens: 21,
                output_tokens: 12,
                cache_write_tokens: 0,
                cache_read_tokens: 1800
            }
        );
        assert_eq!(completion.usage.prompt_tokens(), 1821);
    }

    #[test]
    fn truncated_or_foreign_answers_are_malformed() {
        let cut = br#"{"type":"message","model":"m","content":[{"type":"text","text":"{\"reply\":\"Hol"}],
            "stop_reason":"max_tokens","usage":{"input_tokens":1,"output_tokens":5}}"#;
        assert!(matches!(parse(cut), Err(CallError::Malformed(_))));
        assert!(matches!(
            parse(b"<html>oops</html>"),
            Err(CallError::Malformed(_))
        ));
    }
}
