//! The outbox through WhatsApp's failures: one idempotency key per message, a lost answer
//! resolved by the status webhook that echoes the key, and rate limits that put sends off.

use crate::helpers::*;
use serde_json::json;

/// A status webhook for `wamid` that echoes `callback_data`, as Meta does.
fn status_with_key(wamid: &str, status: &str, callback_data: &str) -> String {
    json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID},
            "statuses": [{"id": wamid, "status": status, "timestamp": now_seconds(),
                          "recipient_id": "16505551234", "biz_opaque_callback_data": callback_data}]
        }}]}]
    })
    .to_string()
}

#[tokio::test]
async fn a_lost_answer_is_resolved_by_the_status_webhook_not_by_resending() {
    let app = spawn_app_with(|s| s.whatsapp.timeout_ms = 200).await;
    // Meta takes the message but its answer comes too late: the outcome is unknown.
    app.graph.reply_with(vec![GraphReply::Slow(1_000)]);
    app.post_webhook(&text_delivery("wamid.U1", "16505551234", "Sam", "hello! 👋"))
        .await;
    app.drain().await;
    let requests = app.graph.requests();
    assert_eq!(requests.len(), 1);
    let key = requests[0].body["biz_opaque_callback_data"]
        .as_str()
        .expect("the send carries its idempotency key")
        .to_owned();
    let out_id = app.count("SELECT id FROM messages WHERE direction = 'out'").await;
    assert_eq!(key, tuesday::outbox::idempotency_key(out_id));
    assert_eq!(
        app.text("SELECT status FROM messages WHERE direction = 'out'")
            .await,
        "unconfirmed"
    );

    // Meta reports the message delivered, naming it by the id we never recorded and our key.
    app.post_webhook(&status_with_key("wamid.LOST1", "delivered", &key))
        .await;
    app.drain().await;
    assert_eq!(
        app.text("SELECT status || ' ' || external_id FROM messages WHERE direction = 'out'")
            .await,
        "delivered wamid.LOST1"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM events WHERE kind = 'send_confirmed'")
            .await,
        1
    );
    assert_eq!(app.graph.requests().len(), 1, "never sent twice");

    // A key that is not ours changes nothing.
    app.post_webhook(&status_with_key("wamid.OTHER", "read", "someone-else-7"))
        .await;
    app.drain().await;
    assert_eq!(
        app.text("SELECT status FROM messages WHERE direction = 'out'")
            .await,
        "delivered"
    );
}

#[tokio::test]
async fn rate_limits_put_the_send_off_without_spending_attempts() {
    let app = spawn_app().await;
    for (i, code) in [130429, 131056].into_iter().enumerate() {
        app.graph
            .reply_with(vec![GraphReply::Error { status: 400, code }]);
        let from = ["5511987654321", "34612345678"][i];
        let text = ["oi", "hola"][i];
        app.post_webhook(&text_delivery(&format!("wamid.RL{i}"), from, "Contact", text))
            .await;
        app.drain().await;
        let (status, attempts, run_in) = (
            app.text(&format!(
                "SELECT o.status FROM messages o JOIN messages i ON i.id = o.reply_to
                 WHERE o.direction = 'out' AND i.external_id = 'wamid.RL{i}'"
            ))
            .await,
            app.count(&format!(
                "SELECT attempts FROM jobs WHERE kind = 'send' ORDER BY id LIMIT 1 OFFSET {i}"
            ))
            .await,
            app.count(&format!(
                "SELECT run_at - updated_at FROM jobs WHERE kind = 'send' ORDER BY id LIMIT 1 OFFSET {i}"
            ))
            .await,
        );
        assert_eq!(status, "queued", "{code}: back in the queue, not failed");
        assert_eq!(attempts, 0, "{code}: a rate limit is not a failed attempt");
        let floor = if code == 131056 { 60_000 } else { 20_000 };
        assert!(run_in >= floor, "{code}: waits at least {floor} ms, got {run_in}");
    }
    assert_eq!(app.graph.requests().len(), 2);
}
