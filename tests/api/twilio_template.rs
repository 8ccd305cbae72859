//! Twilio's 24-hour window: error 63016 (or a window closed by send time) sends the approved
//! content template (`ContentSid`, `ContentVariables`) in the contact's language instead of
//! the reply; without one configured, or when the template itself is refused, the reply fails
//! with the reason for a person. The stand-in checks the ContentSid form as Twilio does.

use crate::helpers::*;
use crate::twilio::*;
use std::sync::atomic::Ordering;

const ES: &str = "HX5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e";
const PT: &str = "HXb7b7b7b7b7b7b7b7b7b7b7b7b7b7b7b7";
const EN: &str = "HX0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e";
const VARIABLES: &str = r#"{"1":"Academia Demo"}"#;

/// The contacts: one per language, each writing from their own number.
const CONTACTS: [(&str, &str, &str, &str, &str); 3] = [
    (
        "es",
        "34600111222",
        "Lucía",
        "Hola, ¿cuánto cuesta el curso de Análisis de Datos? ¿Puedo pagar en cuotas?",
        ES,
    ),
    (
        "pt",
        "5511987654321",
        "Conceição",
        "Olá! Quanto custa o curso de Análise de Dados? Posso pagar em prestações?",
        PT,
    ),
    (
        "en",
        "14155550123",
        "Sam",
        "Hi, how much does the Data Analysis course cost? Can I pay in instalments?",
        EN,
    ),
];

fn with_template(s: &mut tuesday::config::Settings) {
    s.twilio.reengagement_template = Some(
        toml::from_str(&format!(
            "languages = {{ es = \"{ES}\", pt = \"{PT}\", en = \"{EN}\" }}\nvariables = {{ 1 = \"Academia Demo\" }}"
        ))
        .expect("a valid template"),
    );
}

fn inbound_from(sid: &str, wa_id: &str, name: &str, body: &str) -> Vec<(String, String)> {
    inbound(sid, body)
        .into_iter()
        .map(|(k, v)| match k.as_str() {
            "WaId" => (k, wa_id.to_owned()),
            "From" => (k, format!("whatsapp:+{wa_id}")),
            "ProfileName" => (k, name.to_owned()),
            _ => (k, v),
        })
        .collect()
}

fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

impl TestApp {
    /// Takes one message from `wa_id`, drafts the reply and approves it, without sending it
    /// yet. Returns the conversation's id.
    async fn approved_reply_from(&self, n: usize, wa_id: &str, name: &str, body: &str) -> i64 {
        let form = inbound_from(&format!("SM_in_{n}"), wa_id, name, body);
        assert_eq!(
            self.post_twilio("/webhooks/twilio", &form, None).await.status(),
            200
        );
        self.drain().await;
        let conversation_id = self
            .count(&format!(
                "SELECT c.id FROM conversations c JOIN contacts k ON k.id = c.contact_id WHERE k.address = '{wa_id}'"
            ))
            .await;
        self.approve_held(conversation_id).await;
        conversation_id
    }

    async fn outbound_of(&self, conversation_id: i64, column: &str) -> String {
        self.text(&format!(
            "SELECT {column} FROM messages WHERE direction = 'out' AND conversation_id = {conversation_id}"
        ))
        .await
    }
}

#[tokio::test]
async fn error_63016_sends_the_approved_content_template_in_the_contacts_language() {
    let (app, twilio) = spawn_twilio_app_with(with_template).await;
    twilio
        .templates
        .lock()
        .expect("lock")
        .extend([ES, PT, EN].map(str::to_owned));
    twilio.window_closed.store(true, Ordering::SeqCst);

    for (n, (language, wa_id, name, body, sid)) in CONTACTS.into_iter().enumerate() {
        let before = twilio.requests.lock().expect("lock").len();
        let conversation_id = app.approved_reply_from(n, wa_id, name, body).await;
        assert_eq!(
            app.text(&format!(
                "SELECT language FROM messages WHERE direction = 'in' AND conversation_id = {conversation_id}"
            ))
            .await,
            language
        );
        app.drain().await;

        let requests = twilio.requests.lock().expect("lock")[before..].to_vec();
        assert_eq!(requests.len(), 2, "{language}: the free text, then the template");
        let (free_text, template) = (&requests[0].2, &requests[1].2);
        assert!(field(free_text, "Body").is_some_and(|b| !b.is_empty()));
        assert_eq!(field(template, "ContentSid"), Some(sid), "{language}");
        assert_eq!(field(template, "ContentVariables"), Some(VARIABLES));
        assert_eq!(field(template, "Body"), None, "a template goes without a Body");
        assert_eq!(field(template, "To"), Some(format!("whatsapp:+{wa_id}").as_str()));
        assert_eq!(field(template, "From"), field(free_text, "From"));
        assert_eq!(
            field(template, "StatusCallback"),
            Some("https://tuesday.example.com/webhooks/twilio/status")
        );

        // The reply is sent, as Twilio's id for the template message, and the trace says so.
        assert_eq!(app.outbound_of(conversation_id, "status").await, "sent");
        let template_message = format!("SM{:032}", before + 2);
        assert_eq!(
            app.outbound_of(conversation_id, "external_id").await,
            template_message
        );
        let summary = app
            .text(&format!(
                "SELECT summary FROM events WHERE kind = 'sent_template' AND conversation_id = {conversation_id}"
            ))
            .await;
        assert!(
            summary.contains(&format!("{sid} ({language})")) && summary.contains("63016"),
            "{summary}"
        );
        let detail = app
            .text(&format!(
                "SELECT detail FROM events WHERE kind = 'sent_template' AND conversation_id = {conversation_id}"
            ))
            .await;
        let detail: serde_json::Value = serde_json::from_str(&detail).expect("json");
        assert_eq!(detail["template"], sid);
        assert_eq!(detail["channel"], "twilio");
        assert_eq!(detail["external_id"], template_message.as_str());
    }

    // Nothing is sent twice: the jobs are done and another drain calls Twilio no more.
    app.drain().await;
    assert_eq!(twilio.requests.lock().expect("lock").len(), 6);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM events WHERE kind = 'sent_template'")
            .await,
        3
    );
}

#[tokio::test]
async fn a_window_closed_by_send_time_sends_only_the_template() {
    let (app, twilio) = spawn_twilio_app_with(with_template).await;
    twilio.templates.lock().expect("lock").push(PT.to_owned());
    let (_, wa_id, name, body, _) = CONTACTS[1];
    let conversation_id = app.approved_reply_from(1, wa_id, name, body).await;
    // The customer's window closes between the approval and the send.
    app.count(&format!(
        "UPDATE contacts SET last_inbound_at = last_inbound_at - {} RETURNING id",
        25 * 3_600_000
    ))
    .await;
    app.drain().await;
    let requests = twilio.requests.lock().expect("lock").clone();
    assert_eq!(requests.len(), 1, "no free text outside the window");
    assert_eq!(field(&requests[0].2, "ContentSid"), Some(PT));
    assert_eq!(field(&requests[0].2, "Body"), None);
    assert_eq!(app.outbound_of(conversation_id, "status").await, "sent");
}

#[tokio::test]
async fn error_63016_without_a_template_fails_the_reply_for_a_person() {
    let (app, twilio) = spawn_twilio_app().await;
    twilio.window_closed.store(true, Ordering::SeqCst);
    for (n, (language, wa_id, name, body, _)) in CONTACTS.into_iter().enumerate() {
        let conversation_id = app.approved_reply_from(n, wa_id, name, body).await;
        app.drain().await;
        assert_eq!(
            app.outbound_of(conversation_id, "status").await,
            "failed",
            "{language}"
        );
        let error = app.outbound_of(conversation_id, "last_error").await;
        assert!(
            error.contains("template required")
                && error.contains("63016")
                && error.contains("no twilio.reengagement_template is configured"),
            "{error}"
        );
    }
    app.drain().await;
    assert_eq!(
        twilio.requests.lock().expect("lock").len(),
        3,
        "one free-text attempt each, never retried"
    );
    let detail = app
        .text("SELECT detail FROM events WHERE kind = 'send_failed' LIMIT 1")
        .await;
    assert!(detail.contains("\"template_required\":true"), "{detail}");
    // Each one waits in the inbox's failed sends.
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM messages WHERE direction = 'out' AND status = 'failed' AND last_error IS NOT NULL"
        )
        .await,
        3
    );

    // A 63016 that arrives later, on a status callback, fails that message with the reason.
    twilio.window_closed.store(false, Ordering::SeqCst);
    let conversation_id = app
        .approved_reply_from(
            9,
            "351912345678",
            "João",
            "Bom dia, o curso de UX tem certificado?",
        )
        .await;
    app.drain().await;
    let sid = app.outbound_of(conversation_id, "external_id").await;
    let failed = params(&[
        ("MessageSid", &sid),
        ("MessageStatus", "undelivered"),
        ("ErrorCode", "63016"),
    ]);
    assert_eq!(
        app.post_twilio("/webhooks/twilio/status", &failed, None)
            .await
            .status(),
        200
    );
    app.drain().await;
    assert_eq!(app.outbound_of(conversation_id, "status").await, "failed");
    let error = app.outbound_of(conversation_id, "last_error").await;
    assert!(error.contains("63016") && error.contains("template"), "{error}");
}

#[tokio::test]
async fn a_template_twilio_refuses_fails_the_reply_with_twilios_reason() {
    // Well-formed, but not a template of this account (deleted, or another account's): 21655.
    let (app, twilio) = spawn_twilio_app_with(with_template).await;
    twilio.templates.lock().expect("lock").push(ES.to_owned());
    twilio.window_closed.store(true, Ordering::SeqCst);
    let (_, wa_id, name, body, _) = CONTACTS[2];
    let conversation_id = app.approved_reply_from(2, wa_id, name, body).await;
    app.drain().await;
    let requests = twilio.requests.lock().expect("lock").clone();
    assert_eq!(requests.len(), 2);
    assert_eq!(field(&requests[1].2, "ContentSid"), Some(EN));
    assert_eq!(app.outbound_of(conversation_id, "status").await, "failed");
    let error = app.outbound_of(conversation_id, "last_error").await;
    assert!(
        error.contains("template send failed")
            && error.contains("21655")
            && error.contains("The ContentSid is Invalid"),
        "{error}"
    );
    let summary = app
        .text("SELECT summary FROM events WHERE kind = 'send_failed'")
        .await;
    assert!(summary.contains(EN) && summary.contains("21655"), "{summary}");

    // A server error on the template send is not retried either: the outbox never sends a
    // template twice for one reply.
    twilio.templates.lock().expect("lock").push(PT.to_owned());
    twilio.errors.lock().expect("lock").push((400, 63016));
    twilio.window_closed.store(false, Ordering::SeqCst);
    twilio.errors.lock().expect("lock").push((503, 20503));
    let (_, wa_id, name, body, _) = CONTACTS[1];
    let conversation_id = app.approved_reply_from(1, wa_id, name, body).await;
    app.drain().await;
    assert_eq!(twilio.requests.lock().expect("lock").len(), 4);
    assert_eq!(app.outbound_of(conversation_id, "status").await, "failed");
    let error = app.outbound_of(conversation_id, "last_error").await;
    assert!(error.contains("20503"), "{error}");
}
