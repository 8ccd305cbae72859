#![allow(dead_code)] // shared by several test binaries, each using a part
//! Spawns Tuesday on a random port with its own temporary SQLite file, next to a local stand-in
//! for Meta's Graph API that speaks its wire format, errors included.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use secrecy::SecretString;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
pub use tuesday::channels::whatsapp::sign;
use tuesday::config::Settings;
use tuesday::domain::Clock;
use tuesday::startup::Application;
use tuesday::state::AppState;

pub const APP_SECRET: &str = "test-app-secret";
pub const VERIFY_TOKEN: &str = "verify-me";
pub const ACCESS_TOKEN: &str = "graph-token";
pub const PHONE_NUMBER_ID: &str = "106540352242922";
pub const PASSWORD: &str = "correct horse battery";

/// One request the stand-in received.
#[derive(Debug, Clone)]
pub struct GraphRequest {
    pub path: String,
    pub authorization: String,
    pub body: Value,
}

/// What the stand-in answers to the next sends: success, or an error in Graph's format.
#[derive(Debug, Clone)]
pub enum GraphReply {
    Accept,
    /// Accept, but only after this many milliseconds.
    Slow(u64),
    Error {
        status: u16,
        code: i64,
    },
}

#[derive(Clone, Default)]
pub struct GraphStandIn {
    pub requests: Arc<Mutex<Vec<GraphRequest>>>,
    pub replies: Arc<Mutex<Vec<GraphReply>>>,
}

impl GraphStandIn {
    pub fn requests(&self) -> Vec<GraphRequest> {
        self.requests.lock().expect("lock").clone()
    }

    /// Queues replies for the next sends; once they run out, every send is accepted.
    pub fn reply_with(&self, replies: Vec<GraphReply>) {
        *self.replies.lock().expect("lock") = replies;
    }
}

async fn graph_send(
    State(graph): State<GraphStandIn>,
    Path((version, number)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    let authorization = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let count = {
        let mut requests = graph.requests.lock().expect("lock");
        requests.push(GraphRequest {
            path: format!("/{version}/{number}/messages"),
            authorization: authorization.clone(),
            body: body.clone(),
        });
        requests.len()
    };
    if authorization != format!("Bearer {ACCESS_TOKEN}") {
        return (
            StatusCode::UNAUTHORIZED,
            Json(
                json!({"error": {"message": "Invalid OAuth access token.", "type": "OAuthException", "code": 190, "fbtrace_id": "AbC"}}),
            ),
        );
    }
    let next = {
        let mut replies = graph.replies.lock().expect("lock");
        if replies.is_empty() {
            GraphReply::Accept
        } else {
            replies.remove(0)
        }
    };
    if let GraphReply::Slow(ms) = next {
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    }
    match next {
        GraphReply::Accept | GraphReply::Slow(_) => (
            StatusCode::OK,
            Json(json!({
                "messaging_product": "whatsapp",
                "contacts": [{"input": body["to"], "wa_id": body["to"]}],
                "messages": [{"id": format!("wamid.OUT{count}")}],
            })),
        ),
        GraphReply::Error { status, code } => (
            StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            Json(
                json!({"error": {"message": "stand-in error", "type": "OAuthException", "code": code,
                "error_data": {"messaging_product": "whatsapp", "details": "as configured by the test"}, "fbtrace_id": "AbC"}}),
            ),
        ),
    }
}

pub async fn spawn_graph() -> (String, GraphStandIn) {
    let graph = GraphStandIn::default();
    let router = Router::new()
        .route("/{version}/{number}/messages", post(graph_send))
        .with_state(graph.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind stand-in");
    let address = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, router).await.expect("stand-in serves") });
    (address, graph)
}

pub struct TestApp {
    pub address: String,
    pub state: AppState,
    pub graph: GraphStandIn,
    pub http: reqwest::Client,
    _dir: tempfile::TempDir,
}

/// The server that `TUESDAY_TEST_POSTGRES` names (for example `postgres://postgres@127.0.0.1:5432`)
/// runs the suite on PostgreSQL; without it, on SQLite.
pub fn postgres_server() -> Option<String> {
    std::env::var("TUESDAY_TEST_POSTGRES")
        .ok()
        .filter(|v| !v.is_empty())
}

/// A fresh, empty database for one test: a file in `dir`, or a new PostgreSQL database.
pub async fn fresh_database_url(dir: &std::path::Path) -> String {
    let Some(server) = postgres_server() else {
        return format!("sqlite://{}", dir.join("tuesday.db").display());
    };
    use sqlx::Connection;
    let name = format!("tuesday_test_{}_{:x}", std::process::id(), rand_suffix());
    let mut admin = sqlx::PgConnection::connect(&format!("{server}/postgres"))
        .await
        .expect("connect to the PostgreSQL test server");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .expect("create a test database");
    format!("{server}/{name}")
}

fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    hasher.finish()
}

/// Settings for a test: its own database, port 0, workers off (tests drain the queue).
pub async fn test_settings(dir: &std::path::Path, graph_base: &str) -> Settings {
    let mut settings = Settings {
        database_url: fresh_database_url(dir).await,
        ..Settings::default()
    };
    settings.server.port = 0;
    settings.clock_start = Some(TEST_CLOCK.now());
    settings.worker.enabled = false;
    settings.worker.retry_base_ms = 0;
    // Most tests exercise auto-send; the evaluation gate has tests of its own (evaluation.rs).
    settings.pipeline.auto_send_min_accuracy = 0.0;
    settings.whatsapp.app_secret = Some(SecretString::from(APP_SECRET));
    settings.whatsapp.verify_token = Some(SecretString::from(VERIFY_TOKEN));
    settings.whatsapp.access_token = Some(SecretString::from(ACCESS_TOKEN));
    settings.whatsapp.api_base = graph_base.to_owned();
    settings.server.body_limit_bytes = 64 * 1024;
    for password in [
        &mut settings.users.admin_password,
        &mut settings.users.manager_password,
        &mut settings.users.rep_password,
    ] {
        *password = Some(SecretString::from(PASSWORD));
    }
    settings
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let (graph_base, graph) = spawn_graph().await;
    let mut settings = test_settings(dir.path(), &graph_base).await;
    configure(&mut settings);
    let app = Application::build(settings).await.expect("app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let state = app.state.clone();
    tokio::spawn(async move { app.run().await.expect("app runs") });
    let http = client();
    TestApp {
        address,
        state,
        graph,
        http,
        _dir: dir,
    }
}

/// A browser-like client: keeps cookies, does not follow redirects.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// The clock the tests run on: a Wednesday afternoon in every market, whatever the hour CI
/// runs at, so sending-hours rules let replies go unless a test sets another clock.
pub static TEST_CLOCK: std::sync::LazyLock<Clock> = std::sync::LazyLock::new(|| {
    Clock::starting_at(
        chrono::DateTime::parse_from_rfc3339(OPEN_HOURS)
            .expect("an RFC 3339 instant")
            .to_utc(),
    )
});

/// Wednesday 9 December 2026, 16:30 UTC: 17:30 in Madrid, 13:30 in São Paulo, 10:30 in Mexico
/// City and 11:30 in New York. Open everywhere, outside quiet hours, on no holiday.
pub const OPEN_HOURS: &str = "2026-12-09T16:30:00Z";

/// Unix seconds now on the test clock, as Meta stamps a message.
pub fn now_seconds() -> String {
    TEST_CLOCK.now().timestamp().to_string()
}

/// A WhatsApp delivery with one text message.
pub fn text_delivery(wamid: &str, from: &str, name: &str, body: &str) -> String {
    json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID},
            "contacts": [{"profile": {"name": name}, "wa_id": from}],
            "messages": [{"from": from, "id": wamid, "timestamp": now_seconds(), "type": "text", "text": {"body": body}}]
        }}]}]
    })
    .to_string()
}

/// A WhatsApp delivery with one status update.
pub fn status_delivery(wamid: &str, status: &str) -> String {
    json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID},
            "statuses": [{"id": wamid, "status": status, "timestamp": now_seconds(), "recipient_id": "5511987654321"}]
        }}]}]
    })
    .to_string()
}

impl TestApp {
    /// Posts a delivery signed with the app secret, as Meta would.
    pub async fn post_webhook(&self, body: &str) -> reqwest::Response {
        signed_post(&self.http, &self.address, body)
            .await
            .expect("webhook request")
    }

    pub async fn drain(&self) -> usize {
        tuesday::jobs::drain(&self.state).await.expect("queue drains")
    }

    pub async fn count(&self, sql: &str) -> i64 {
        self.state
            .store
            .scalar_i64(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e:#}"))
    }

    pub async fn text(&self, sql: &str) -> String {
        self.state
            .store
            .scalar_text(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e:#}"))
    }

    /// Opens the login page on `client` (which sets the form's cookie) and returns its token.
    pub async fn login_csrf(&self, client: &reqwest::Client) -> String {
        let page = client
            .get(format!("{}/login", self.address))
            .send()
            .await
            .expect("login page")
            .text()
            .await
            .expect("body");
        hidden_field(&page, "csrf")
    }

    /// `/metrics` as a scraper holding `token` reads it.
    pub async fn scrape_metrics(&self, token: &str) -> String {
        self.http
            .get(format!("{}/metrics", self.address))
            .bearer_auth(token)
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("body")
    }

    /// Signs in `username` on `client` and returns nothing; panics if it fails.
    pub async fn log_in(&self, client: &reqwest::Client, username: &str) {
        let csrf = self.login_csrf(client).await;
        let response = client
            .post(format!("{}/login", self.address))
            .form(&[("username", username), ("password", PASSWORD), ("csrf", &csrf)])
            .send()
            .await
            .expect("login");
        assert_eq!(response.status(), 303, "login as {username} should redirect");
    }

    /// The `tuesday` binary with `subcommand`, on this app's database and no settings file.
    pub fn command(&self, subcommand: &str) -> std::process::Command {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_tuesday"));
        command
            .arg(subcommand)
            .env_remove("TUESDAY_TEST_POSTGRES")
            .env("TUESDAY_CONFIG", "/nonexistent/tuesday.toml")
            .env("TUESDAY_DATABASE_URL", &self.state.settings.database_url)
            .env("RUST_LOG", "warn");
        command
    }

    /// The CSRF token and the draft's version from a conversation page, for review forms.
    pub async fn form_tokens(&self, client: &reqwest::Client, conversation_id: i64) -> (String, String) {
        let (_, page) = self
            .get_page(client, &format!("/conversations/{conversation_id}"))
            .await;
        (hidden_field(&page, "csrf"), hidden_field(&page, "version"))
    }

    pub async fn get_page(&self, client: &reqwest::Client, path: &str) -> (u16, String) {
        let response = client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .expect("page");
        let status = response.status().as_u16();
        (status, response.text().await.expect("body"))
    }
}

/// The value of the first hidden input named `name` in a page.
pub fn hidden_field(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} field in page"))
        + marker.len();
    page[start..].split('"').next().unwrap_or_default().to_owned()
}

/// `tuesday serve` on `database_url` and the Graph stand-in at `graph_base`, on a free port,
/// with the test clock and passwords and no settings file. Add or override variables, then
/// start it with [`spawn_serve`].
pub fn serve_command(database_url: &str, graph_base: &str) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_tuesday"));
    command
        .arg("serve")
        .env_remove("TUESDAY_TEST_POSTGRES")
        .env("TUESDAY_CONFIG", "/nonexistent/tuesday.toml")
        .env("TUESDAY_DATABASE_URL", database_url)
        .env("TUESDAY_CLOCK_START", TEST_CLOCK.now().to_rfc3339())
        .env("TUESDAY_SERVER__PORT", "0")
        .env("TUESDAY_WHATSAPP__APP_SECRET", APP_SECRET)
        .env("TUESDAY_WHATSAPP__ACCESS_TOKEN", ACCESS_TOKEN)
        .env("TUESDAY_WHATSAPP__API_BASE", graph_base)
        .env("TUESDAY_PIPELINE__AUTO_SEND_MIN_ACCURACY", "0")
        .env("TUESDAY_USERS__ADMIN_PASSWORD", PASSWORD)
        .env("TUESDAY_USERS__MANAGER_PASSWORD", PASSWORD)
        .env("TUESDAY_USERS__REP_PASSWORD", PASSWORD)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit());
    command
}

/// Starts a `tuesday serve` and returns it with the URL it serves on, once it says it is ready.
pub fn spawn_serve(command: std::process::Command) -> (std::process::Child, String) {
    let (child, url, _) = spawn_serve_logged(command);
    (child, url)
}

/// Like [`spawn_serve`], also keeping every line the process writes to stdout after it is ready.
pub fn spawn_serve_logged(
    mut command: std::process::Command,
) -> (
    std::process::Child,
    String,
    std::sync::Arc<std::sync::Mutex<Vec<String>>>,
) {
    use std::io::{BufRead, BufReader};
    let mut child = command.spawn().expect("start tuesday");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let url = loop {
        let line = lines
            .next()
            .expect("tuesday exited before it was ready")
            .expect("read stdout");
        if let Some(rest) = line.strip_prefix("Tuesday is running on ") {
            break rest.split_whitespace().next().expect("address").to_owned();
        }
    };
    // Keep draining stdout so the child never blocks on a full pipe.
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = log.clone();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            kept.lock().expect("log lock").push(line);
        }
    });
    (child, url, log)
}

/// Posts `body` to the webhook of the Tuesday at `url`, signed with the app secret as Meta would.
pub async fn signed_post(
    http: &reqwest::Client,
    url: &str,
    body: &str,
) -> reqwest::Result<reqwest::Response> {
    http.post(format!("{url}/webhooks/whatsapp"))
        .header("content-type", "application/json")
        .header(
            "x-hub-signature-256",
            sign(APP_SECRET.as_bytes(), body.as_bytes()),
        )
        .body(body.to_owned())
        .send()
        .await
}

/// Like [`signed_post`]; `true` when it answered 200.
pub async fn post_signed(http: &reqwest::Client, url: &str, body: &str) -> bool {
    matches!(&signed_post(http, url, body).await, Ok(r) if r.status() == 200)
}

/// A WhatsApp delivery whose one change carries `field` (`messages` or `statuses`) with `items`.
pub fn delivery_of(field: &str, items: Vec<Value>) -> String {
    let mut value = json!({
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID},
    });
    value[field] = Value::Array(items);
    json!({"object": "whatsapp_business_account",
           "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": value}]}]})
    .to_string()
}
