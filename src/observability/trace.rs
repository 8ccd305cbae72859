//! The trace model: an event on a message's trace is an observation of one type (span,
//! generation, guardrail or event) with a start, an end, a level, and for generations the
//! model, tokens and cost. Pure functions, shared by the store, the trace page and the export.

use serde_json::Value;

/// What kind of observation an event is (Langfuse's observation types).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObsType {
    /// A pipeline stage that takes time.
    Span,
    /// A model call.
    Generation,
    /// A guardrail verdict.
    Guardrail,
    /// A point in time: review actions, sends, status updates.
    Event,
}

impl ObsType {
    pub fn as_str(self) -> &'static str {
        match self {
            ObsType::Span => "span",
            ObsType::Generation => "generation",
            ObsType::Guardrail => "guardrail",
            ObsType::Event => "event",
        }
    }

    pub fn parse(text: &str) -> Option<ObsType> {
        [
            ObsType::Span,
            ObsType::Generation,
            ObsType::Guardrail,
            ObsType::Event,
        ]
        .into_iter()
        .find(|t| t.as_str() == text)
    }

    /// The type of an event kind.
    pub fn of_kind(kind: &str) -> ObsType {
        match kind {
            "model_call" => ObsType::Generation,
            "guardrail" => ObsType::Guardrail,
            "received" | "language" | "classified" | "drafted" | "route" => ObsType::Span,
            _ => ObsType::Event,
        }
    }
}

/// How bad an observation is (Langfuse's levels).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Default,
    Warning,
    Error,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Default => "DEFAULT",
            Level::Warning => "WARNING",
            Level::Error => "ERROR",
        }
    }
}

/// The searchable facts of an event, derived once when it is written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Derived {
    pub model: Option<String>,
    pub rule: Option<String>,
    pub error_code: Option<String>,
}

fn text(detail: &Value, key: &str) -> Option<String> {
    detail.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// The model, guardrail rule and error code an event carries, if any.
pub fn derive(kind: &str, detail: &Value) -> Derived {
    let mut derived = Derived::default();
    match kind {
        "model_call" => {
            derived.model = text(detail, "model");
            derived.error_code = text(detail, "outcome").filter(|o| o != "ok");
        }
        "guardrail" => {
            derived.rule = text(detail, "rule");
            let verdict = text(detail, "verdict").unwrap_or_default();
            if !verdict.eq_ignore_ascii_case("pass") {
                derived.error_code = text(detail, "reason");
            }
        }
        "send_failed"
        | "send_attempt"
        | "send_unconfirmed"
        | "send_blocked"
        | "status_failed"
        | "channel_not_configured" => {
            derived.error_code = Some(send_error_code(kind, detail));
        }
        _ => {}
    }
    derived
}

/// A send failure's code: Graph's numeric code when the error names one, else the kind.
fn send_error_code(kind: &str, detail: &Value) -> String {
    let error = detail
        .get("error")
        .map(|e| match e {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .unwrap_or_default();
    static CODE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"(?i)(?:\bcode[ :=]+|\berror Some\()(\d{2,6})\b")
            .expect("the code pattern is valid")
    });
    CODE.captures(&error)
        .and_then(|c| c.get(1))
        .map_or_else(|| kind.to_owned(), |m| m.as_str().to_owned())
}

/// The level of an event: errors for failures, warnings for holds, blocks and retries.
pub fn level(kind: &str, summary: &str, detail: &Value) -> Level {
    match kind {
        "send_failed" | "status_failed" | "send_unconfirmed" | "channel_not_configured" | "model_alert" => {
            Level::Error
        }
        "retry" | "degraded" => Level::Warning,
        "model_call" if text(detail, "outcome").is_some_and(|o| o != "ok") => Level::Error,
        "send_attempt" | "send_blocked" | "held" | "rejected" => Level::Warning,
        "guardrail" => match text(detail, "verdict")
            .unwrap_or_default()
            .to_lowercase()
            .as_str()
        {
            "block" => Level::Error,
            "hold" => Level::Warning,
            _ => Level::Default,
        },
        "approved" if summary.contains("override") => Level::Warning,
        _ => Level::Default,
    }
}

/// A retry: a send attempt that will be tried again, or a model call after an earlier one on
/// the same task failed (a fallback hop).
pub fn is_retry(kind: &str, detail: &Value) -> bool {
    let after = |key: &str| detail.get(key).and_then(Value::as_u64).is_some_and(|n| n > 0);
    matches!(kind, "send_attempt" | "retry") || after("hop") || after("retries")
}

/// Token counts of a generation, in Langfuse's `usage_details` names.
pub fn usage_details(detail: &Value) -> Option<Value> {
    let usage = detail.get("usage")?;
    let n = |key: &str| usage.get(key).and_then(Value::as_u64).unwrap_or(0);
    Some(serde_json::json!({
        "input": n("input_tokens"),
        "output": n("output_tokens"),
        "cache_read_input_tokens": n("cache_read_tokens"),
        "cache_creation_input_tokens": n("cache_write_tokens"),
    }))
}

/// The cost we computed for a generation, as a decimal string.
pub fn cost_usd(detail: &Value) -> Option<String> {
    text(detail, "cost_usd")
}

/// What an observation received and returned, for the export's `input` and `output`.
pub fn input_output(kind: &str, detail: &Value) -> (Option<Value>, Option<Value>) {
    let get = |key: &str| detail.get(key).filter(|v| !v.is_null()).cloned();
    match kind {
        "received" => (get("body"), None),
        "model_call" => (get("prompt"), get("answer")),
        "drafted" => (None, get("body")),
        "approved" => (None, get("body")),
        "classified" => (None, get("intent")),
        "language" => (None, get("language")),
        "guardrail" => (get("span_text"), Some(detail.clone())),
        _ => (None, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn events_map_to_observations() {
        let call = json!({"model": "claude-haiku-4-5", "outcome": "http_429", "usage": {"input_tokens": 10}});
        assert_eq!(ObsType::of_kind("model_call"), ObsType::Generation);
        assert_eq!(ObsType::of_kind("guardrail"), ObsType::Guardrail);
        assert_eq!(ObsType::of_kind("drafted"), ObsType::Span);
        assert_eq!(ObsType::of_kind("approved"), ObsType::Event);
        let derived = derive("model_call", &call);
        assert_eq!(derived.model.as_deref(), Some("claude-haiku-4-5"));
        assert_eq!(derived.error_code.as_deref(), Some("http_429"));
        assert_eq!(level("model_call", "", &call), Level::Error);
        let ok = json!({"model": "m", "outcome": "ok"});
        assert_eq!(derive("model_call", &ok).error_code, None);
        assert_eq!(level("model_call", "", &ok), Level::Default);
    }

    #[test]
    fn guardrail_and_send_errors_are_searchable() {
        let hold = json!({"rule": "prices", "verdict": "hold", "reason": "unknown_price"});
        let derived = derive("guardrail", &hold);
        assert_eq!(derived.rule.as_deref(), Some("prices"));
        assert_eq!(derived.error_code.as_deref(), Some("unknown_price"));
        assert_eq!(level("guardrail", "", &hold), Level::Warning);
        let pass = json!({"rule": "prices", "verdict": "pass", "reason": "catalog_prices"});
        assert_eq!(derive("guardrail", &pass).error_code, None);
        let failed = json!({"error": "Graph API error Some(131026) (HTTP 400): not a WhatsApp user"});
        assert_eq!(
            derive("send_failed", &failed).error_code.as_deref(),
            Some("131026")
        );
        let plain = json!({"error": "timeout"});
        assert_eq!(
            derive("send_attempt", &plain).error_code.as_deref(),
            Some("send_attempt")
        );
        assert!(is_retry("send_attempt", &plain));
        assert!(is_retry("model_call", &json!({"hop": 1})));
        assert!(!is_retry("model_call", &json!({"hop": 0})));
    }
}
