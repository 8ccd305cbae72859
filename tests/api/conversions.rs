//! `/webhooks/conversion`: signed like the others, idempotent on `external_id`, attributed to
//! the contact's conversations in the window before the sale and to the agent's replies in them.

use crate::helpers::*;
use serde_json::{Value, json};

const SECRET: &str = "crm-signing-secret";

async fn post_conversion(app: &TestApp, body: &str, secret: &str) -> (u16, String) {
    let response = app
        .http
        .post(format!("{}/webhooks/conversion", app.address))
        .header("content-type", "application/json")
        .header("x-tuesday-signature", sign(secret.as_bytes(), body.as_bytes()))
        .body(body.to_owned())
        .send()
        .await
        .expect("post");
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

/// Greetings answered on their own in es, pt and en: three conversations with a sent reply.
async fn answered(app: &TestApp) {
    for (i, (from, text)) in [
        ("34612345678", "holaa 👋"),
        ("5511987654321", "oi, tudo bem?"),
        ("16505551234", "hello"),
    ]
    .iter()
    .enumerate()
    {
        app.post_webhook(&text_delivery(&format!("wamid.C{i}"), from, "Contact", text))
            .await;
    }
    app.drain().await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM messages WHERE direction = 'out' AND status = 'sent'")
            .await,
        3
    );
}

fn report(phone_or_email: (&str, &str), external_id: &str, occurred_at: &str) -> String {
    json!({
        phone_or_email.0: phone_or_email.1,
        "value": "1497.00",
        "currency": "BRL",
        "product": "Análise de Dados — turma março 🎓",
        "occurred_at": occurred_at,
        "external_id": external_id,
    })
    .to_string()
}

#[tokio::test]
async fn refused_without_a_secret_or_a_valid_signature() {
    let app = spawn_app().await;
    let body = report(("phone", "+55 11 98765-4321"), "pay_1", "2026-12-10T12:00:00Z");
    assert_eq!(
        post_conversion(&app, &body, SECRET).await.0,
        503,
        "not configured"
    );

    let app = spawn_app_with(|s| s.conversions.secret = Some(SECRET.into())).await;
    assert_eq!(post_conversion(&app, &body, "other-secret").await.0, 401);
    let unsigned = app
        .http
        .post(format!("{}/webhooks/conversion", app.address))
        .body(body.clone())
        .send()
        .await
        .expect("post");
    assert_eq!(unsigned.status(), 401);
    for (bad, why) in [
        (body.replace("1497.00", "mil"), "value must be a positive decimal"),
        (body.replace("BRL", "reais"), "currency must be an ISO 4217 code"),
        (
            body.replace("2026-12-10T12:00:00Z", "amanhã"),
            "occurred_at must be an RFC 3339",
        ),
        ("{\"value\":\"1\"}".to_owned(), "not a conversion"),
    ] {
        let (status, text) = post_conversion(&app, &bad, SECRET).await;
        assert_eq!(status, 422, "{bad}");
        assert!(text.contains(why), "{text}");
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM conversions").await,
        0,
        "nothing stored"
    );
}

#[tokio::test]
async fn attributed_once_to_the_contacts_conversations_and_replies() {
    let app = spawn_app_with(|s| {
        s.conversions.secret = Some(SECRET.into());
        s.conversions.attribution_days = 30;
    })
    .await;
    answered(&app).await;
    let body = report(
        ("phone", "+55 (11) 98765-4321"),
        "pay_1",
        "2026-12-10T12:00:00-03:00",
    );
    let (status, text) = post_conversion(&app, &body, SECRET).await;
    assert_eq!(status, 201, "{text}");
    let answer: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(
        answer["attributed_conversations"].as_array().map(Vec::len),
        Some(1)
    );
    assert_eq!(answer["attributed_agent_messages"], 1);

    // A retry of the same delivery changes nothing.
    let (status, text) = post_conversion(&app, &body, SECRET).await;
    assert_eq!(status, 200);
    assert!(text.contains("\"duplicate\":true"), "{text}");
    assert_eq!(app.count("SELECT COUNT(*) FROM conversions").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM conversion_messages").await, 1);
    // The credited reply's trace, the Brazilian contact's message, ends with the conversion;
    // the other two traces do not have one, and the retry added none.
    let inbound = app
        .count("SELECT id FROM messages WHERE external_id = 'wamid.C1'")
        .await;
    let attributed = app
        .text(&format!(
            "SELECT detail FROM events WHERE kind = 'conversion' AND message_id = {inbound}"
        ))
        .await;
    let attributed: Value = serde_json::from_str(&attributed).expect("detail");
    assert_eq!(attributed["value"], "1497");
    assert_eq!(attributed["external_id"], "pay_1");
    assert_eq!(
        attributed["outbound_id"].as_i64(),
        Some(
            app.count(&format!("SELECT id FROM messages WHERE reply_to = {inbound}"))
                .await
        )
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM events WHERE kind = 'conversion'")
            .await,
        1
    );

    // A sale 45 days later is outside the window; an unknown email is stored unattributed.
    let late = report(("phone", "5511987654321"), "pay_2", "2027-01-24T12:00:00Z");
    let (status, text) = post_conversion(&app, &late, SECRET).await;
    assert_eq!(status, 201);
    assert!(text.contains("\"attributed_conversations\":[]"), "{text}");
    let unknown = report(("email", "Nadie@Example.com"), "crm-77", "2026-12-10T12:00:00Z");
    let (status, text) = post_conversion(&app, &unknown, SECRET).await;
    assert_eq!(status, 201);
    assert!(text.contains("\"attributed_conversations\":[]"), "{text}");
    assert_eq!(
        app.text("SELECT contact_key FROM conversions WHERE external_id = 'crm-77'")
            .await,
        "nadie@example.com"
    );

    // The contact card and the dashboard show it.
    let rep = client();
    app.log_in(&rep, "rep").await;
    let conversation = answer["attributed_conversations"][0].as_i64().expect("id");
    let (_, page) = app
        .get_page(&rep, &format!("/conversations/{conversation}"))
        .await;
    assert!(
        page.contains("1497 BRL") || page.contains("1497.00 BRL"),
        "{page}"
    );
    assert!(page.contains("Análise de Dados — turma março 🎓"));
    let (status, trace) = app.get_page(&rep, &format!("/messages/{inbound}/trace")).await;
    assert_eq!(status, 200);
    assert!(trace.contains("Conversion attributed: 1497 BRL"), "{trace}");
    let manager = client();
    app.log_in(&manager, "manager").await;
    let (_, page) = app
        .get_page(&manager, "/dashboard?from=2026-12-01&to=2026-12-31")
        .await;
    assert!(page.contains("BRL 1497"), "{page}");
    assert_eq!(
        app.count("SELECT CAST(SUM(converted) AS BIGINT) FROM conversation_facts")
            .await,
        1
    );
}

#[tokio::test]
async fn a_rep_marks_a_conversation_converted() {
    let app = spawn_app().await;
    answered(&app).await;
    let rep = client();
    app.log_in(&rep, "rep").await;
    let conversation = app
        .count("SELECT c.id FROM conversations c JOIN contacts k ON k.id = c.contact_id WHERE k.address = '34612345678'")
        .await;
    let (csrf, _) = {
        let (_, page) = app
            .get_page(&rep, &format!("/conversations/{conversation}"))
            .await;
        (hidden_field(&page, "csrf"), ())
    };
    let url = format!("{}/conversations/{conversation}/converted", app.address);
    let bad = rep
        .post(&url)
        .form(&[("csrf", csrf.as_str()), ("value", "gratis"), ("currency", "EUR")])
        .send()
        .await
        .expect("post");
    assert_eq!(bad.status(), 422);
    let ok = rep
        .post(&url)
        .form(&[
            ("csrf", csrf.as_str()),
            ("value", "349,50"),
            ("currency", "eur"),
            ("product", "Python desde cero"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(ok.status(), 303);
    assert_eq!(app.text("SELECT value FROM conversions").await, "349.5");
    assert_eq!(app.text("SELECT source FROM conversions").await, "rep");
    assert_eq!(
        app.count("SELECT conversation_id FROM conversion_conversations")
            .await,
        conversation
    );
    assert_eq!(
        app.text(&format!(
            "SELECT outcome FROM conversations WHERE id = {conversation}"
        ))
        .await,
        "converted"
    );
}
