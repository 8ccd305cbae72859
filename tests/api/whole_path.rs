use crate::helpers::*;

/// A signed webhook, a held draft, login, approve, a send with the provider's id, a status
/// webhook, delivered, and a trace that shows all of it in order.
#[tokio::test]
async fn a_message_travels_from_webhook_to_delivered() {
    let app = spawn_app().await;
    let body = text_delivery(
        "wamid.IN1",
        "5511987654321",
        "Ana Souza",
        "Quero cancelar, o curso é péssimo e quero meu dinheiro de volta!! 😡",
    );
    assert_eq!(app.post_webhook(&body).await.status(), 200);
    assert_eq!(app.drain().await, 1, "one process_inbound job");

    // A complaint is held for a person.
    let rep = client();
    app.log_in(&rep, "rep").await;
    let (status, inbox) = app.get_page(&rep, "/inbox").await;
    assert_eq!(status, 200);
    assert!(inbox.contains("Ana Souza"), "{inbox}");
    assert!(inbox.contains("complaint"), "held draft shows its intent");
    assert!(inbox.contains("intent_needs_review"), "held draft shows why");

    let conversation_id: i64 = app.count("SELECT conversation_id FROM drafts").await;
    let (_, page) = app
        .get_page(&rep, &format!("/conversations/{conversation_id}"))
        .await;
    assert!(
        page.contains("Lamentamos muito"),
        "the Portuguese complaint draft is shown: {page}"
    );
    let draft_id = app.count("SELECT id FROM drafts").await;
    let csrf = hidden_field(&page, "csrf");
    let version = hidden_field(&page, "version");
    let approve = rep
        .post(format!("{}/drafts/{draft_id}/approve", app.address))
        .form(&[("csrf", csrf.as_str()), ("version", version.as_str())])
        .send()
        .await
        .expect("approve");
    assert_eq!(approve.status(), 303);
    assert_eq!(app.drain().await, 1, "one send job");

    let sent = app.graph.requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].path, format!("/v21.0/{PHONE_NUMBER_ID}/messages"));
    assert_eq!(sent[0].authorization, format!("Bearer {ACCESS_TOKEN}"));
    assert_eq!(sent[0].body["to"], "5511987654321");
    assert_eq!(sent[0].body["type"], "text");
    assert_eq!(sent[0].body["context"]["message_id"], "wamid.IN1");
    assert!(
        sent[0].body["text"]["body"]
            .as_str()
            .unwrap_or("")
            .contains("Lamentamos muito")
    );

    let provider_id = app
        .text("SELECT external_id FROM messages WHERE direction = 'out'")
        .await;
    assert_eq!(provider_id, "wamid.OUT1");

    assert_eq!(
        app.post_webhook(&status_delivery("wamid.OUT1", "delivered"))
            .await
            .status(),
        200
    );
    app.drain().await;
    let status = app
        .text("SELECT status FROM messages WHERE direction = 'out'")
        .await;
    assert_eq!(status, "delivered");

    let inbound_id = app.count("SELECT id FROM messages WHERE direction = 'in'").await;
    let (status, trace) = app.get_page(&rep, &format!("/messages/{inbound_id}/trace")).await;
    assert_eq!(status, 200);
    let order = [
        "received",
        "language",
        "classified",
        "drafted",
        "guardrail",
        "held",
        "approved",
        "queued",
        "sent",
        "delivered",
    ];
    let mut at = 0;
    for kind in order {
        let found = trace[at..].find(&format!("<span class=\"tag kind\">{kind}</span>"));
        assert!(found.is_some(), "trace lacks {kind} after position {at}");
        at += found.unwrap_or(0);
    }
    assert!(trace.contains("by rep"), "the trace names who approved");
}

/// A greeting in a clean case is answered without a person, and the dashboard counts it.
#[tokio::test]
async fn confident_simple_messages_are_sent_on_their_own() {
    let app = spawn_app().await;
    for (i, (from, text)) in [
        ("34612345678", "hola!! 👋"),
        ("16505551234", "hi there"),
        ("5511912345678", "oi, bom dia"),
    ]
    .iter()
    .enumerate()
    {
        let body = text_delivery(&format!("wamid.G{i}"), from, "Contact", text);
        assert_eq!(app.post_webhook(&body).await.status(), 200);
    }
    app.drain().await;
    let auto = app
        .count("SELECT COUNT(*) FROM drafts WHERE state = 'auto_sent'")
        .await;
    assert_eq!(auto, 3, "greetings in es, en and pt are sent without review");
    let bodies: Vec<String> = app
        .graph
        .requests()
        .iter()
        .map(|r| r.body["text"]["body"].as_str().unwrap_or("").to_owned())
        .collect();
    assert!(bodies.iter().any(|b| b.starts_with("¡Hola!")), "{bodies:?}");
    assert!(bodies.iter().any(|b| b.starts_with("Hi!")), "{bodies:?}");
    assert!(bodies.iter().any(|b| b.starts_with("Olá!")), "{bodies:?}");

    let manager = client();
    app.log_in(&manager, "manager").await;
    let (status, dashboard) = app.get_page(&manager, "/dashboard").await;
    assert_eq!(status, 200);
    assert!(
        dashboard.contains("<span class=\"tag\">es</span>")
            && dashboard.contains("<span class=\"tag\">pt</span>"),
        "{dashboard}"
    );
}

/// With no access token, an approved reply is recorded as "channel not configured" where
/// people can see it, never dropped.
#[tokio::test]
async fn sends_without_credentials_are_visible_not_dropped() {
    let app = spawn_app_with(|s| s.whatsapp.access_token = None).await;
    app.post_webhook(&text_delivery("wamid.N1", "525512345678", "Luis", "hola"))
        .await;
    app.drain().await;
    assert!(app.graph.requests().is_empty());
    let status = app
        .text("SELECT status FROM messages WHERE direction = 'out'")
        .await;
    assert_eq!(status, "not_configured");
    let rep = client();
    app.log_in(&rep, "rep").await;
    let (_, inbox) = app.get_page(&rep, "/inbox").await;
    assert!(inbox.contains("not configured"), "{inbox}");
}
