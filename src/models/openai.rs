//! OpenAI Chat Completions, spoken by OpenAI and by OpenAI-compatible servers:
//! `POST {base}/v1/chat/completions` with a bearer token and a strict JSON-schema response
//! format. `prompt_tokens` include the cached tokens, so the uncached input is the difference.

use super::{CallError, Completion, Request, Usage, error_from, transport};
use reqwest::header::HeaderValue;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;
use std::time::Duration;

#[derive(Deserialize)]
struct ChatResponse {
    /// The provider's id for this answer (`chatcmpl-…`), kept on the trace.
    #[serde(default)]
    id: Option<String>,
    model: String,
    choices: Vec<Choice>,
    usage: OpenAiUsage,
}

#[derive(Deserialize)]
struct Choice {
    message: ChoiceMessage,
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct ChoiceMessage {
    content: Option<String>,
    #[serde(default)]
    refusal: Option<String>,
}

#[derive(Deserialize)]
struct OpenAiUsage {
    prompt_tokens: u64,
    completion_tokens: u64,
    #[serde(default)]
    prompt_tokens_details: Option<PromptDetails>,
}

#[derive(Deserialize)]
struct PromptDetails {
    #[serde(default)]
    cached_tokens: Option<u64>,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    message: String,
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    code: Option<serde_json::Value>,
}

pub(super) fn body(model: &str, request: &Request) -> serde_json::Value {
    // The stable instructions first, so the provider's prefix cache can reuse them.
    let system = if request.system_suffix.is_empty() {
        request.system.clone()
    } else {
        format!("{}\n\n{}", request.system, request.system_suffix)
    };
    json!({
        "model": model,
        "messages": [
            {"role": "system", "content": system},
            {"role": "user", "content": request.user},
        ],
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": request.schema_name, "schema": request.schema, "strict": true},
        },
        "max_completion_tokens": request.max_output_tokens,
    })
}

pub(super) async fn complete(
    http: &reqwest::Client,
    base_url: &str,
    api_key: Option<&SecretString>,
    model: &str,
    request: &Request,
) -> Result<Completion, CallError> {
    let mut call = http
        .post(format!("{base_url}/v1/chat/completions"))
        .json(&body(model, request));
    if let Some(key) = api_key {
        let mut bearer = HeaderValue::from_str(&format!("Bearer {}", key.expose_secret()))
            .map_err(|_| CallError::Transport("the API key is not a valid header value".to_owned()))?;
        bearer.set_sensitive(true);
        call = call.header(reqwest::header::AUTHORIZATION, bearer);
    }
    let response = call.send().await.map_err(transport)?;
    if !response.status().is_success() {
        return Err(error_from(response, parse_error).await);
    }
    let bytes = response.bytes().await.map_err(transport)?;
    parse(&bytes)
}

fn parse_error(body: &str) -> Option<(String, String)> {
    let parsed: ErrorBody = serde_json::from_str(body).ok()?;
    let kind = parsed
        .error
        .kind
        .or_else(|| {
            parsed
                .error
                .code
                .map(|c| c.to_string().trim_matches('"').to_owned())
        })
        .unwrap_or_else(|| "error".to_owned());
    Some((kind, parsed.error.message))
}

pub(super) fn parse(bytes: &[u8]) -> Result<Completion, CallError> {
    let chat: ChatResponse = serde_json::from_slice(bytes)
        .map_err(|e| CallError::Malformed(format!("not a chat completion: {e}")))?;
    let choice = chat
        .choices
        .into_iter()
        .next()
        .ok_or_else(|| CallError::Malformed("no choices".to_owned()))?;
    if choice.finish_reason.as_deref() == Some("length") {
        return Err(CallError::Malformed(
            "the answer was cut at max_completion_tokens".to_owned(),
        ));
    }
    if let Some(refusal) = choice.message.refusal.filter(|r| !r.is_empty()) {
        return Err(CallError::Malformed(format!("the model refused: {refusal}")));
    }
    let cached = chat
        .usage
        .prompt_tokens_details
        .and_then(|d| d.cached_tokens)
        .unwrap_or(0);
    Ok(Completion {
        text: choice.message.content.unwrap_or_default(),
        usage: Usage {
            input_tokens: chat.usage.prompt_tokens.saturating_sub(cached),
            output_tokens: chat.usage.completion_tokens,
            cache_write_tokens: 0,
            cache_read_tokens: cached,
        },
        model: chat.model,
        latency: Duration::ZERO,
        request_id: chat.id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompt_tokens_include_the_cached_ones() {
        let answer = br#"{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-5.4-mini",
            "choices":[{"index":0,"message":{"role":"assistant","content":"{\"reply\":\"Hola\"}"},"finish_reason":"stop"}],
            "usage":{"prompt_tokens":2048,"completion_tokens":40,"total_tokens":2088,
                     "prompt_tokens_details":{"cached_tokens":1920}}}"#;
        let completion = parse(answer).expect("parses");
        assert_eq!(completion.text, r#"{"reply":"Hola"}"#);
        assert_eq!(
            completion.usage,
            Usage {
                input_tokens: 128,
                output_tokens: 40,
                cache_write_tokens: 0,
                cache_read_tokens: 1920
            }
        );
    }

    #[test]
    fn servers_without_cache_details_still_parse() {
        let answer = br#"{"model":"llama","choices":[{"message":{"content":"{}"},"finish_reason":"stop"}],
            "usage":{"prompt_tokens":10,"completion_tokens":2}}"#;
        let usage = parse(answer).expect("parses").usage;
        assert_eq!((usage.input_tokens, usage.cache_read_tokens), (10, 0));
    }

    #[test]
    fn cut_refused_or_empty_answers_are_malformed() {
        for answer in [
            &br#"{"model":"m","choices":[{"message":{"content":"{\"re"},"finish_reason":"length"}],"usage":{"prompt_tokens":1,"completion_tokens":1}}"#[..],
            br#"{"model":"m","choices":[{"message":{"content":null,"refusal":"no"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1}}"#,
            br#"{"model":"m","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1}}"#,
            b"not json",
        ] {
            assert!(matches!(parse(answer), Err(CallError::Malformed(_))));
        }
    }
}
