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

fn with_template(s: &mut tuesday::config::Settings) {
    s.whatsapp.reengagement_template = Some(tuesday::config::TemplateSettings {
        name: "retomar_conversa".to_owned(),
        languages: [("es", "es"), ("pt", "pt_BR"), ("en", "en_US")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
    });
}

#[tokio::test]
async fn error_131047_sends_the_approved_template_instead() {
    let app = spawn_app_with(with_template).await;
    app.graph.reply_with(vec![GraphReply::Error {
        status: 400,
        code: 131047,
    }]);
    app.post_webhook(&text_delivery("wamid.T1", "5511987654321", "Ana", "oi"))
        .await;
    app.drain().await;
    let requests = app.graph.requests();
    assert_eq!(requests.len(), 2, "the free text, then the template");
    assert_eq!(requests[0].body["type"], "text");
    assert_eq!(requests[1].body["type"], "template");
    assert_eq!(requests[1].body["template"]["name"], "retomar_conversa");
    assert_eq!(requests[1].body["template"]["language"]["code"], "pt_BR");
    assert_eq!(
        requests[0].body["biz_opaque_callback_data"], requests[1].body["biz_opaque_callback_data"],
        "one idempotency key per outbound message"
    );
    assert_eq!(
        app.text("SELECT status FROM messages WHERE direction = 'out'")
            .await,
        "sent"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM events WHERE kind = 'sent_template'")
            .await,
        1
    );
}

#[tokio::test]
async fn error_131047_without_a_template_fails_for_a_person_and_is_not_retried() {
    let app = spawn_app().await;
    app.graph.reply_with(vec![GraphReply::Error {
        status: 400,
        code: 131047,
    }]);
    app.post_webhook(&text_delivery("wamid.T2", "34612345678", "Marta", "hola"))
        .await;
    app.drain().await;
    assert_eq!(app.graph.requests().len(), 1);
    let (status, error) = (
        app.text("SELECT status FROM messages WHERE direction = 'out'")
            .await,
        app.text("SELECT last_error FROM messages WHERE direction = 'out'")
            .await,
    );
    assert_eq!(status, "failed");
    assert!(error.contains("template required"), "{error}");
}

#[tokio::test]
async fn a_window_closed_by_send_time_takes_the_template_path() {
    let app = spawn_app_with(with_template).await;
    app.post_webhook(&text_delivery("wamid.T3", "14155550123", "Sam", "hello! 👋"))
        .await;
    // Process the message (its reply is auto-sent: a send job is queued) …
    assert!(tuesday::jobs::run_one(&app.state, "test").await.expect("runs"));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM jobs WHERE kind = 'send' AND state = 'queued'")
            .await,
        1
    );
    // … and let the customer's window close before the send runs.
    app.count(&format!(
        "UPDATE contacts SET last_inbound_at = last_inbound_at - {} RETURNING id",
        25 * 3_600_000
    ))
    .await;
    app.drain().await;
    let requests = app.graph.requests();
    assert_eq!(requests.len(), 1, "no free text outside the window");
    assert_eq!(requests[0].body["type"], "template");
    assert_eq!(requests[0].body["template"]["language"]["code"], "en_US");
    assert_eq!(
        app.text("SELECT status FROM messages WHERE direction = 'out'")
            .await,
        "sent"
    );
}

#[tokio::test]
async fn a_job_that_outlasts_its_lease_keeps_it_and_runs_once() {
    // Leases of a second; Meta takes two and a half to answer each send.
    let app = spawn_app_with(|s| {
        s.worker.lease_secs = 1;
        s.whatsapp.timeout_ms = 5_000;
    })
    .await;
    app.graph.reply_with(vec![GraphReply::Slow(2_500)]);
    app.post_webhook(&text_delivery("wamid.L1", "16505551234", "Sam", "hello! 👋"))
        .await;
    assert!(tuesday::jobs::run_one(&app.state, "first").await.expect("runs"));
    let state = app.state.clone();
    let first = tokio::spawn(async move { tuesday::jobs::run_one(&state, "first").await });
    // Past the first lease: the worker still runs the send and has renewed its lease, so a
    // second worker finds nothing to take.
    tokio::time::sleep(std::time::Duration::from_millis(1_600)).await;
    assert!(
        !tuesday::jobs::run_one(&app.state, "second").await.expect("runs"),
        "a second worker took a job still running"
    );
    assert!(first.await.expect("joins").expect("runs"));
    assert_eq!(
        app.text("SELECT state || ' ' || attempts || ' ' || locked_by FROM jobs WHERE kind = 'send'")
            .await,
        "done 1 first"
    );
    assert_eq!(app.graph.requests().len(), 1, "sent once");
}
