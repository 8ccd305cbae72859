use crate::helpers::*;

#[tokio::test]
async fn verification_echoes_the_challenge_or_refuses() {
    let app = spawn_app().await;
    let url = |token: &str, mode: &str| {
        format!(
            "{}/webhooks/whatsapp?hub.mode={mode}&hub.verify_token={token}&hub.challenge=1158201444",
            app.address
        )
    };
    let ok = app
        .http
        .get(url(VERIFY_TOKEN, "subscribe"))
        .send()
        .await
        .expect("get");
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.text().await.expect("body"), "1158201444");
    for (token, mode) in [("wrong", "subscribe"), (VERIFY_TOKEN, "unsubscribe")] {
        assert_eq!(
            app.http.get(url(token, mode)).send().await.expect("get").status(),
            403
        );
    }
}

#[tokio::test]
async fn the_same_delivery_twice_gives_one_message_one_job_one_draft() {
    let app = spawn_app().await;
    let body = text_delivery(
        "wamid.DUP",
        "5511987654321",
        "Ana",
        "Quanto custa o curso de Python do zero?",
    );
    assert_eq!(app.post_webhook(&body).await.status(), 200);
    assert_eq!(app.post_webhook(&body).await.status(), 200);
    app.drain().await;
    app.post_webhook(&body).await;
    app.drain().await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM webhook_deliveries").await,
        3,
        "every delivery is kept raw"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM messages WHERE direction = 'in'")
            .await,
        1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM jobs WHERE kind = 'process_inbound'")
            .await,
        1
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM drafts").await, 1);
}

#[tokio::test]
async fn bad_deliveries_get_a_clear_4xx_and_store_nothing() {
    let app = spawn_app().await;
    let url = format!("{}/webhooks/whatsapp", app.address);
    let good = text_delivery("wamid.X", "5511987654321", "Ana", "oi");

    let unsigned = app.http.post(&url).body(good.clone()).send().await.expect("post");
    assert_eq!(unsigned.status(), 401);
    let wrong = app
        .http
        .post(&url)
        .header("x-hub-signature-256", sign(b"not-the-secret", good.as_bytes()))
        .body(good.clone())
        .send()
        .await
        .expect("post");
    assert_eq!(wrong.status(), 401);
    assert_eq!(
        app.post_webhook("{\"object\": \"whatsapp_business_account\", \"entry\": [")
            .await
            .status(),
        400
    );
    let unknown_number = good.replace(PHONE_NUMBER_ID, "999999999");
    let answer = app.post_webhook(&unknown_number).await;
    assert_eq!(answer.status(), 422);
    assert!(answer.text().await.expect("body").contains("999999999"));
    let oversize = text_delivery("wamid.BIG", "5511987654321", "Ana", &"a".repeat(70 * 1024));
    assert_eq!(app.post_webhook(&oversize).await.status(), 413);

    assert_eq!(app.count("SELECT COUNT(*) FROM webhook_deliveries").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM jobs").await, 0);
}

#[tokio::test]
async fn signed_payloads_we_do_not_understand_are_kept_for_an_admin() {
    let app = spawn_app().await;
    let odd = r#"{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"no_metadata":true}}]}]}"#;
    assert_eq!(
        app.post_webhook(odd).await.status(),
        200,
        "acknowledged so Meta stops retrying"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM webhook_deliveries WHERE parse_state = 'unparsed'")
            .await,
        1
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 0);

    let admin = client();
    app.log_in(&admin, "admin").await;
    let (status, page) = app.get_page(&admin, "/admin/deliveries").await;
    assert_eq!(status, 200);
    assert!(page.contains("no_metadata"), "{page}");
    let rep = client();
    app.log_in(&rep, "rep").await;
    assert_eq!(app.get_page(&rep, "/admin/deliveries").await.0, 403);
}

#[tokio::test]
async fn media_and_unknown_types_are_stored_not_crashed_on() {
    let app = spawn_app().await;
    let mut payload: serde_json::Value =
        serde_json::from_str(&text_delivery("wamid.IMG", "5511987654321", "Ana", "x")).expect("json");
    let message = &mut payload["entry"][0]["changes"][0]["value"]["messages"][0];
    message["type"] = "sticker".into();
    message["sticker"] = serde_json::json!({"id": "s1", "mime_type": "image/webp"});
    message.as_object_mut().expect("object").remove("text");
    let body = payload.to_string();
    assert_eq!(app.post_webhook(&body).await.status(), 200);
    app.drain().await;
    let intent = app.text("SELECT intent FROM drafts").await;
    assert_eq!(intent, "other");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM drafts WHERE state = 'held'")
            .await,
        1,
        "held for a person"
    );
}

#[tokio::test]
async fn statuses_only_move_forward() {
    let app = spawn_app().await;
    app.post_webhook(&text_delivery("wamid.S1", "16505551234", "Sam", "hello!"))
        .await;
    app.drain().await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM messages WHERE direction = 'out' AND status = 'sent'")
            .await,
        1
    );
    for status in ["read", "delivered", "sent", "failed"] {
        app.post_webhook(&status_delivery("wamid.OUT1", status)).await;
    }
    app.drain().await;
    let status = app
        .text("SELECT status FROM messages WHERE direction = 'out'")
        .await;
    assert_eq!(status, "read");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM events WHERE kind = 'delivered'")
            .await,
        1,
        "read implies delivered once"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM events WHERE kind = 'status_ignored'")
            .await,
        3
    );
}
