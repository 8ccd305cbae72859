//! What the email and Twilio tests share: an app with the email channel configured, and a real
//! SMTP server process (aiosmtpd, tests/smtp_sink.py) on a free loopback port per test.

use crate::helpers::*;
use base64::Engine;
use secrecy::SecretString;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const WEBHOOK_USER: &str = "postmark";
pub const WEBHOOK_PASSWORD: &str = "inbound-pässword";
pub const MAILGUN_KEY: &str = "key-example";
pub const MIME_TOKEN: &str = "mime-token";
pub const FROM: &str = "Academia Demo <hola@academia.example>";
pub const REPLY_DOMAIN: &str = "reply.academia.example";

/// An app whose email webhooks are configured; SMTP points at `smtp_port` when given.
pub async fn spawn_email_app(smtp_port: Option<u16>) -> TestApp {
    spawn_email_app_with(smtp_port, |_| {}).await
}

/// The same, with `configure` run last (the SMTP TLS mode, a CA file).
pub async fn spawn_email_app_with(
    smtp_port: Option<u16>,
    configure: impl FnOnce(&mut tuesday::config::Settings),
) -> TestApp {
    spawn_app_with(|s| {
        s.email.webhook_username = Some(WEBHOOK_USER.to_owned());
        s.email.webhook_password = Some(SecretString::from(WEBHOOK_PASSWORD));
        s.email.mailgun_signing_key = Some(SecretString::from(MAILGUN_KEY));
        s.email.mime_token = Some(SecretString::from(MIME_TOKEN));
        s.email.from_address = FROM.to_owned();
        s.email.reply_domain = Some(REPLY_DOMAIN.to_owned());
        s.email.signature = Some("Academia Demo\nhttps://academia.example".to_owned());
        if let Some(port) = smtp_port {
            s.email.smtp_host = Some("127.0.0.1".to_owned());
            s.email.smtp_port = port;
            s.email.smtp_tls = tuesday::channels::email::SmtpTls::None;
            s.email.timeout_ms = 5_000;
        }
        // Every draft waits for a person, so the tests walk the review path.
        s.pipeline.auto_send_intents = Vec::new();
        configure(s);
    })
    .await
}

pub fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

impl TestApp {
    /// Posts a Postmark payload with the right basic-auth credentials.
    pub async fn post_postmark(&self, body: &str) -> reqwest::Response {
        self.http
            .post(format!("{}/webhooks/email/postmark", self.address))
            .header("authorization", basic(WEBHOOK_USER, WEBHOOK_PASSWORD))
            .body(body.to_owned())
            .send()
            .await
            .expect("postmark request")
    }

    /// Posts a SendGrid Inbound Parse form with the right basic-auth credentials.
    pub async fn post_sendgrid(&self, form: reqwest::multipart::Form) -> reqwest::Response {
        self.http
            .post(format!("{}/webhooks/email/sendgrid", self.address))
            .header("authorization", basic(WEBHOOK_USER, WEBHOOK_PASSWORD))
            .multipart(form)
            .send()
            .await
            .expect("sendgrid request")
    }

    /// Posts a raw RFC 5322 message to the MIME endpoint with the bearer token.
    pub async fn post_mime(&self, raw: &[u8]) -> reqwest::Response {
        self.http
            .post(format!("{}/webhooks/email/mime", self.address))
            .header("content-type", "message/rfc822")
            .header("authorization", format!("Bearer {MIME_TOKEN}"))
            .body(raw.to_vec())
            .send()
            .await
            .expect("mime request")
    }
}

/// A real SMTP server process, stopped when dropped.
pub struct SmtpSink {
    pub port: u16,
    pub dir: tempfile::TempDir,
    child: Child,
}

impl SmtpSink {
    pub fn start() -> SmtpSink {
        SmtpSink::start_with(&[])
    }

    /// Starts tests/smtp_sink.py with extra arguments (`--defer N`, `--tls starttls|implicit`).
    pub fn start_with(args: &[&str]) -> SmtpSink {
        let dir = tempfile::tempdir().expect("sink dir");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/smtp_sink.py");
        let mut child = Command::new(std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned()))
            .arg(&script)
            .arg(port.to_string())
            .arg(dir.path())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 runs tests/smtp_sink.py (scripts/test installs aiosmtpd)");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("sink output");
        assert_eq!(
            line.trim(),
            "ready",
            "the SMTP sink did not start (is aiosmtpd installed?)"
        );
        SmtpSink { port, dir, child }
    }

    /// The messages received so far, oldest first, as raw bytes.
    pub fn messages(&self) -> Vec<Vec<u8>> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .expect("sink dir")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        names.sort();
        names.iter().map(|p| std::fs::read(p).expect("message")).collect()
    }

    /// The certificate of the CA a `--tls` sink made for itself.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    fn envelope(&self, n: usize) -> serde_json::Value {
        let path = self.dir.path().join(format!("{:04}.json", n + 1));
        serde_json::from_slice(&std::fs::read(path).expect("envelope")).expect("json")
    }

    /// The TLS version message `n` (0-based) came over, or `None` for plain text.
    pub fn tls(&self, n: usize) -> Option<String> {
        self.envelope(n)["tls"].as_str().map(str::to_owned)
    }

    /// The envelope recipients of message `n` (0-based).
    pub fn recipients(&self, n: usize) -> Vec<String> {
        self.envelope(n)["rcpt_tos"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect()
    }

    /// Waits until `n` messages have arrived: the SMTP handoff is synchronous, so this only
    /// covers the file rename in the sink process.
    pub async fn wait_for(&self, n: usize) -> Vec<Vec<u8>> {
        for _ in 0..100 {
            let messages = self.messages();
            if messages.len() >= n {
                return messages;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.messages()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl TestApp {
    /// Drafts the reply to the one conversation there is, approves it and runs the send;
    /// returns the outbound message's status.
    pub async fn reply_to_only_conversation(&self) -> String {
        self.drain().await;
        let conversation_id = self.count("SELECT id FROM conversations").await;
        self.approve_held(conversation_id).await;
        self.drain().await;
        self.text("SELECT status FROM messages WHERE direction = 'out'")
            .await
    }

    /// Signs in a rep and approves the held draft of `conversation_id` as written.
    pub async fn approve_held(&self, conversation_id: i64) {
        let rep = client();
        self.log_in(&rep, "rep").await;
        let draft_id = self
            .count(&format!(
                "SELECT id FROM drafts WHERE conversation_id = {conversation_id} AND state = 'held' ORDER BY id DESC LIMIT 1"
            ))
            .await;
        let (csrf, version) = self.form_tokens(&rep, conversation_id).await;
        let response = rep
            .post(format!("{}/drafts/{draft_id}/approve", self.address))
            .form(&[("csrf", csrf.as_str()), ("version", version.as_str())])
            .send()
            .await
            .expect("approve");
        assert_eq!(response.status(), 303);
        let state = self
            .text(&format!("SELECT state FROM drafts WHERE id = {draft_id}"))
            .await;
        assert_eq!(state, "approved");
    }
}
