//! `[observability]` settings: logs, metrics access, redaction, retention and trace export.

use secrecy::SecretString;
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ObservabilitySettings {
    /// `text` (the default) or `json`: one JSON object a line, with the span's fields.
    pub log_format: LogFormat,
    /// `/metrics` answers a request bearing this token. Unset (and `metrics_loopback` off): 404.
    pub metrics_token: Option<SecretString>,
    /// `/metrics` answers requests from 127.0.0.1 / ::1 without a token.
    pub metrics_loopback: bool,
    /// Mask phones, emails and ID numbers: nowhere, in exported traces, or in stored traces too.
    pub redaction: Redaction,
    /// Message bodies and traces older than this many days are removed; the counts stay. 0: kept.
    pub retention_days: u32,
    /// How often the event tail (metrics and export) reads new events, in milliseconds.
    pub tap_interval_ms: u64,
    /// OTLP/HTTP export to any OpenTelemetry collector.
    pub otlp: Option<OtlpSettings>,
    /// OTLP/HTTP export to Langfuse.
    pub langfuse: Option<LangfuseSettings>,
    /// Spans kept per destination while it is down; past this the oldest are dropped (counted).
    pub export_buffer_spans: usize,
    /// Spans per request.
    pub export_batch_spans: usize,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Redaction {
    #[default]
    None,
    /// Masked in what leaves Tuesday (trace export).
    Export,
    /// Masked in stored traces, trace pages and the export as well.
    Everywhere,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OtlpSettings {
    /// The traces URL, e.g. `http://127.0.0.1:4318/v1/traces`.
    pub endpoint: String,
    /// Extra headers (an API key, a tenant).
    #[serde(default)]
    pub headers: BTreeMap<String, SecretString>,
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LangfuseSettings {
    /// `https://cloud.langfuse.com` or a self-hosted base URL; `/api/public/otel/v1/traces` is added.
    pub host: String,
    pub public_key: String,
    pub secret_key: SecretString,
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
}

fn default_timeout_ms() -> u64 {
    5_000
}

impl Default for ObservabilitySettings {
    fn default() -> Self {
        ObservabilitySettings {
            log_format: LogFormat::Text,
            metrics_token: None,
            metrics_loopback: false,
            redaction: Redaction::None,
            retention_days: 0,
            tap_interval_ms: 1_000,
            otlp: None,
            langfuse: None,
            export_buffer_spans: 10_000,
            export_batch_spans: 512,
        }
    }
}
