//! Trace export over OTLP/HTTP (protobuf) to any OpenTelemetry collector and to Langfuse's OTLP
//! endpoint. Each inbound message is a trace whose root span is its `received` event; every
//! other event on it is a child span carrying Langfuse's `langfuse.*` attributes, the session
//! (conversation) and user (contact) on every span, and our computed cost on generations.
//! Spans wait in a bounded buffer per destination: a collector that is down costs memory up to
//! the bound, then the oldest spans are dropped and counted.

use super::metrics::Metrics;
use super::redaction;
use super::settings::{ObservabilitySettings, Redaction};
use super::trace::{self, Level, ObsType};
use crate::store::Observation;
use anyhow::Context;
use base64::Engine;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, ArrayValue, InstrumentationScope, KeyValue, any_value,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, span, status};
use prost::Message;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use secrecy::ExposeSecret;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::VecDeque;
use std::time::Duration;

/// The first `N` bytes of SHA-256 over `text`: stable ids, so spans exported at different
/// times (and by different instances) join the same trace.
fn digest<const N: usize>(text: String) -> [u8; N] {
    let digest = Sha256::digest(text);
    let mut id = [0u8; N];
    id.copy_from_slice(&digest[..N]);
    id
}

/// The trace id of an inbound message.
pub fn trace_id(message_id: i64) -> [u8; 16] {
    digest(format!("tuesday:trace:{message_id}"))
}

/// The span id of an event.
pub fn span_id(event_id: i64) -> [u8; 8] {
    digest(format!("tuesday:span:{event_id}"))
}

/// The root span of a message's trace (its `received` event).
pub fn root_span_id(message_id: i64) -> [u8; 8] {
    digest(format!("tuesday:root:{message_id}"))
}

/// The trace id as lowercase hex, for logs and pages.
pub fn trace_id_hex(message_id: i64) -> String {
    hex::encode(trace_id(message_id))
}

fn kv(key: &str, value: any_value::Value) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    }
}

fn kv_str(key: &str, value: impl Into<String>) -> KeyValue {
    kv(key, any_value::Value::StringValue(value.into()))
}

fn as_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// One event as an OTLP span, or `None` for events outside any message's trace.
pub fn to_span(event: &Observation, redaction: Redaction) -> Option<Span> {
    let message_id = event.message_id?;
    let detail: Value = serde_json::from_str(&event.detail).unwrap_or(Value::Null);
    let mask = redaction != Redaction::None;
    let masked = |text: String| if mask { redaction::mask(&text) } else { text };
    let obs_type = ObsType::of_kind(&event.kind);
    let level = trace::level(&event.kind, &event.summary, &detail);
    let is_root = event.kind == "received";
    let mut attributes = vec![
        kv_str("langfuse.observation.type", obs_type.as_str()),
        kv_str("langfuse.observation.level", level.as_str()),
        kv_str("langfuse.observation.metadata.kind", event.kind.clone()),
        kv_str("tuesday.event.kind", event.kind.clone()),
        kv("tuesday.message.id", any_value::Value::IntValue(message_id)),
    ];
    if let Some(conversation) = event.conversation_id {
        attributes.push(kv_str(
            "langfuse.session.id",
            format!("conversation-{conversation}"),
        ));
        attributes.push(kv_str("session.id", format!("conversation-{conversation}")));
    }
    if let Some(contact) = event.contact_id {
        attributes.push(kv_str("langfuse.user.id", format!("contact-{contact}")));
        attributes.push(kv_str("user.id", format!("contact-{contact}")));
    }
    if is_root {
        attributes.push(kv_str("langfuse.trace.name", "inbound message"));
        let tags: Vec<AnyValue> = ["whatsapp", event.language.as_deref().unwrap_or("unknown")]
            .into_iter()
            .map(|t| AnyValue {
                value: Some(any_value::Value::StringValue(t.to_owned())),
            })
            .collect();
        attributes.push(kv(
            "langfuse.trace.tags",
            any_value::Value::ArrayValue(ArrayValue { values: tags }),
        ));
        attributes.push(kv_str(
            "langfuse.trace.metadata.message_id",
            message_id.to_string(),
        ));
    }
    if let Some(who) = &event.username {
        attributes.push(kv_str("langfuse.observation.metadata.reviewer", who.clone()));
        attributes.push(kv_str("tuesday.reviewer", who.clone()));
    }
    let (input, output) = trace::input_output(&event.kind, &detail);
    if let Some(input) = input {
        attributes.push(kv_str("langfuse.observation.input", masked(as_text(&input))));
    }
    if let Some(output) = output {
        attributes.push(kv_str("langfuse.observation.output", masked(as_text(&output))));
    }
    if obs_type == ObsType::Generation {
        let text = |key: &str| detail.get(key).and_then(Value::as_str).unwrap_or("").to_owned();
        attributes.push(kv_str("langfuse.observation.model.name", text("model")));
        attributes.push(kv_str("gen_ai.request.model", text("model")));
        attributes.push(kv_str("gen_ai.system", text("provider")));
        attributes.push(kv_str("langfuse.observation.metadata.tier", text("tier")));
        attributes.push(kv_str("langfuse.observation.metadata.provider", text("provider")));
        if let Some(usage) = trace::usage_details(&detail) {
            let n = |k: &str| usage.get(k).and_then(Value::as_i64).unwrap_or(0);
            attributes.push(kv(
                "gen_ai.usage.input_tokens",
                any_value::Value::IntValue(n("input")),
            ));
            attributes.push(kv(
                "gen_ai.usage.output_tokens",
                any_value::Value::IntValue(n("output")),
            ));
            attributes.push(kv_str("langfuse.observation.usage_details", usage.to_string()));
        }
        if let Some(cost) = trace::cost_usd(&detail) {
            let total: f64 = cost.parse().unwrap_or(0.0);
            attributes.push(kv_str(
                "langfuse.observation.cost_details",
                serde_json::json!({ "total": total }).to_string(),
            ));
            attributes.push(kv("gen_ai.usage.cost", any_value::Value::DoubleValue(total)));
            attributes.push(kv_str("tuesday.cost_usd", cost));
        }
        for key in ["latency_ms", "hop", "retries"] {
            if let Some(n) = detail.get(key).and_then(Value::as_i64) {
                attributes.push(kv(&format!("tuesday.{key}"), any_value::Value::IntValue(n)));
            }
        }
        if let Some(id) = detail.get("provider_request_id").and_then(Value::as_str) {
            attributes.push(kv_str("tuesday.provider_request_id", id));
        }
    }
    if trace::is_retry(&event.kind, &detail) {
        attributes.push(kv("tuesday.retry", any_value::Value::BoolValue(true)));
    }
    let start = event.started_at.unwrap_or(event.at);
    let end = event.ended_at.unwrap_or(event.at).max(start);
    let nanos = |ms: i64| u64::try_from(ms).unwrap_or(0) * 1_000_000;
    let status = match level {
        Level::Error => Some(Status {
            code: status::StatusCode::Error as i32,
            message: masked(event.summary.clone()),
        }),
        _ => None,
    };
    if level != Level::Default {
        attributes.push(kv_str(
            "langfuse.observation.status_message",
            masked(event.summary.clone()),
        ));
    }
    Some(Span {
        trace_id: trace_id(message_id).to_vec(),
        span_id: if is_root {
            root_span_id(message_id).to_vec()
        } else {
            span_id(event.id).to_vec()
        },
        parent_span_id: if is_root {
            Vec::new()
        } else {
            root_span_id(message_id).to_vec()
        },
        name: if is_root {
            "inbound message".to_owned()
        } else {
            event.kind.clone()
        },
        kind: if obs_type == ObsType::Generation {
            span::SpanKind::Client as i32
        } else {
            span::SpanKind::Internal as i32
        },
        start_time_unix_nano: nanos(start),
        end_time_unix_nano: nanos(end),
        attributes,
        status,
        ..Default::default()
    })
}

/// One export request holding `spans`.
pub fn request(spans: Vec<Span>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![kv_str("service.name", "tuesday")],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: "tuesday".to_owned(),
                    version: env!("CARGO_PKG_VERSION").to_owned(),
                    ..Default::default()
                }),
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// One place spans go, with its own bounded buffer.
pub struct Destination {
    pub name: &'static str,
    url: String,
    headers: HeaderMap,
    timeout: Duration,
    buffer: VecDeque<Span>,
    capacity: usize,
    batch: usize,
}

impl Destination {
    /// The destinations the settings configure (none, one or both).
    pub fn configured(settings: &ObservabilitySettings) -> anyhow::Result<Vec<Destination>> {
        let capacity = settings.export_buffer_spans.max(1);
        let batch = settings.export_batch_spans.max(1);
        let mut out = Vec::new();
        if let Some(otlp) = &settings.otlp {
            let mut headers = HeaderMap::new();
            for (name, value) in &otlp.headers {
                headers.insert(
                    HeaderName::try_from(name.as_str()).with_context(|| {
                        format!("observability.otlp.headers: {name:?} is not a header name")
                    })?,
                    HeaderValue::try_from(value.expose_secret()).with_context(|| {
                        format!("observability.otlp.headers.{name} is not a header value")
                    })?,
                );
            }
            out.push(Destination {
                name: "otlp",
                url: otlp.endpoint.clone(),
                headers,
                timeout: Duration::from_millis(otlp.timeout_ms),
                buffer: VecDeque::new(),
                capacity,
                batch,
            });
        }
        if let Some(langfuse) = &settings.langfuse {
            let token = base64::engine::general_purpose::STANDARD.encode(format!(
                "{}:{}",
                langfuse.public_key,
                langfuse.secret_key.expose_secret()
            ));
            let mut authorization = HeaderValue::try_from(format!("Basic {token}"))
                .context("observability.langfuse keys must be printable")?;
            authorization.set_sensitive(true);
            let mut headers = HeaderMap::new();
            headers.insert(AUTHORIZATION, authorization);
            out.push(Destination {
                name: "langfuse",
                url: format!(
                    "{}/api/public/otel/v1/traces",
                    langfuse.host.trim_end_matches('/')
                ),
                headers,
                timeout: Duration::from_millis(langfuse.timeout_ms),
                buffer: VecDeque::new(),
                capacity,
                batch,
            });
        }
        Ok(out)
    }

    /// Queues spans; past the bound the oldest go, counted as dropped.
    pub fn push(&mut self, spans: impl IntoIterator<Item = Span>, metrics: &Metrics) {
        for span in spans {
            if self.buffer.len() >= self.capacity {
                self.buffer.pop_front();
                metrics
                    .exported_spans
                    .get_or_create(&vec![
                        ("destination", self.name.to_owned()),
                        ("outcome", "dropped".to_owned()),
                    ])
                    .inc();
            }
            self.buffer.push_back(span);
        }
    }

    pub fn buffered(&self) -> usize {
        self.buffer.len()
    }

    /// Sends what is buffered, a batch per request, until the buffer is empty or a request
    /// fails (then the spans stay for the next try).
    pub async fn flush(&mut self, http: &reqwest::Client, metrics: &Metrics) {
        while !self.buffer.is_empty() {
            let n = self.batch.min(self.buffer.len());
            let spans: Vec<Span> = self.buffer.iter().take(n).cloned().collect();
            let body = request(spans).encode_to_vec();
            let result = http
                .post(&self.url)
                .headers(self.headers.clone())
                .header(CONTENT_TYPE, "application/x-protobuf")
                .timeout(self.timeout)
                .body(body)
                .send()
                .await;
            match result {
                Ok(response) if response.status().is_success() => {
                    self.buffer.drain(..n);
                    metrics
                        .exported_spans
                        .get_or_create(&vec![
                            ("destination", self.name.to_owned()),
                            ("outcome", "sent".to_owned()),
                        ])
                        .inc_by(n as u64);
                }
                Ok(response) => {
                    tracing::warn!(destination = self.name, status = %response.status(), buffered = self.buffer.len(), "trace export refused; will retry");
                    return;
                }
                Err(e) => {
                    tracing::warn!(destination = self.name, error = %e.without_url(), buffered = self.buffer.len(), "trace export failed; will retry");
                    return;
                }
            }
        }
    }
}
