//! Sign-in limits per account and per address (429 with Retry-After, no password oracle, a
//! success clears the account, the header counts only behind a trusted proxy), and the idle
//! and absolute session timeouts.

use crate::helpers::*;
use secrecy::SecretString;

/// One sign-in attempt from a fresh browser, optionally through a proxy that names the client.
async fn sign_in(
    app: &TestApp,
    username: &str,
    password: &str,
    forwarded_for: Option<&str>,
) -> reqwest::Response {
    let browser = client();
    let csrf = app.login_csrf(&browser).await;
    let mut request = browser.post(format!("{}/login", app.address)).form(&[
        ("username", username),
        ("password", password),
        ("csrf", &csrf),
    ]);
    if let Some(client_address) = forwarded_for {
        request = request.header("x-forwarded-for", client_address);
    }
    request.send().await.expect("login")
}

/// The app behind a proxy on 127.0.0.1, so tests can speak for several client addresses.
async fn spawn_behind_proxy() -> TestApp {
    spawn_app_with(|s| {
        s.server.trusted_proxies = vec!["127.0.0.1".parse().expect("range")];
        s.observability.metrics_token = Some(SecretString::from("scrape-me"));
    })
    .await
}

async fn metric(app: &TestApp, line_start: &str) -> String {
    let text = app.scrape_metrics("scrape-me").await;
    text.lines()
        .find(|l| l.starts_with(line_start))
        .unwrap_or_default()
        .to_owned()
}

async fn assert_refused(response: reqwest::Response) {
    assert_eq!(response.status(), 429);
    let retry_after: i64 = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("a Retry-After in seconds");
    assert!((1..=15 * 60).contains(&retry_after), "{retry_after}");
    let page = response.text().await.expect("body");
    assert!(page.contains("Too many failed sign-ins. Try again in"), "{page}");
    assert!(
        !page.contains("Wrong username"),
        "a refusal does not judge the password"
    );
}

#[tokio::test]
async fn an_account_is_refused_after_five_failures_even_with_the_right_password() {
    let app = spawn_behind_proxy().await;
    // Five wrong guesses from five addresses: the address limit is nowhere near.
    for (i, guess) in [
        "contrasena",
        "senha123",
        "password1",
        "Correct horse",
        "correcthorse",
    ]
    .iter()
    .enumerate()
    {
        let from = format!("203.0.113.{}", i + 1);
        assert_eq!(sign_in(&app, "rep", guess, Some(&from)).await.status(), 401);
    }
    // Locked: the right password gets the same 429 as a wrong one, and no session.
    assert_refused(sign_in(&app, "rep", PASSWORD, Some("198.51.100.7")).await).await;
    assert_refused(sign_in(&app, " REP ", "otra vez", Some("198.51.100.8")).await).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM login_failures").await,
        5,
        "refused attempts are not failures: they do not extend the lockout"
    );
    // Other accounts are untouched, from the same addresses.
    assert_eq!(
        sign_in(&app, "manager", PASSWORD, Some("198.51.100.7"))
            .await
            .status(),
        303
    );

    // One audit entry for the lockout, on the account, whatever the number of refusals.
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM audit_log a JOIN users u ON u.id = a.user_id
             WHERE a.action = 'login_locked' AND u.username = 'rep'"
        )
        .await,
        1
    );
    assert_eq!(
        metric(&app, "tuesday_login_refusals_total{scope=\"account\"}")
            .await
            .split(' ')
            .nth(1),
        Some("2")
    );

    // Once the failures leave the window, the right password works again.
    app.count("UPDATE login_failures SET at = at - 15 * 60000 RETURNING id")
        .await;
    assert_eq!(
        sign_in(&app, "rep", PASSWORD, Some("198.51.100.7"))
            .await
            .status(),
        303
    );
}

#[tokio::test]
async fn unknown_usernames_are_refused_alike_and_never_written_down() {
    let app = spawn_behind_proxy().await;
    for _ in 0..5 {
        assert_eq!(
            sign_in(&app, "joão.silva", "senha errada", None).await.status(),
            401
        );
    }
    assert_refused(sign_in(&app, "joão.silva", "senha errada", None).await).await;
    let audit = app
        .text("SELECT username || ' ' || detail FROM audit_log WHERE action = 'login_locked'")
        .await;
    assert!(audit.starts_with("anonymous "), "{audit}");
    assert!(!audit.contains("silva"), "{audit}");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM login_failures WHERE account LIKE '%silva%'")
            .await,
        0,
        "the username is stored hashed"
    );
}

#[tokio::test]
async fn an_address_is_refused_after_twenty_failures_across_accounts() {
    let app = spawn_behind_proxy().await;
    let names = ["josé", "joão", "jane", "vendedor", "seller"];
    for round in 0..4 {
        for name in names {
            let response = sign_in(&app, name, "adivina", Some("203.0.113.9")).await;
            assert_eq!(response.status(), 401, "round {round}, {name}");
        }
    }
    // Twenty failures from one address: every account is refused from there, even admin with
    // the right password, while the same admin signs in from elsewhere.
    assert_refused(sign_in(&app, "admin", PASSWORD, Some("203.0.113.9")).await).await;
    assert_eq!(
        sign_in(&app, "admin", PASSWORD, Some("198.51.100.7"))
            .await
            .status(),
        303
    );
    assert_eq!(
        metric(&app, "tuesday_login_refusals_total{scope=\"ip\"}")
            .await
            .split(' ')
            .nth(1),
        Some("1")
    );
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'login_locked' AND summary LIKE '%203.0.113.9%'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn a_forged_forwarded_for_counts_for_nothing_without_trusted_proxies() {
    let app = spawn_app_with(|s| s.server.login_limit.ip_failures = 3).await;
    for (name, from) in [
        ("maria", "203.0.113.1"),
        ("pedro", "203.0.113.2"),
        ("anne", "203.0.113.3"),
    ] {
        assert_eq!(sign_in(&app, name, "wrong one", Some(from)).await.status(), 401);
    }
    // The header is ignored: every attempt came from 127.0.0.1, which is now refused.
    assert_refused(sign_in(&app, "admin", PASSWORD, Some("198.51.100.99")).await).await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM login_failures WHERE ip = '127.0.0.1'")
            .await,
        3
    );
}

#[tokio::test]
async fn a_success_clears_the_accounts_failures() {
    let app = spawn_app().await;
    for guess in ["casi", "quase", "almost", "casi casi"] {
        assert_eq!(sign_in(&app, "rep", guess, None).await.status(), 401);
    }
    assert_eq!(sign_in(&app, "rep", PASSWORD, None).await.status(), 303);
    assert_eq!(app.count("SELECT COUNT(*) FROM login_failures").await, 0);
    // Four more failures are four, not eight: the next right password still works.
    for guess in ["otra", "outra", "another", "otra mas"] {
        assert_eq!(sign_in(&app, "rep", guess, None).await.status(), 401);
    }
    assert_eq!(sign_in(&app, "rep", PASSWORD, None).await.status(), 303);
}

/// Sets a column of every session row to `now + offset_ms` and returns the new value.
async fn shift_sessions(app: &TestApp, column: &str, offset_ms: i64) -> i64 {
    let at = app.state.clock().now_millis() + offset_ms;
    app.count(&format!("UPDATE sessions SET {column} = {at} RETURNING {column}"))
        .await
}

#[tokio::test]
async fn an_idle_session_ends_and_activity_extends_it() {
    let app = spawn_app().await;
    let rep = client();
    app.log_in(&rep, "rep").await;
    let created = app.count("SELECT created_at FROM sessions").await;
    assert_eq!(app.count("SELECT last_seen_at FROM sessions").await, created);

    // Used 30 s ago: served, and not written again within the minute.
    let recent = shift_sessions(&app, "last_seen_at", -30_000).await;
    assert_eq!(app.get_page(&rep, "/inbox").await.0, 200);
    assert_eq!(app.count("SELECT last_seen_at FROM sessions").await, recent);

    // Used 50 min ago: served, and the use moves the idle deadline on.
    let before = app.state.clock().now_millis();
    shift_sessions(&app, "last_seen_at", -50 * 60_000).await;
    assert_eq!(app.get_page(&rep, "/inbox").await.0, 200);
    assert!(app.count("SELECT last_seen_at FROM sessions").await >= before);

    // Unused for 61 min: refused, and the row is gone.
    shift_sessions(&app, "last_seen_at", -61 * 60_000).await;
    let (status, _) = app.get_page(&rep, "/inbox").await;
    assert_eq!(status, 303, "back to the login page");
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 0);
}

#[tokio::test]
async fn a_busy_session_still_ends_at_its_absolute_lifetime() {
    let app = spawn_app_with(|s| s.server.session_idle_minutes = 5).await;
    let manager = client();
    app.log_in(&manager, "manager").await;
    let expires = app.count("SELECT expires_at FROM sessions").await;
    let created = app.count("SELECT created_at FROM sessions").await;
    assert_eq!(expires - created, 12 * 3_600_000, "server.session_hours");
    assert_eq!(app.get_page(&manager, "/dashboard").await.0, 200);

    shift_sessions(&app, "expires_at", -1).await;
    assert_eq!(app.get_page(&manager, "/dashboard").await.0, 303);
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 0);

    // The configured idle timeout, not the default: six minutes unused is too long.
    app.log_in(&manager, "manager").await;
    shift_sessions(&app, "last_seen_at", -6 * 60_000).await;
    assert_eq!(app.get_page(&manager, "/dashboard").await.0, 303);
}

/// The `Set-Cookie` for the session from a sign-in, read without a cookie store.
async fn session_cookie(app: &TestApp, planted: Option<&str>) -> String {
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let login = browser
        .get(format!("{}/login", app.address))
        .send()
        .await
        .expect("login page");
    let csrf_cookie = login
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("tuesday_login_csrf="))
        .and_then(|c| c.split(';').next())
        .expect("a login CSRF cookie")
        .to_owned();
    let csrf = csrf_cookie.trim_start_matches("tuesday_login_csrf=").to_owned();
    let mut cookies = csrf_cookie;
    if let Some(token) = planted {
        cookies.push_str(&format!("; tuesday_session={token}"));
    }
    let response = browser
        .post(format!("{}/login", app.address))
        .header("cookie", cookies)
        .form(&[("username", "rep"), ("password", PASSWORD), ("csrf", &csrf)])
        .send()
        .await
        .expect("login");
    assert_eq!(response.status(), 303);
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("tuesday_session="))
        .expect("a session cookie")
        .to_owned()
}

#[tokio::test]
async fn a_sign_in_rotates_the_session_and_marks_its_cookie() {
    let app = spawn_app_with(|s| s.server.secure_cookies = true).await;
    let first = session_cookie(&app, None).await;
    for flag in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
        assert!(first.contains(flag), "{flag} missing: {first}");
    }
    let token = first
        .trim_start_matches("tuesday_session=")
        .split(';')
        .next()
        .expect("token")
        .to_owned();
    // Signing in again over a session the browser already had: a new token, the old one gone.
    let second = session_cookie(&app, Some(&token)).await;
    assert!(!second.contains(&token), "a fresh token on every sign-in");
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 1);
}

/// Loopback scraping behind a proxy on loopback: the client the proxy names is who asks.
#[tokio::test]
async fn loopback_metrics_are_not_open_to_clients_of_a_local_proxy() {
    let app = spawn_app_with(|s| {
        s.observability.metrics_loopback = true;
        s.server.trusted_proxies = vec!["127.0.0.1".parse().expect("range")];
    })
    .await;
    let scrape = |forwarded_for: Option<&'static str>| {
        let mut request = app.http.get(format!("{}/metrics", app.address));
        if let Some(client_address) = forwarded_for {
            request = request.header("x-forwarded-for", client_address);
        }
        async move { request.send().await.expect("metrics").status().as_u16() }
    };
    assert_eq!(scrape(None).await, 200, "a local scraper");
    assert_eq!(
        scrape(Some("127.0.0.1")).await,
        200,
        "a local client of the proxy"
    );
    assert_eq!(
        scrape(Some("203.0.113.9")).await,
        404,
        "an outside client of the proxy"
    );
}
