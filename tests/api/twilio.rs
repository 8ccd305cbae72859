//! WhatsApp through Twilio: signed form webhooks in, the Messages API out (a local stand-in
//! speaking Twilio's JSON and error format), status callbacks, and error 63016, which sends
//! the approved content template instead.

use crate::email_support::basic;
use crate::helpers::*;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Form, Json, Router};
use secrecy::SecretString;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tuesday::channels::twilio::sign;

pub const SID: &str = "AC00000000000000000000000000000001";
pub const TOKEN: &str = "twilio-auth-token";
pub const PUBLIC_URL: &str = "https://tuesday.example.com";
pub const OUR_NUMBER: &str = "+14155238886";

/// One send the stand-in received: the account in the path, the Authorization header, the form.
pub type SendRequest = (String, String, Vec<(String, String)>);

#[derive(Clone, Default)]
pub struct TwilioStandIn {
    pub requests: Arc<Mutex<Vec<SendRequest>>>,
    /// Error codes for the next sends; empty, every send is accepted.
    pub errors: Arc<Mutex<Vec<(u16, i64)>>>,
    /// The account's approved content templates (`HX…`).
    pub templates: Arc<Mutex<Vec<String>>>,
    /// Outside the 24-hour window: free text gets 63016, templates still go.
    pub window_closed: Arc<AtomicBool>,
}

fn twilio_error(status: u16, code: i64, message: &str) -> (StatusCode, Json<Value>) {
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
        Json(json!({
            "code": code, "message": message,
            "more_info": format!("https://www.twilio.com/docs/errors/{code}"), "status": status,
        })),
    )
}

/// What Twilio refuses in a Messages API form before creating a message: a malformed or
/// unknown ContentSid (21655), ContentVariables that are not a JSON object of non-empty
/// one-line strings (21656), variables without a ContentSid (21654), and no content at all
/// (21619).
fn refuse_content(form: &[(String, String)], templates: &[String]) -> Option<(StatusCode, Json<Value>)> {
    let get = |name: &str| form.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
    let variables_ok = |v: &str| {
        serde_json::from_str::<serde_json::Map<String, Value>>(v).is_ok_and(|m| {
            m.values().all(|v| {
                v.as_str()
                    .is_some_and(|s| !s.trim().is_empty() && !s.contains(['\n', '\t']))
            })
        })
    };
    match (get("ContentSid"), get("ContentVariables"), get("Body")) {
        (Some(sid), _, _)
            if !(sid.len() == 34
                && sid.starts_with("HX")
                && sid[2..].chars().all(|c| c.is_ascii_hexdigit())
                && templates.iter().any(|t| t == sid)) =>
        {
            Some(twilio_error(400, 21655, "The ContentSid is Invalid"))
        }
        (Some(_), Some(variables), _) if !variables_ok(variables) => Some(twilio_error(
            400,
            21656,
            "The ContentVariables Parameter is invalid",
        )),
        (None, Some(_), _) => Some(twilio_error(400, 21654, "ContentSid Required")),
        (None, None, None) => Some(twilio_error(
            400,
            21619,
            "A text message body or media url must be specified",
        )),
        _ => None,
    }
}

async fn create_message(
    State(twilio): State<TwilioStandIn>,
    Path(account): Path<String>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> (StatusCode, Json<Value>) {
    let authorization = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let count = {
        let mut requests = twilio.requests.lock().expect("lock");
        requests.push((account.clone(), authorization.clone(), form.clone()));
        requests.len()
    };
    if authorization != basic(SID, TOKEN) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(
                json!({"code": 20003, "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401}),
            ),
        );
    }
    if let Some(refusal) = refuse_content(&form, &twilio.templates.lock().expect("lock")) {
        return refusal;
    }
    let free_text = !form.iter().any(|(n, _)| n == "ContentSid");
    if free_text && twilio.window_closed.load(Ordering::SeqCst) {
        return twilio_error(
            400,
            63016,
            "Failed to send freeform message because you are outside the allowed window. If you are using WhatsApp, please use a Message Template.",
        );
    }
    let next = {
        let mut errors = twilio.errors.lock().expect("lock");
        (!errors.is_empty()).then(|| errors.remove(0))
    };
    if let Some((status, code)) = next {
        return twilio_error(status, code, "stand-in error");
    }
    let get = |name: &str| {
        form.iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    (
        StatusCode::CREATED,
        Json(json!({
            "sid": format!("SM{count:032}"), "account_sid": account, "status": "queued",
            "from": get("From"), "to": get("To"), "body": get("Body"), "num_segments": "1",
            "error_code": null, "error_message": null, "api_version": "2010-04-01",
        })),
    )
}

async fn spawn_twilio() -> (String, TwilioStandIn) {
    let twilio = TwilioStandIn::default();
    let router = Router::new()
        .route(
            "/2010-04-01/Accounts/{account}/Messages.json",
            post(create_message),
        )
        .with_state(twilio.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, router).await.expect("stand-in serves") });
    (address, twilio)
}

pub async fn spawn_twilio_app() -> (TestApp, TwilioStandIn) {
    spawn_twilio_app_with(|_| {}).await
}

pub async fn spawn_twilio_app_with(
    configure: impl FnOnce(&mut tuesday::config::Settings),
) -> (TestApp, TwilioStandIn) {
    let (base, twilio) = spawn_twilio().await;
    let app = spawn_app_with(|s| {
        s.twilio.account_sid = Some(SID.to_owned());
        s.twilio.auth_token = Some(SecretString::from(TOKEN));
        s.twilio.public_url = Some(PUBLIC_URL.to_owned());
        s.twilio.api_base = base;
        s.pipeline.auto_send_intents = Vec::new();
        configure(s);
    })
    .await;
    (app, twilio)
}

pub fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub fn inbound(sid: &str, body: &str) -> Vec<(String, String)> {
    params(&[
        ("SmsMessageSid", sid),
        ("NumMedia", "0"),
        ("ProfileName", "Conceição"),
        ("MessageType", "text"),
        ("SmsSid", sid),
        ("WaId", "5511987654321"),
        ("SmsStatus", "received"),
        ("Body", body),
        ("To", &format!("whatsapp:{OUR_NUMBER}")),
        ("NumSegments", "1"),
        ("MessageSid", sid),
        ("AccountSid", SID),
        ("From", "whatsapp:+5511987654321"),
        ("ApiVersion", "2010-04-01"),
    ])
}

impl TestApp {
    pub async fn post_twilio(
        &self,
        path: &str,
        form: &[(String, String)],
        signature: Option<String>,
    ) -> reqwest::Response {
        let signature =
            signature.unwrap_or_else(|| sign(TOKEN.as_bytes(), &format!("{PUBLIC_URL}{path}"), form));
        self.http
            .post(format!("{}{path}", self.address))
            .header("x-twilio-signature", signature)
            .form(form)
            .send()
            .await
            .expect("twilio webhook")
    }
}

#[tokio::test]
async fn only_signed_twilio_webhooks_are_taken() {
    let (app, _) = spawn_twilio_app().await;
    let form = inbound("SM_in_1", "Olá! Quanto custa o curso de Análise de Dados? 😊");
    let unsigned = app
        .http
        .post(format!("{}/webhooks/twilio", app.address))
        .form(&form)
        .send()
        .await
        .expect("post");
    assert_eq!(unsigned.status(), 401);
    let forged = app
        .post_twilio("/webhooks/twilio", &form, Some(sign(b"other", "x", &form)))
        .await;
    assert_eq!(forged.status(), 401);
    // Signed for another URL: the public URL is part of the signature.
    let elsewhere = sign(TOKEN.as_bytes(), "https://evil.example/webhooks/twilio", &form);
    assert_eq!(
        app.post_twilio("/webhooks/twilio", &form, Some(elsewhere))
            .await
            .status(),
        401
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM webhook_deliveries").await, 0);

    let ok = app.post_twilio("/webhooks/twilio", &form, None).await;
    assert_eq!(ok.status(), 200);
    assert!(
        ok.text().await.unwrap_or_default().contains("<Response>"),
        "TwiML answer"
    );
    assert_eq!(
        app.text("SELECT body FROM messages").await,
        "Olá! Quanto custa o curso de Análise de Dados? 😊"
    );
    assert_eq!(app.text("SELECT address FROM contacts").await, "5511987654321");
    assert_eq!(app.text("SELECT channel FROM conversations").await, "twilio");
    // Twilio retries: stored once.
    assert_eq!(
        app.post_twilio("/webhooks/twilio", &form, None).await.status(),
        200
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 1);

    let bare = spawn_app().await;
    let response = bare.post_twilio("/webhooks/twilio", &form, None).await;
    assert_eq!(response.status(), 503);
}

#[tokio::test]
async fn a_twilio_reply_goes_out_through_the_messages_api_and_is_followed_to_read() {
    let (app, twilio) = spawn_twilio_app().await;
    let form = inbound("SM_in_2", "hola, cuanto cuesta el curso de ux?? 🙏");
    assert_eq!(
        app.post_twilio("/webhooks/twilio", &form, None).await.status(),
        200
    );
    assert_eq!(app.drain().await, 1);
    let conversation_id = app.count("SELECT id FROM conversations").await;
    app.approve_held(conversation_id).await;
    assert_eq!(app.drain().await, 1);

    let requests = twilio.requests.lock().expect("lock").clone();
    assert_eq!(requests.len(), 1);
    let (account, authorization, sent) = &requests[0];
    assert_eq!(account, SID);
    assert_eq!(authorization, &basic(SID, TOKEN));
    let get = |name: &str| sent.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
    assert_eq!(get("From"), Some("whatsapp:+14155238886"));
    assert_eq!(get("To"), Some("whatsapp:+5511987654321"));
    assert_eq!(
        get("StatusCallback"),
        Some("https://tuesday.example.com/webhooks/twilio/status")
    );
    let draft = app.text("SELECT body FROM drafts").await;
    assert_eq!(get("Body"), Some(draft.as_str()));
    let sid = app
        .text("SELECT external_id FROM messages WHERE direction = 'out'")
        .await;
    assert_eq!(sid, format!("SM{:032}", 1));

    let read = params(&[
        ("MessageSid", &sid),
        ("MessageStatus", "read"),
        ("AccountSid", SID),
    ]);
    assert_eq!(
        app.post_twilio("/webhooks/twilio/status", &read, None)
            .await
            .status(),
        200
    );
    let late = params(&[
        ("MessageSid", &sid),
        ("MessageStatus", "delivered"),
        ("AccountSid", SID),
    ]);
    assert_eq!(
        app.post_twilio("/webhooks/twilio/status", &late, None)
            .await
            .status(),
        200
    );
    app.drain().await;
    assert_eq!(
        app.text("SELECT status FROM messages WHERE direction = 'out'")
            .await,
        "read"
    );
}
