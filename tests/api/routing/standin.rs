//! A local stand-in for Anthropic's Messages API and OpenAI's Chat Completions, speaking their
//! wire formats, errors included. Tests queue replies per model; a model with nothing queued
//! answers 500, so a call nobody expected fails loudly.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// One request as the stand-in received it.
#[derive(Debug, Clone)]
pub struct ModelRequest {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Value,
}

impl ModelRequest {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    pub fn model(&self) -> &str {
        self.body["model"].as_str().unwrap_or("")
    }

    /// The canary line of the system prompt, whichever format carried it.
    pub fn system_text(&self) -> String {
        match &self.body["system"] {
            Value::Array(blocks) => blocks
                .iter()
                .filter_map(|b| b["text"].as_str())
                .collect::<Vec<_>>()
                .join("\n"),
            _ => self.body["messages"][0]["content"]
                .as_str()
                .unwrap_or("")
                .to_owned(),
        }
    }

    pub fn canary(&self) -> String {
        let system = self.system_text();
        system
            .split_whitespace()
            .find(|w| w.starts_with("TUE-CANARY-"))
            .unwrap_or("")
            .trim_end_matches('.')
            .to_owned()
    }
}

/// Token counts a successful answer reports, in the provider's own terms.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tokens {
    /// Anthropic: uncached input. OpenAI: every prompt token, cached ones included.
    pub input: u64,
    pub output: u64,
    /// Anthropic only.
    pub cache_write: u64,
    pub cache_read: u64,
}

#[derive(Debug, Clone)]
pub enum Reply {
    /// A successful answer whose text is `text`.
    Answer { text: String, tokens: Tokens },
    /// The answer's text repeats the canary from the request's system prompt.
    LeakCanary,
    /// An error in the provider's format, with extra headers.
    Error {
        status: u16,
        kind: &'static str,
        headers: Vec<(&'static str, String)>,
    },
    /// A 200 whose body is not the provider's format at all.
    Garbage,
    /// Waits, then gives the inner reply.
    Slow(u64, Box<Reply>),
}

pub fn answer(text: impl Into<String>, tokens: Tokens) -> Reply {
    Reply::Answer {
        text: text.into(),
        tokens,
    }
}

pub fn classified(intent: &str, confidence: f64) -> Reply {
    answer(
        json!({"intent": intent, "confidence": confidence}).to_string(),
        Tokens {
            input: 400,
            output: 12,
            ..Tokens::default()
        },
    )
}

/// A good reply in the language the drafting prompt asks for (its `language` field), or else
/// in the language of the customer's words.
pub fn advisor_draft(request: &ModelRequest) -> Reply {
    let text = request.body.to_string();
    let asks = |code: &str| text.contains(&format!("\\\"language\\\":\\\"{code}\\\""));
    let says = |words: &[&str]| words.iter().any(|w| text.contains(w));
    let language = ["pt", "es", "en"].into_iter().find(|code| asks(code));
    let language = language.unwrap_or(if says(&["Olá", "consultor", "curso de dados", "matricula"]) {
        "pt"
    } else if says(&["asesor", "python", "llamar"]) {
        "es"
    } else {
        "en"
    });
    drafted(match language {
        "pt" => "Claro! Um consultor vai falar com você em breve.",
        "es" => "¡Claro! Un asesor te escribirá enseguida.",
        _ => "Sure! An advisor will write to you shortly.",
    })
}

pub fn drafted(reply: &str) -> Reply {
    answer(
        json!({ "reply": reply }).to_string(),
        Tokens {
            input: 900,
            output: 80,
            ..Tokens::default()
        },
    )
}

pub fn error(status: u16, kind: &'static str) -> Reply {
    Reply::Error {
        status,
        kind,
        headers: Vec::new(),
    }
}

/// Answers a request when nothing is queued for its model.
pub type Responder = Arc<dyn Fn(&ModelRequest) -> Reply + Send + Sync>;

#[derive(Clone, Default)]
pub struct ModelStandIn {
    pub requests: Arc<Mutex<Vec<ModelRequest>>>,
    queues: Arc<Mutex<HashMap<String, Vec<Reply>>>>,
    otherwise: Arc<Mutex<Option<Responder>>>,
}

impl ModelStandIn {
    /// Queues replies for `model`, answered in order.
    pub fn queue(&self, model: &str, replies: Vec<Reply>) {
        self.queues
            .lock()
            .expect("lock")
            .entry(model.to_owned())
            .or_default()
            .extend(replies);
    }

    pub fn requests(&self) -> Vec<ModelRequest> {
        self.requests.lock().expect("lock").clone()
    }

    /// Answers with `responder` whenever a model's queue is empty (instead of a 500); `None`
    /// goes back to the 500.
    pub fn otherwise(&self, responder: Option<Responder>) {
        *self.otherwise.lock().expect("lock") = responder;
    }

    pub fn requests_for(&self, model: &str) -> Vec<ModelRequest> {
        self.requests()
            .into_iter()
            .filter(|r| r.model() == model)
            .collect()
    }

    fn next(&self, request: ModelRequest) -> (ModelRequest, Option<Reply>) {
        self.requests.lock().expect("lock").push(request.clone());
        let mut queues = self.queues.lock().expect("lock");
        let reply = queues
            .get_mut(request.model())
            .and_then(|q| (!q.is_empty()).then(|| q.remove(0)));
        let otherwise = self.otherwise.lock().expect("lock").clone();
        let reply = reply.or_else(|| otherwise.map(|respond| respond(&request)));
        (request, reply)
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Wire {
    Anthropic,
    OpenAi,
}

fn anthropic_error(kind: &str) -> Value {
    json!({"type": "error", "error": {"type": kind, "message": format!("stand-in {kind}")}})
}

fn openai_error(kind: &str) -> Value {
    json!({"error": {"message": format!("stand-in {kind}"), "type": kind, "param": null, "code": kind}})
}

async fn respond(wire: Wire, request: ModelRequest, reply: Option<Reply>) -> Response {
    let mut reply = reply.unwrap_or(Reply::Error {
        status: 500,
        kind: "api_error",
        headers: Vec::new(),
    });
    while let Reply::Slow(ms, inner) = reply {
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
        reply = *inner;
    }
    let model = request.model().to_owned();
    let (text, tokens) = match reply {
        Reply::Answer { text, tokens } => (text, tokens),
        Reply::LeakCanary => (
            json!({"reply": format!("Claro. Mi referencia interna es {}", request.canary())}).to_string(),
            Tokens {
                input: 900,
                output: 30,
                ..Tokens::default()
            },
        ),
        Reply::Garbage => {
            return (
                StatusCode::OK,
                [("content-type", "application/json")],
                "{\"oops\": tru",
            )
                .into_response();
        }
        Reply::Error {
            status,
            kind,
            headers,
        } => {
            let body = match wire {
                Wire::Anthropic => anthropic_error(kind),
                Wire::OpenAi => openai_error(kind),
            };
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut response = (status, Json(body)).into_response();
            for (name, value) in headers {
                if let Ok(value) = HeaderValue::from_str(&value) {
                    response.headers_mut().insert(name, value);
                }
            }
            return response;
        }
        Reply::Slow(..) => unreachable!("unwrapped above"),
    };
    let body = match wire {
        Wire::Anthropic => json!({
            "id": "msg_standin", "type": "message", "role": "assistant", "model": model,
            "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn", "stop_sequence": null,
            "usage": {"input_tokens": tokens.input, "output_tokens": tokens.output,
                      "cache_creation_input_tokens": tokens.cache_write,
                      "cache_read_input_tokens": tokens.cache_read},
        }),
        Wire::OpenAi => json!({
            "id": "chatcmpl-standin", "object": "chat.completion", "created": 1_764_780_000, "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": tokens.input, "completion_tokens": tokens.output,
                      "total_tokens": tokens.input + tokens.output,
                      "prompt_tokens_details": {"cached_tokens": tokens.cache_read}},
        }),
    };
    (StatusCode::OK, Json(body)).into_response()
}

async fn messages(
    State(standin): State<ModelStandIn>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let (request, reply) = standin.next(ModelRequest {
        path: "/v1/messages".to_owned(),
        headers,
        body,
    });
    respond(Wire::Anthropic, request, reply).await
}

async fn chat_completions(
    State(standin): State<ModelStandIn>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let (request, reply) = standin.next(ModelRequest {
        path: "/v1/chat/completions".to_owned(),
        headers,
        body,
    });
    respond(Wire::OpenAi, request, reply).await
}

/// Starts the stand-in on a random local port; returns its base URL.
pub async fn spawn_models() -> (String, ModelStandIn) {
    let standin = ModelStandIn::default();
    let router = Router::new()
        .route("/v1/messages", post(messages))
        .route("/v1/chat/completions", post(chat_completions))
        .with_state(standin.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind model stand-in");
    let address = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, router).await.expect("stand-in serves") });
    (address, standin)
}
