//! Clients for hosted language models: the Anthropic Messages API and OpenAI Chat Completions
//! (which also reaches any OpenAI-compatible server: vLLM, llama.cpp, Ollama, OpenRouter).
//! One request shape in, one completion shape out, whatever the provider.
//!
//! [`Models::complete`] is the single call path: every model call goes through it. It makes one
//! attempt, within the provider's timeout (or less, when the task's deadline is nearer), and no
//! more than `failover.provider_concurrency` calls to one provider are in flight at a time.
//! Retries, breakers and fallback chains sit one layer up, in `routing::calls` with
//! `failover`, where each attempt can be written on the trace.

mod anthropic;
mod openai;
pub mod pricing;
mod retry_after;

pub use pricing::{Price, PriceTable};
pub use retry_after::parse_retry_after;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// The wire format a provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    Anthropic,
    /// OpenAI Chat Completions, or any server that speaks it.
    Openai,
}

impl ProviderKind {
    pub fn default_base_url(self) -> &'static str {
        match self {
            ProviderKind::Anthropic => "https://api.anthropic.com",
            ProviderKind::Openai => "https://api.openai.com",
        }
    }
}

/// `[routing.providers.NAME]`: where a provider is and how to reach it.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProviderSettings {
    /// The wire format. Optional when the provider is named `anthropic` or `openai`.
    pub kind: Option<ProviderKind>,
    /// Without it, the provider's public API. Point it at a local server or a stand-in.
    pub base_url: Option<String>,
    /// Required for Anthropic; an OpenAI-compatible server without auth may leave it unset.
    pub api_key: Option<SecretString>,
    /// Per-request timeout, in milliseconds.
    pub timeout_ms: u64,
}

impl Default for ProviderSettings {
    fn default() -> Self {
        ProviderSettings {
            kind: None,
            base_url: None,
            api_key: None,
            timeout_ms: 30_000,
        }
    }
}

impl ProviderSettings {
    /// The wire format, from `kind` or else from the provider's name.
    pub fn kind_for(&self, name: &str) -> Option<ProviderKind> {
        self.kind.or(match name {
            "anthropic" => Some(ProviderKind::Anthropic),
            "openai" => Some(ProviderKind::Openai),
            _ => None,
        })
    }
}

/// One model call: a system prompt (split so the stable part can be cached), the user's turn,
/// and the JSON schema the answer must fit.
#[derive(Debug, Clone)]
pub struct Request {
    /// The part of the system prompt that is the same call after call (policy, catalog):
    /// Anthropic caches it; OpenAI caches it as the prompt's prefix.
    pub system: String,
    /// The part that changes every call (the canary), after the cached prefix.
    pub system_suffix: String,
    pub user: String,
    /// A name for the schema (OpenAI requires one).
    pub schema_name: &'static str,
    pub schema: serde_json::Value,
    pub max_output_tokens: u32,
}

impl Request {
    /// An upper bound on the prompt's tokens: byte-level tokenizers never make more tokens than
    /// bytes, plus room for the message framing and (OpenAI) the schema.
    pub fn prompt_tokens_at_most(&self) -> u64 {
        let bytes = self.system.len() + self.system_suffix.len() + self.user.len();
        (bytes + self.schema.to_string().len() + 64) as u64
    }
}

/// Tokens billed for one call, in four disjoint kinds. Each provider's usage is mapped onto
/// these so one price formula fits all.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Usage {
    /// Prompt tokens read neither from nor into the cache.
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_write_tokens: u64,
    pub cache_read_tokens: u64,
}

impl Usage {
    /// Every prompt token, however it was billed.
    pub fn prompt_tokens(&self) -> u64 {
        self.input_tokens + self.cache_write_tokens + self.cache_read_tokens
    }
}

/// A provider's answer, before anyone has checked the text against the schema.
#[derive(Debug, Clone)]
pub struct Completion {
    pub text: String,
    pub usage: Usage,
    /// The model as the provider named it in the answer.
    pub model: String,
    pub latency: Duration,
    /// The provider's id for the answer, for looking the call up on their side.
    pub request_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CallError {
    /// The provider answered with an error status.
    #[error("HTTP {status} {kind}: {message}")]
    Status {
        status: u16,
        /// The provider's error type (`rate_limit_error`, `overloaded_error`, …).
        kind: String,
        message: String,
        retry_after: Option<Duration>,
    },
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("could not reach the provider: {0}")]
    Transport(String),
    /// A 2xx whose body is not the provider's answer format, or an answer cut short.
    #[error("unusable answer: {0}")]
    Malformed(String),
    #[error("no provider {0:?} is configured")]
    NotConfigured(String),
}

impl CallError {
    /// A short code for the trace and the `model_calls.outcome` column.
    pub fn outcome(&self) -> String {
        match self {
            CallError::Status { status, .. } => format!("http_{status}"),
            CallError::Timeout(_) => "timeout".to_owned(),
            CallError::Transport(_) => "transport".to_owned(),
            CallError::Malformed(_) => "malformed".to_owned(),
            CallError::NotConfigured(_) => "not_configured".to_owned(),
        }
    }

    /// Whether the same call may succeed later: rate limits, overload, server errors, timeouts
    /// and connection errors. 400, 401 and 403 never will.
    pub fn retryable(&self) -> bool {
        match self {
            CallError::Status { status, .. } => *status == 429 || *status >= 500,
            CallError::Timeout(_) | CallError::Transport(_) => true,
            CallError::Malformed(_) | CallError::NotConfigured(_) => false,
        }
    }

    /// How long the provider asked us to wait, if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            CallError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// One configured provider.
#[derive(Debug, Clone)]
struct Client {
    kind: ProviderKind,
    base_url: String,
    api_key: Option<SecretString>,
    timeout: Duration,
    /// Bounds the calls in flight to this provider.
    slots: Arc<Semaphore>,
}

/// Every configured provider, by name, sharing one connection pool.
#[derive(Debug, Clone, Default)]
pub struct Models {
    http: reqwest::Client,
    clients: BTreeMap<String, Client>,
}

/// Calls in flight to one provider when nothing else is configured.
const DEFAULT_CONCURRENCY: usize = 8;

impl Models {
    pub fn new(providers: &BTreeMap<String, ProviderSettings>) -> anyhow::Result<Models> {
        Models::with_concurrency(providers, DEFAULT_CONCURRENCY)
    }

    /// Like [`Models::new`], with at most `per_provider` calls in flight to each provider.
    pub fn with_concurrency(
        providers: &BTreeMap<String, ProviderSettings>,
        per_provider: usize,
    ) -> anyhow::Result<Models> {
        let mut clients = BTreeMap::new();
        for (name, settings) in providers {
            let kind = settings.kind_for(name).ok_or_else(|| {
                anyhow::anyhow!("routing.providers.{name}: set kind = \"anthropic\" or \"openai\"")
            })?;
            anyhow::ensure!(
                kind != ProviderKind::Anthropic || settings.api_key.is_some(),
                "routing.providers.{name}: Anthropic needs api_key \
                 (or TUESDAY_ROUTING__PROVIDERS__{}__API_KEY)",
                name.to_uppercase()
            );
            let base_url = settings
                .base_url
                .clone()
                .unwrap_or_else(|| kind.default_base_url().to_owned());
            clients.insert(
                name.clone(),
                Client {
                    kind,
                    base_url: base_url.trim_end_matches('/').to_owned(),
                    api_key: settings.api_key.clone(),
                    timeout: Duration::from_millis(settings.timeout_ms),
                    slots: Arc::new(Semaphore::new(per_provider.max(1))),
                },
            );
        }
        let http = reqwest::Client::builder()
            .user_agent(concat!("tuesday/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Models { http, clients })
    }

    pub fn has(&self, provider: &str) -> bool {
        self.clients.contains_key(provider)
    }

    /// Sends `request` to `model` at `provider` and returns its answer.
    pub async fn complete(
        &self,
        provider: &str,
        model: &str,
        request: &Request,
    ) -> Result<Completion, CallError> {
        self.complete_within(provider, model, request, None).await
    }

    /// Like [`Models::complete`], giving up after `limit` when it is shorter than the
    /// provider's timeout. Waiting for a free slot at the provider counts against it.
    #[tracing::instrument(skip_all, fields(provider = %provider, model = %model))]
    pub async fn complete_within(
        &self,
        provider: &str,
        model: &str,
        request: &Request,
        limit: Option<Duration>,
    ) -> Result<Completion, CallError> {
        let client = self
            .clients
            .get(provider)
            .ok_or_else(|| CallError::NotConfigured(provider.to_owned()))?;
        let timeout = limit.map_or(client.timeout, |l| l.min(client.timeout));
        let started = Instant::now();
        let call = async {
            // Queued calls wait their turn instead of piling onto a recovering provider.
            let _slot = client
                .slots
                .acquire()
                .await
                .map_err(|_| CallError::Transport("the provider's slots were closed".to_owned()))?;
            match client.kind {
                ProviderKind::Anthropic => {
                    anthropic::complete(
                        &self.http,
                        &client.base_url,
                        client.api_key.as_ref(),
                        model,
                        request,
                    )
                    .await
                }
                ProviderKind::Openai => {
                    openai::complete(
                        &self.http,
                        &client.base_url,
                        client.api_key.as_ref(),
                        model,
                        request,
                    )
                    .await
                }
            }
        };
        // One deadline for connecting, sending and reading the whole answer.
        let result = match tokio::time::timeout(timeout, call).await {
            Ok(result) => result,
            Err(_) => Err(CallError::Timeout(timeout)),
        };
        let latency = started.elapsed();
        match &result {
            Ok(_) => tracing::debug!(?latency, "model answered"),
            Err(e) => tracing::warn!(error = %e, ?latency, "model call failed"),
        }
        result.map(|mut completion| {
            completion.latency = latency;
            completion
        })
    }
}

/// Reads an error answer's status, provider error type, message and `Retry-After`.
async fn error_from(response: reqwest::Response, parse: fn(&str) -> Option<(String, String)>) -> CallError {
    let status = response.status().as_u16();
    let retry_after = parse_retry_after(response.headers(), std::time::SystemTime::now());
    let body = response.text().await.unwrap_or_default();
    let (kind, message) = parse(&body).unwrap_or_else(|| {
        let snippet: String = body.chars().take(200).collect();
        ("unknown".to_owned(), snippet)
    });
    CallError::Status {
        status,
        kind,
        message,
        retry_after,
    }
}

fn transport(e: reqwest::Error) -> CallError {
    CallError::Transport(e.without_url().to_string())
}
