use crate::helpers::*;

async fn held_draft(app: &TestApp) -> (i64, i64) {
    let body = text_delivery(
        "wamid.H1",
        "34612345678",
        "Marta",
        "Quiero hablar con un asesor por favor, llamadme",
    );
    app.post_webhook(&body).await;
    app.drain().await;
    let draft_id = app.count("SELECT id FROM drafts WHERE state = 'held'").await;
    let conversation_id = app.count("SELECT conversation_id FROM drafts").await;
    (draft_id, conversation_id)
}

async fn form_tokens(app: &TestApp, client: &reqwest::Client, conversation_id: i64) -> (String, String) {
    app.form_tokens(client, conversation_id).await
}

/// Two reps press approve at the same moment: one send, and the other is told.
#[tokio::test]
async fn two_simultaneous_approvals_send_once() {
    let app = spawn_app().await;
    let (draft_id, conversation_id) = held_draft(&app).await;
    let (rep, manager) = (client(), client());
    app.log_in(&rep, "rep").await;
    app.log_in(&manager, "manager").await;
    let (rep_csrf, version) = form_tokens(&app, &rep, conversation_id).await;
    let (manager_csrf, _) = form_tokens(&app, &manager, conversation_id).await;
    let url = format!("{}/drafts/{draft_id}/approve", app.address);
    let (a, b) = tokio::join!(
        rep.post(&url)
            .form(&[("csrf", rep_csrf.as_str()), ("version", version.as_str())])
            .send(),
        manager
            .post(&url)
            .form(&[("csrf", manager_csrf.as_str()), ("version", version.as_str())])
            .send(),
    );
    assert_eq!(a.expect("a").status(), 303);
    assert_eq!(b.expect("b").status(), 303);
    app.drain().await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM messages WHERE direction = 'out'")
            .await,
        1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM events WHERE kind = 'approved'")
            .await,
        1
    );
    assert_eq!(
        app.graph.requests().len(),
        1,
        "exactly one send reached the provider"
    );
}

#[tokio::test]
async fn edited_drafts_are_checked_again_and_sent_as_edited() {
    let app = spawn_app().await;
    let (draft_id, conversation_id) = held_draft(&app).await;
    let rep = client();
    app.log_in(&rep, "rep").await;
    let (csrf, version) = form_tokens(&app, &rep, conversation_id).await;
    let url = format!("{}/drafts/{draft_id}/approve", app.address);

    // An invented price is blocked, and nothing changes.
    let invented = "Hola Marta, el curso de Python desde cero te sale por solo 99 €.";
    rep.post(&url)
        .form(&[
            ("csrf", csrf.as_str()),
            ("version", version.as_str()),
            ("body", invented),
        ])
        .send()
        .await
        .expect("post");
    let (_, page) = app
        .get_page(&rep, &format!("/conversations/{conversation_id}"))
        .await;
    assert!(page.contains("blocked by the guardrails"), "{page}");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM drafts WHERE state = 'held'")
            .await,
        1
    );

    let edited = "Hola Marta, te llamamos hoy a las 17h. Python desde cero cuesta 279 €.";
    rep.post(&url)
        .form(&[
            ("csrf", csrf.as_str()),
            ("version", version.as_str()),
            ("body", edited),
        ])
        .send()
        .await
        .expect("post");
    app.drain().await;
    let sent = app.graph.requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].body["text"]["body"], edited);
}

#[tokio::test]
async fn rejecting_sends_nothing() {
    let app = spawn_app().await;
    let (draft_id, conversation_id) = held_draft(&app).await;
    let rep = client();
    app.log_in(&rep, "rep").await;
    let (csrf, version) = form_tokens(&app, &rep, conversation_id).await;
    rep.post(format!("{}/drafts/{draft_id}/reject", app.address))
        .form(&[
            ("csrf", csrf.as_str()),
            ("version", version.as_str()),
            ("reason", "already called her"),
        ])
        .send()
        .await
        .expect("reject");
    app.drain().await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM drafts WHERE state = 'rejected'")
            .await,
        1
    );
    assert!(app.graph.requests().is_empty());
}

#[tokio::test]
async fn forms_without_the_csrf_token_are_refused() {
    let app = spawn_app().await;
    let (draft_id, conversation_id) = held_draft(&app).await;
    let rep = client();
    app.log_in(&rep, "rep").await;
    let (_, version) = form_tokens(&app, &rep, conversation_id).await;
    let response = rep
        .post(format!("{}/drafts/{draft_id}/approve", app.address))
        .form(&[("csrf", "forged"), ("version", version.as_str())])
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), 403);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM drafts WHERE state = 'held'")
            .await,
        1
    );
}

#[tokio::test]
async fn pages_need_the_right_login() {
    let app = spawn_app().await;
    let anonymous = client();
    let (status, _) = app.get_page(&anonymous, "/inbox").await;
    assert_eq!(status, 303, "anonymous visitors go to the login page");

    let page = anonymous
        .get(format!("{}/login", app.address))
        .send()
        .await
        .expect("login")
        .text()
        .await
        .expect("body");
    let csrf = hidden_field(&page, "csrf");
    let wrong = anonymous
        .post(format!("{}/login", app.address))
        .form(&[("username", "rep"), ("password", "guess"), ("csrf", &csrf)])
        .send()
        .await
        .expect("login");
    assert_eq!(wrong.status(), 401);
    assert!(
        wrong
            .text()
            .await
            .expect("body")
            .contains("Wrong username or password")
    );

    let rep = client();
    app.log_in(&rep, "rep").await;
    assert_eq!(app.get_page(&rep, "/inbox").await.0, 200);
    assert_eq!(app.get_page(&rep, "/dashboard").await.0, 403);
}

/// Retryable Graph errors are retried; permanent ones fail once and show.
#[tokio::test]
async fn graph_errors_are_retried_or_reported() {
    let app = spawn_app().await;
    app.graph.reply_with(vec![
        GraphReply::Error {
            status: 500,
            code: 131000,
        },
        GraphReply::Accept,
    ]);
    app.post_webhook(&text_delivery("wamid.R1", "16505551234", "Sam", "hello!"))
        .await;
    app.drain().await;
    assert_eq!(app.graph.requests().len(), 2, "a service error is retried");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM messages WHERE direction = 'out' AND status = 'sent'")
            .await,
        1
    );

    app.graph.reply_with(vec![GraphReply::Error {
        status: 400,
        code: 131026,
    }]);
    app.post_webhook(&text_delivery("wamid.R2", "16505550000", "Kim", "hello!"))
        .await;
    app.drain().await;
    assert_eq!(app.graph.requests().len(), 3, "undeliverable is not retried");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM messages WHERE direction = 'out' AND status = 'failed'")
            .await,
        1
    );
}

/// A job whose worker died is claimed again once its lease runs out.
#[tokio::test]
async fn expired_leases_are_claimed_again() {
    let app = spawn_app().await;
    app.post_webhook(&text_delivery("wamid.L1", "16505551234", "Sam", "hello"))
        .await;
    let store = &app.state.store;
    let first = store
        .claim_job("worker-that-dies", 500)
        .await
        .expect("claim")
        .expect("a job");
    assert!(
        store.claim_job("other", 60_000).await.expect("claim").is_none(),
        "a leased job is not handed out twice"
    );
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    let again = store
        .claim_job("other", 60_000)
        .await
        .expect("claim")
        .expect("the job again");
    assert_eq!(again.id, first.id);
    assert_eq!(again.attempts, 2);
    store
        .complete_job(first.id, "worker-that-dies")
        .await
        .expect("late completion is ignored");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM jobs WHERE state = 'running'")
            .await,
        1,
        "the dead worker cannot complete it"
    );
}

/// A worker that died between marking a reply `sending` and recording the provider's answer:
/// the job runs again, and the reply is held as unconfirmed instead of being sent a second time.
#[tokio::test]
async fn a_send_interrupted_mid_call_is_never_resent_blindly() {
    let app = spawn_app().await;
    app.post_webhook(&text_delivery("wamid.C1", "16505551234", "Sam", "hello!"))
        .await;
    let store = &app.state.store;
    // Process the inbound message only: the send job stays queued.
    let job = store
        .claim_job("pipeline", 60_000)
        .await
        .expect("claim")
        .expect("process job");
    assert_eq!(job.kind, "process_inbound");
    tuesday::pipeline::process_inbound(&app.state, app.count("SELECT id FROM messages").await)
        .await
        .expect("pipeline");
    store.complete_job(job.id, "pipeline").await.expect("complete");

    let send = store
        .claim_job("dying-worker", 300)
        .await
        .expect("claim")
        .expect("send job");
    assert_eq!(send.kind, "send");
    let outbound_id = app.count("SELECT id FROM messages WHERE direction = 'out'").await;
    let out = store
        .outbound(outbound_id)
        .await
        .expect("load")
        .expect("outbound");
    assert!(store.claim_send(&out).await.expect("mark sending"));
    // The worker dies here, before (or after) calling the provider. Its lease runs out.
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    app.drain().await;

    assert!(app.graph.requests().is_empty(), "the reply was not sent again");
    assert_eq!(
        app.text("SELECT status FROM messages WHERE direction = 'out'")
            .await,
        "unconfirmed"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM events WHERE kind = 'send_unconfirmed'")
            .await,
        1
    );
    let rep = client();
    app.log_in(&rep, "rep").await;
    let (_, inbox) = app.get_page(&rep, "/inbox").await;
    assert!(inbox.contains("unconfirmed"), "a person sees it: {inbox}");
}

/// A provider that takes the message but answers too late: the outcome is unknown, so the reply
/// is held, not retried.
#[tokio::test]
async fn a_send_without_an_answer_is_held_not_retried() {
    let app = spawn_app_with(|s| s.whatsapp.timeout_ms = 200).await;
    app.graph.reply_with(vec![GraphReply::Slow(1_000)]);
    app.post_webhook(&text_delivery("wamid.T1", "16505551234", "Sam", "hello!"))
        .await;
    app.drain().await;
    tokio::time::sleep(std::time::Duration::from_millis(1_000)).await;
    app.drain().await;
    assert_eq!(app.graph.requests().len(), 1);
    assert_eq!(
        app.text("SELECT status FROM messages WHERE direction = 'out'")
            .await,
        "unconfirmed"
    );
}
