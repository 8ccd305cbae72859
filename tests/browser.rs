//! Browser tests: the real app driven through real headless Chromium over WebDriver. The test
//! starts chromedriver itself on a free port. Without `chromium` and `chromedriver` installed
//! (scripts/test installs them) it says so and skips. Screenshots of the inbox, a conversation
//! and the dashboard land in target/screenshots/.

#[path = "api/helpers.rs"]
mod helpers;

use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use helpers::*;
use serde_json::json;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn find_binary(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin"), PathBuf::from("/usr/lib/chromium")])
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

/// chromedriver on a free port; killed when dropped.
struct Driver {
    child: Child,
    url: String,
    _profile: tempfile::TempDir,
    chromium: PathBuf,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_driver() -> Option<Driver> {
    let (Some(chromium), Some(driver)) = (
        find_binary(&["chromium", "chromium-browser", "google-chrome"]),
        find_binary(&["chromedriver"]),
    ) else {
        eprintln!(
            "SKIPPED browser tests: chromium and chromedriver are not installed (scripts/test installs them)"
        );
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let child = Command::new(driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    // Wait until it listens (readiness, not a timing assertion).
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Some(Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
        _profile: tempfile::tempdir().expect("profile dir"),
        chromium,
    })
}

async fn browser(driver: &Driver) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".to_owned(),
        json!({
            "binary": driver.chromium,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--no-first-run", "--window-size=1280,900",
                format!("--user-data-dir={}", driver._profile.path().display()),
            ],
        }),
    );
    // Two TLS backends are linked (reqwest's and hyper-rustls'); pick one for the process.
    let _ = rustls::crypto::ring::default_provider().install_default();
    ClientBuilder::rustls()
        .expect("TLS roots")
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a WebDriver session")
}

fn screenshot_path(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir.join(name)
}

async fn save_screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.expect("screenshot");
    std::fs::write(screenshot_path(name), png).expect("write screenshot");
}

async fn sign_in(client: &Client, app: &TestApp, username: &str) {
    client
        .goto(&format!("{}/login", app.address))
        .await
        .expect("login page");
    client
        .find(Locator::Css("input[name=username]"))
        .await
        .expect("username")
        .send_keys(username)
        .await
        .expect("type");
    client
        .find(Locator::Css("input[name=password]"))
        .await
        .expect("password")
        .send_keys(PASSWORD)
        .await
        .expect("type");
    client
        .find(Locator::Css("form button[type=submit]"))
        .await
        .expect("submit")
        .click()
        .await
        .expect("click");
    client
        .wait()
        .for_element(Locator::Css("header.top"))
        .await
        .expect("signed in");
}

async fn body_text(client: &Client) -> String {
    client
        .find(Locator::Css("body"))
        .await
        .expect("body")
        .text()
        .await
        .expect("text")
}

async fn press(client: &Client, keys: &str) {
    client
        .find(Locator::Css("body"))
        .await
        .expect("body")
        .send_keys(keys)
        .await
        .expect("keys");
}

/// The rep's day: open the held draft, edit it and approve with the keyboard, see it sent; HTML
/// in a message shows as text; the rep cannot open the dashboard; the manager sees the charts.
#[tokio::test]
async fn a_rep_reviews_with_the_keyboard_and_a_manager_reads_the_dashboard() {
    let Some(driver) = start_driver().await else {
        return;
    };
    let app = spawn_app().await;
    // One held message carrying HTML (first, so it is the oldest), another held, and greetings
    // answered on their own for the dashboard.
    let hostile = "Quiero hablar con un asesor <script>window.pwned = 1</script><b>urgente</b>";
    app.post_webhook(&text_delivery(
        "wamid.BH",
        "34612345678",
        "Marta <i>López</i>",
        hostile,
    ))
    .await;
    app.post_webhook(&text_delivery(
        "wamid.BH2",
        "5511987654321",
        "João",
        "quero falar com um atendente humano",
    ))
    .await;
    for (i, (from, text)) in [
        ("16505551234", "hi there"),
        ("5511912345678", "oi, bom dia 😀"),
        ("34600000009", "holaa"),
    ]
    .iter()
    .enumerate()
    {
        app.post_webhook(&text_delivery(&format!("wamid.B{i}"), from, "Contact", text))
            .await;
    }
    app.drain().await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM drafts d JOIN contacts k ON k.address IN ('34612345678', '5511987654321') JOIN conversations c ON c.contact_id = k.id AND c.id = d.conversation_id WHERE d.state = 'held'").await,
        2
    );

    let client = browser(&driver).await;
    sign_in(&client, &app, "rep").await;
    assert!(
        client
            .current_url()
            .await
            .expect("url")
            .path()
            .ends_with("/inbox")
    );
    let inbox = body_text(&client).await;
    assert!(
        inbox.contains("Marta <i>López</i>"),
        "names show as text: {inbox}"
    );
    save_screenshot(&client, "inbox.png").await;

    // j selects the first row (oldest: Marta's), Enter opens it.
    press(&client, "j").await;
    let selected = client
        .find(Locator::Css("tr.selected"))
        .await
        .expect("a selected row");
    assert!(selected.text().await.expect("text").contains("Marta"));
    press(&client, &Key::Enter.to_string()).await;
    client
        .wait()
        .for_element(Locator::Css("article.draft.held"))
        .await
        .expect("conversation page");
    let page = body_text(&client).await;
    assert!(
        page.contains("<script>window.pwned = 1</script><b>urgente</b>"),
        "the body shows as text: {page}"
    );
    let pwned = client
        .execute("return typeof window.pwned", vec![])
        .await
        .expect("script");
    assert_eq!(pwned, json!("undefined"), "the script in the message never ran");
    assert!(
        client.find(Locator::Css(".bubble b")).await.is_err(),
        "no <b> element was made from the message"
    );
    save_screenshot(&client, "conversation.png").await;

    // e opens the editor with the cursor in it; type, then Ctrl+Enter approves the edit.
    press(&client, "e").await;
    let editor = client.active_element().await.expect("focus");
    assert_eq!(editor.tag_name().await.expect("tag"), "textarea");
    editor.clear().await.expect("clear");
    let edited = "Hola Marta 👋 Te llama un asesor hoy mismo. ¿Prefieres por la mañana o por la tarde?";
    editor.send_keys(edited).await.expect("type");
    editor
        .send_keys(&(Key::Control + Key::Enter.to_string().as_str()))
        .await
        .expect("ctrl+enter");
    client
        .wait()
        .for_element(Locator::Css("p.flash"))
        .await
        .expect("flash");
    let flash = client
        .find(Locator::Css("p.flash"))
        .await
        .expect("flash")
        .text()
        .await
        .expect("text");
    assert!(flash.starts_with("Approved"), "{flash}");

    // The worker sends it; the page shows it sent.
    app.drain().await;
    let sent: Vec<String> = app
        .graph
        .requests()
        .iter()
        .map(|r| r.body["text"]["body"].as_str().unwrap_or("").to_owned())
        .collect();
    assert!(sent.iter().any(|b| b == edited), "{sent:?}");
    client.refresh().await.expect("reload");
    let page = body_text(&client).await;
    assert!(page.contains(edited) && page.contains("sent"), "{page}");

    // The help opens with ?.
    press(&client, "?").await;
    let help_open = client
        .execute("return document.getElementById('help').open", vec![])
        .await
        .expect("js");
    assert_eq!(help_open, json!(true));

    // A rep cannot open the dashboard.
    client
        .goto(&format!("{}/dashboard", app.address))
        .await
        .expect("dashboard");
    assert!(
        body_text(&client)
            .await
            .contains("this page needs the manager role")
    );

    // On a phone-sized window the inbox still reads.
    client
        .goto(&format!("{}/inbox", app.address))
        .await
        .expect("inbox");
    client.set_window_size(390, 844).await.expect("resize");
    save_screenshot(&client, "inbox-phone.png").await;
    client.set_window_size(1280, 1400).await.expect("resize");

    // The manager's dashboard draws its charts.
    client.delete_all_cookies().await.expect("sign out");
    sign_in(&client, &app, "manager").await;
    client
        .goto(&format!("{}/dashboard", app.address))
        .await
        .expect("dashboard");
    let bars = client
        .find_all(Locator::Css("svg.chart.funnel rect"))
        .await
        .expect("bars");
    assert_eq!(bars.len(), 5, "one bar per funnel stage");
    let weeks = client
        .find_all(Locator::Css("svg.chart.weeks rect"))
        .await
        .expect("weeks");
    assert!(!weeks.is_empty());
    let first = bars[0].attr("width").await.expect("width").unwrap_or_default();
    assert_eq!(first, "460", "the first stage is full width");
    save_screenshot(&client, "dashboard.png").await;
    let _ = client.close().await;
}
