//! The policy page (admins) and the suppression list (managers).

use crate::helpers::{client, spawn_app, text_delivery};

#[tokio::test]
async fn admins_read_the_policy_and_others_may_not() {
    let app = spawn_app().await;
    let admin = client();
    app.log_in(&admin, "admin").await;
    let (status, page) = app.get_page(&admin, "/admin/policy").await;
    assert_eq!(status, 200);
    assert!(page.contains("Messages per contact per day"), "{page}");
    assert!(page.contains("max_per_day = 6"), "the file as written: {page}");
    assert!(page.contains("The demo policy built into Tuesday"));

    for role in ["rep", "manager"] {
        let user = client();
        app.log_in(&user, role).await;
        assert_eq!(app.get_page(&user, "/admin/policy").await.0, 403, "{role}");
    }
    assert_eq!(app.get_page(&client(), "/admin/policy").await.0, 303);
}

#[tokio::test]
async fn opt_outs_in_every_language_reach_the_suppression_list() {
    let app = spawn_app().await;
    let cases = [
        (
            "wamid.sup.es",
            "5215512345678",
            "Lupita <b>Ruiz</b>",
            "BAJA por favor, no me escriban mas 🙏",
        ),
        (
            "wamid.sup.pt",
            "5511987650000",
            "João Silva",
            "quero descadastrar, pare de mandar msg",
        ),
        ("wamid.sup.en", "14155550101", "Sam Lee", "unsubscribe me pls"),
    ];
    for (wamid, from, name, body) in cases {
        let response = app.post_webhook(&text_delivery(wamid, from, name, body)).await;
        assert_eq!(response.status(), 200);
    }
    // A message that only mentions leaving a course is not an opt-out.
    let course = text_delivery(
        "wamid.sup.course",
        "5491155550000",
        "Ana",
        "quiero darme de baja del curso de Excel",
    );
    assert_eq!(app.post_webhook(&course).await.status(), 200);
    app.drain().await;

    let rep = client();
    app.log_in(&rep, "rep").await;
    assert_eq!(app.get_page(&rep, "/suppression").await.0, 403);

    let manager = client();
    app.log_in(&manager, "manager").await;
    let (status, page) = app.get_page(&manager, "/suppression").await;
    assert_eq!(status, 200);
    for (_, from, _, _) in cases {
        assert!(page.contains(from), "{from} should be suppressed: {page}");
    }
    assert!(
        !page.contains("5491155550000"),
        "leaving a course is not an opt-out"
    );
    assert!(
        page.contains("Ruiz") && !page.contains("<b>Ruiz"),
        "names are escaped: {page}"
    );
}

/// A block is final for a rep. A manager may send over it, but only with a reason, and the
/// override is on the trace with who made it and what it overrode.
#[tokio::test]
async fn only_managers_override_a_block_and_the_override_is_audited() {
    let app = spawn_app().await;
    let body = text_delivery(
        "wamid.override",
        "5511987654321",
        "Ana",
        "quero falar com um consultor sobre o curso de python, pfv",
    );
    app.post_webhook(&body).await;
    app.drain().await;
    let draft_id = app.count("SELECT id FROM drafts WHERE state = 'held'").await;
    let conversation_id = app.count("SELECT conversation_id FROM drafts").await;
    let url = format!("{}/drafts/{draft_id}/approve", app.address);
    // A price the catalog does not have: the prices rule blocks it.
    let invented = "Oi Ana! Para você o curso de Python sai por R$ 99,00 hoje.";

    let rep = client();
    app.log_in(&rep, "rep").await;
    let (csrf, version) = app.form_tokens(&rep, conversation_id).await;
    let form = [
        ("csrf", csrf.as_str()),
        ("version", version.as_str()),
        ("body", invented),
        ("override_reason", "o cliente pediu"),
    ];
    rep.post(&url).form(&form).send().await.expect("post");
    let (_, page) = app
        .get_page(&rep, &format!("/conversations/{conversation_id}"))
        .await;
    assert!(page.contains("only a manager may override"), "{page}");

    let manager = client();
    app.log_in(&manager, "manager").await;
    let (csrf, version) = app.form_tokens(&manager, conversation_id).await;
    let without_reason = [
        ("csrf", csrf.as_str()),
        ("version", version.as_str()),
        ("body", invented),
    ];
    manager
        .post(&url)
        .form(&without_reason)
        .send()
        .await
        .expect("post");
    app.drain().await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM drafts WHERE state = 'held'")
            .await,
        1,
        "a block without a reason stays a block, even for a manager"
    );
    assert!(app.graph.requests().is_empty());

    let reason = "promoção combinada por telefone com a diretora";
    let with_reason = [
        ("csrf", csrf.as_str()),
        ("version", version.as_str()),
        ("body", invented),
        ("override_reason", reason),
    ];
    manager.post(&url).form(&with_reason).send().await.expect("post");
    app.drain().await;
    let sent = app.graph.requests();
    assert_eq!(sent.len(), 1, "the override reaches the send-time check too");
    assert_eq!(sent[0].body["text"]["body"], invented);

    let detail: serde_json::Value = serde_json::from_str(
        &app.text("SELECT detail FROM events WHERE kind = 'approved'")
            .await,
    )
    .expect("detail is JSON");
    assert_eq!(detail["override_reason"], reason);
    let overridden = detail["overridden"].to_string();
    assert!(overridden.contains("prices"), "{overridden}");
    assert_eq!(
        app.text(
            "SELECT u.username FROM events e JOIN users u ON u.id = e.user_id WHERE e.kind = 'approved'"
        )
        .await,
        "manager"
    );
    let (_, trace) = app
        .get_page(
            &manager,
            &format!(
                "/messages/{}/trace",
                app.count("SELECT message_id FROM drafts").await
            ),
        )
        .await;
    assert!(trace.contains("manager override"), "{trace}");
}
