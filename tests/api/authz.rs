//! Every route, walked as an anonymous visitor and as each role, against one table of expected
//! statuses. State-changing routes are posted with a forged CSRF token (403 for everyone signed
//! in), and the role-gated ones again with a valid token by the roles below them (403, nothing
//! changed). A scan of the sources fails the test when a route is missing from the table.

use crate::helpers::*;
use std::collections::BTreeSet;

const REP: usize = 1;
const MANAGER: usize = 2;
const ADMIN: usize = 3;
const WHO: [&str; 4] = ["anonymous", "rep", "manager", "admin"];

/// Method, route as written in the router, form fields (POST), and the status for anonymous,
/// rep, manager and admin. A POST's statuses are with a forged CSRF token.
type Row = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
    [u16; 4],
);

const PAGE_ANYONE: [u16; 4] = [303, 200, 200, 200];
const PAGE_MANAGER: [u16; 4] = [303, 403, 200, 200];
const PAGE_ADMIN: [u16; 4] = [303, 403, 403, 200];
const FORGED_POST: [u16; 4] = [303, 403, 403, 403];
const SAME_FOR_ALL_303: [u16; 4] = [303, 303, 303, 303];

const ROUTES: &[Row] = &[
    // Open to everyone.
    ("GET", "/", &[], SAME_FOR_ALL_303),
    ("GET", "/login", &[], [200, 200, 200, 200]),
    (
        "POST",
        "/login",
        &[("username", "rep"), ("password", "x"), ("csrf", "forged")],
        [403, 403, 403, 403],
    ),
    ("GET", "/healthz", &[], [200, 200, 200, 200]),
    ("GET", "/readyz", &[], [200, 200, 200, 200]),
    // No token configured and loopback scraping off: the metrics do not exist for a browser.
    ("GET", "/metrics", &[], [404, 404, 404, 404]),
    ("GET", "/static/tuesday.css", &[], [200, 200, 200, 200]),
    // Webhooks ignore sessions: unsigned or unconfigured, they refuse everyone alike.
    ("GET", "/webhooks/whatsapp", &[], [403, 403, 403, 403]),
    (
        "POST",
        "/webhooks/whatsapp",
        &[("object", "whatsapp_business_account")],
        [401, 401, 401, 401],
    ),
    (
        "POST",
        "/webhooks/twilio",
        &[("Body", "hola")],
        [503, 503, 503, 503],
    ),
    (
        "POST",
        "/webhooks/twilio/status",
        &[("MessageStatus", "sent")],
        [503, 503, 503, 503],
    ),
    (
        "POST",
        "/webhooks/email/postmark",
        &[("Subject", "olá")],
        [503, 503, 503, 503],
    ),
    (
        "POST",
        "/webhooks/email/sendgrid",
        &[("subject", "hello")],
        [503, 503, 503, 503],
    ),
    (
        "POST",
        "/webhooks/email/mailgun",
        &[("subject", "hola")],
        [503, 503, 503, 503],
    ),
    (
        "POST",
        "/webhooks/email/mime",
        &[("raw", "Subject: hi")],
        [503, 503, 503, 503],
    ),
    (
        "POST",
        "/webhooks/conversion",
        &[("external_id", "sale-1")],
        [503, 503, 503, 503],
    ),
    // Every signed-in role.
    ("GET", "/inbox", &[], PAGE_ANYONE),
    ("GET", "/account", &[], PAGE_ANYONE),
    ("GET", "/conversations/{id}", &[], PAGE_ANYONE),
    ("GET", "/messages/{id}/trace", &[], PAGE_ANYONE),
    ("GET", "/traces", &[], PAGE_ANYONE),
    // Managers and admins.
    ("GET", "/dashboard", &[], PAGE_MANAGER),
    ("GET", "/dashboard/export/{table}", &[], PAGE_MANAGER),
    ("GET", "/evaluation", &[], PAGE_MANAGER),
    ("GET", "/status", &[], PAGE_MANAGER),
    ("GET", "/audit", &[], PAGE_MANAGER),
    ("GET", "/suppression", &[], PAGE_MANAGER),
    // Admins only.
    ("GET", "/admin/users", &[], PAGE_ADMIN),
    ("GET", "/admin/deliveries", &[], PAGE_ADMIN),
    ("GET", "/admin/policy", &[], PAGE_ADMIN),
    // State changes: a forged CSRF token is refused for every role.
    ("POST", "/logout", &[], FORGED_POST),
    (
        "POST",
        "/account/password",
        &[("current", "x"), ("new", "y"), ("repeat", "y")],
        FORGED_POST,
    ),
    ("POST", "/account/logout-everywhere", &[], FORGED_POST),
    ("POST", "/conversations/{id}/claim", &[], FORGED_POST),
    ("POST", "/conversations/{id}/release", &[], FORGED_POST),
    (
        "POST",
        "/conversations/{id}/assign",
        &[("username", "rep")],
        FORGED_POST,
    ),
    (
        "POST",
        "/conversations/{id}/note",
        &[("text", "llamar mañana")],
        FORGED_POST,
    ),
    (
        "POST",
        "/conversations/{id}/escalate",
        &[("text", "quer falar com alguém")],
        FORGED_POST,
    ),
    ("POST", "/conversations/{id}/resolve", &[], FORGED_POST),
    (
        "POST",
        "/conversations/{id}/converted",
        &[("value", "499"), ("currency", "EUR")],
        FORGED_POST,
    ),
    (
        "POST",
        "/conversations/{id}/lost",
        &[("text", "chose another school")],
        FORGED_POST,
    ),
    ("POST", "/drafts/{id}/approve", &[("version", "1")], FORGED_POST),
    (
        "POST",
        "/drafts/{id}/reject",
        &[("version", "1"), ("reason", "tono")],
        FORGED_POST,
    ),
    (
        "POST",
        "/drafts/{id}/intent",
        &[("intent", "pricing")],
        FORGED_POST,
    ),
    (
        "POST",
        "/admin/users",
        &[
            ("username", "nuevo"),
            ("role", "rep"),
            ("password", "correct horse battery"),
        ],
        FORGED_POST,
    ),
    (
        "POST",
        "/admin/users/{id}/role",
        &[("role", "admin")],
        FORGED_POST,
    ),
    ("POST", "/admin/users/{id}/logout", &[], FORGED_POST),
];

/// Role-gated state changes, posted with the poster's valid CSRF token: who may not (403).
/// Route, form fields, and the lowest role allowed.
type GatedPost = (&'static str, &'static [(&'static str, &'static str)], usize);

const GATED_POSTS: &[GatedPost] = &[
    ("/conversations/{id}/resolve", &[], MANAGER),
    (
        "/admin/users",
        &[
            ("username", "intruso"),
            ("role", "admin"),
            ("password", "correct horse battery"),
        ],
        ADMIN,
    ),
    ("/admin/users/{id}/role", &[("role", "admin")], ADMIN),
    ("/admin/users/{id}/logout", &[], ADMIN),
];

struct Ids {
    conversation: i64,
    draft: i64,
    message: i64,
    rep_user: i64,
}

fn concrete(route: &str, ids: &Ids) -> String {
    let id = if route.starts_with("/conversations/") {
        ids.conversation
    } else if route.starts_with("/drafts/") {
        ids.draft
    } else if route.starts_with("/messages/") {
        ids.message
    } else {
        ids.rep_user
    };
    route
        .replace("{id}", &id.to_string())
        .replace("{table}", "conversations.csv")
}

/// Every `(method, route)` the sources declare with `.route("…", get(…).post(…))`.
fn declared_routes() -> BTreeSet<(String, String)> {
    let route = regex::Regex::new(r#"\.route\(\s*"([^"]+)",\s*([^\n]*)"#).expect("regex");
    let mut found = BTreeSet::new();
    let mut dirs = vec![std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("read src").flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("read a source file");
                for capture in route.captures_iter(&text) {
                    for (method, call) in [("GET", "get("), ("POST", "post(")] {
                        if capture[2].starts_with(call) || capture[2].contains(&format!(".{call}")) {
                            found.insert((method.to_owned(), capture[1].to_owned()));
                        }
                    }
                }
            }
        }
    }
    found
}

#[test]
fn the_table_covers_every_route() {
    let declared = declared_routes();
    assert!(declared.len() >= 40, "the scan found the routes: {declared:?}");
    let table: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p, _, _)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    let missing: Vec<_> = declared.difference(&table).collect();
    assert!(missing.is_empty(), "routes with no row in the walk: {missing:?}");
}

#[tokio::test]
async fn every_route_answers_each_role_as_the_table_says() {
    let app = spawn_app().await;
    // Something to point the `{id}` routes at: a held draft on a conversation.
    app.post_webhook(&text_delivery(
        "wamid.AUTHZ1",
        "34612345678",
        "Marta",
        "Quiero hablar con un asesor por favor, llamadme",
    ))
    .await;
    app.drain().await;
    let ids = Ids {
        conversation: app.count("SELECT conversation_id FROM drafts").await,
        draft: app.count("SELECT id FROM drafts").await,
        message: app.count("SELECT MIN(id) FROM messages").await,
        rep_user: app.count("SELECT id FROM users WHERE username = 'rep'").await,
    };
    let clients = [client(), client(), client(), client()];
    for who in [REP, MANAGER, ADMIN] {
        app.log_in(&clients[who], WHO[who]).await;
    }
    let state_before = snapshot(&app).await;

    let mut wrong = Vec::new();
    for (method, route, form, expected) in ROUTES {
        let url = format!("{}{}", app.address, concrete(route, &ids));
        for (who, browser) in clients.iter().enumerate() {
            let request = match *method {
                "GET" => browser.get(&url),
                _ => {
                    let mut fields: Vec<(&str, &str)> = form.to_vec();
                    if !fields.iter().any(|(k, _)| *k == "csrf") {
                        fields.push(("csrf", "forged"));
                    }
                    browser.post(&url).form(&fields)
                }
            };
            let response = request.send().await.expect("request");
            let status = response.status().as_u16();
            if let Some(missing) = missing_security_header(response.headers()) {
                wrong.push(format!("{method} {route} as {}: {missing}", WHO[who]));
            }
            if status != expected[who] {
                wrong.push(format!(
                    "{method} {route} as {}: {status}, expected {}",
                    WHO[who], expected[who]
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert_eq!(
        snapshot(&app).await,
        state_before,
        "no refused request changed anything"
    );

    // With a valid token, the roles below a gated route are refused and change nothing.
    for (route, form, min_role) in GATED_POSTS {
        for who in REP..*min_role {
            let (_, page) = app.get_page(&clients[who], "/inbox").await;
            let mut fields: Vec<(&str, &str)> = form.to_vec();
            let csrf = hidden_field(&page, "csrf");
            fields.push(("csrf", &csrf));
            let url = format!("{}{}", app.address, concrete(route, &ids));
            let status = clients[who]
                .post(&url)
                .form(&fields)
                .send()
                .await
                .expect("post")
                .status();
            assert_eq!(status, 403, "POST {route} as {} with a valid token", WHO[who]);
        }
    }
    assert_eq!(
        snapshot(&app).await,
        state_before,
        "no refused request changed anything"
    );
    // Every signed-in client is still signed in: nothing above logged anyone out.
    for who in [REP, MANAGER, ADMIN] {
        assert_eq!(app.get_page(&clients[who], "/inbox").await.0, 200, "{}", WHO[who]);
    }
}

/// Which security header a response lacks, if any. Every answer carries them, errors and
/// redirects included.
fn missing_security_header(headers: &reqwest::header::HeaderMap) -> Option<&'static str> {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("");
    let csp = get("content-security-policy");
    if !csp.contains("default-src 'self'") || !csp.contains("frame-ancestors 'none'") {
        return Some("a CSP with default-src 'self' and frame-ancestors 'none'");
    }
    if csp.contains("unsafe-inline") || csp.contains("unsafe-eval") {
        return Some("a CSP without unsafe-inline or unsafe-eval");
    }
    if get("x-content-type-options") != "nosniff" {
        return Some("x-content-type-options: nosniff");
    }
    if get("referrer-policy").is_empty() {
        return Some("a referrer-policy");
    }
    None
}

/// The CSP allows scripts and styles from our own files only, so no template may carry inline
/// script, event handlers, `javascript:` links or inline styles: they would be blocked.
#[test]
fn templates_have_no_inline_script_or_style() {
    let pattern = regex::Regex::new(r#"(?i)\son[a-z]+\s*=|javascript:|<style|\sstyle\s*="#).expect("regex");
    let script = regex::Regex::new(r#"(?is)<script([^>]*)>(.*?)</script>"#).expect("regex");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).expect("templates").flatten() {
        let text = std::fs::read_to_string(entry.path()).expect("read a template");
        let name = entry.file_name().to_string_lossy().into_owned();
        assert!(!pattern.is_match(&text), "{name} has an inline handler or style");
        for tag in script.captures_iter(&text) {
            assert!(
                tag[1].contains("src=\"/static/"),
                "{name}: a script not from /static"
            );
            assert!(tag[2].trim().is_empty(), "{name}: an inline script");
        }
        checked += 1;
    }
    assert!(checked >= 10, "the templates were found");
}

/// What a wrongly allowed request would change: users and roles, sessions, drafts, notes,
/// outcomes, claims, audit entries.
async fn snapshot(app: &TestApp) -> Vec<i64> {
    let mut values = Vec::new();
    for sql in [
        "SELECT COUNT(*) FROM users",
        "SELECT COUNT(*) FROM users WHERE role = 'admin'",
        "SELECT COUNT(*) FROM sessions",
        "SELECT COUNT(*) FROM drafts WHERE state = 'held'",
        "SELECT COUNT(*) FROM audit_log",
        "SELECT COUNT(*) FROM events WHERE user_id IS NOT NULL",
        "SELECT COUNT(*) FROM conversations WHERE claimed_by IS NOT NULL OR assigned_to IS NOT NULL OR outcome IS NOT NULL OR escalated_at IS NOT NULL",
        "SELECT COUNT(*) FROM messages WHERE direction = 'out'",
    ] {
        values.push(app.count(sql).await);
    }
    values
}
