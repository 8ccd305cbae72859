//! The review inbox: queues and their filters, claims that keep a second rep from sending,
//! the conversation's actions, accounts, and the dashboard built from the roll-ups.

use crate::helpers::*;

/// Held drafts in Spanish, Portuguese and English (with typos, no accents, an emoji).
async fn three_held(app: &TestApp) {
    for (wamid, from, name, text) in [
        (
            "wamid.I1",
            "34612345678",
            "Marta",
            "quiero hablar con un asesor xfavor, llamenme",
        ),
        (
            "wamid.I2",
            "5511987654321",
            "João",
            "quero falar com um atendente humano 🙏",
        ),
        (
            "wamid.I3",
            "16505551234",
            "Ann",
            "can i talk to a real person pls",
        ),
    ] {
        assert_eq!(
            app.post_webhook(&text_delivery(wamid, from, name, text))
                .await
                .status(),
            200
        );
    }
    app.drain().await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM drafts WHERE state = 'held'")
            .await,
        3
    );
}

async fn conversation_of(app: &TestApp, address: &str) -> i64 {
    app.count(&format!(
        "SELECT c.id FROM conversations c JOIN contacts k ON k.id = c.contact_id WHERE k.address = '{address}'"
    ))
    .await
}

/// Posts a form with the page's CSRF token; returns the status.
async fn post(app: &TestApp, client: &reqwest::Client, path: &str, fields: &[(&str, &str)]) -> u16 {
    let (_, page) = app.get_page(client, "/inbox").await;
    let csrf = hidden_field(&page, "csrf");
    let mut form: Vec<(&str, &str)> = vec![("csrf", csrf.as_str())];
    form.extend_from_slice(fields);
    client
        .post(format!("{}{path}", app.address))
        .form(&form)
        .send()
        .await
        .expect("post")
        .status()
        .as_u16()
}

async fn add_user(app: &TestApp, admin: &reqwest::Client, name: &str, role: &str) {
    let status = post(
        app,
        admin,
        "/admin/users",
        &[("username", name), ("role", role), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(status, 303);
}

#[tokio::test]
async fn queues_filter_by_language_intent_reason_and_assignee() {
    let app = spawn_app().await;
    three_held(&app).await;
    let rep = client();
    app.log_in(&rep, "rep").await;

    let (status, page) = app.get_page(&rep, "/inbox").await;
    assert_eq!(status, 200);
    for name in ["Marta", "João", "Ann"] {
        assert!(page.contains(name), "{name} is in the held queue");
    }
    let (_, page) = app.get_page(&rep, "/inbox?lang=pt").await;
    assert!(
        page.contains("João") && !page.contains("Marta") && !page.contains(">Ann<"),
        "{page}"
    );
    let (_, page) = app.get_page(&rep, "/inbox?channel=email").await;
    assert!(!page.contains("João") && page.contains("Nothing here"));
    let (_, page) = app.get_page(&rep, "/inbox?intent=human_handoff").await;
    let shown = ["Marta", "João", ">Ann<"]
        .iter()
        .filter(|n| page.contains(*n))
        .count();
    let handoffs = app
        .count("SELECT COUNT(*) FROM drafts WHERE intent = 'human_handoff'")
        .await;
    assert_eq!(shown as i64, handoffs);
    let (_, page) = app.get_page(&rep, "/inbox?reason=no_such_rule").await;
    assert!(page.contains("Nothing here"));
    let (_, page) = app.get_page(&rep, "/inbox?age=60").await;
    assert!(page.contains("Nothing here"), "nothing has waited an hour yet");

    // Claimed by the rep: "me" shows it, "nobody" no longer does.
    let marta = conversation_of(&app, "34612345678").await;
    assert_eq!(
        post(&app, &rep, &format!("/conversations/{marta}/claim"), &[]).await,
        303
    );
    let (_, page) = app.get_page(&rep, "/inbox?assignee=me").await;
    assert!(page.contains("Marta") && !page.contains("João"), "{page}");
    let (_, page) = app.get_page(&rep, "/inbox?assignee=none").await;
    assert!(!page.contains("Marta") && page.contains("João"));

    // Other queues: an escalation shows under Escalations with its reason.
    assert_eq!(
        post(
            &app,
            &rep,
            &format!("/conversations/{marta}/escalate"),
            &[("text", "pide descuento del 50%")]
        )
        .await,
        303
    );
    let (_, page) = app.get_page(&rep, "/inbox?view=escalated").await;
    assert!(
        page.contains("Marta") && page.contains("pide descuento del 50%"),
        "{page}"
    );
    let (_, page) = app.get_page(&rep, "/inbox?view=failed").await;
    assert!(page.contains("Nothing here"));
    assert_eq!(
        app.get_page(&rep, "/inbox?view=held&age=soon").await.0,
        200,
        "a bad age is ignored"
    );
}

#[tokio::test]
async fn a_claim_keeps_another_rep_from_sending_until_it_lapses() {
    let app = spawn_app_with(|s| s.inbox.claim_minutes = 15).await;
    three_held(&app).await;
    let (admin, rep, rep2, manager) = (client(), client(), client(), client());
    app.log_in(&admin, "admin").await;
    add_user(&app, &admin, "lucia", "rep").await;
    app.log_in(&rep, "rep").await;
    app.log_in(&rep2, "lucia").await;
    app.log_in(&manager, "manager").await;

    let marta = conversation_of(&app, "34612345678").await;
    let draft = app
        .count(&format!("SELECT id FROM drafts WHERE conversation_id = {marta}"))
        .await;
    assert_eq!(
        post(&app, &rep, &format!("/conversations/{marta}/claim"), &[]).await,
        303
    );
    // Lucia sees who holds it, cannot take it, and cannot send.
    let (_, page) = app.get_page(&rep2, "/inbox").await;
    assert!(page.contains("<span class=\"holder\">rep</span>"), "{page}");
    assert_eq!(
        post(&app, &rep2, &format!("/conversations/{marta}/claim"), &[]).await,
        303
    );
    assert_eq!(
        app.text(&format!(
            "SELECT u.username FROM conversations c JOIN users u ON u.id = c.claimed_by WHERE c.id = {marta}"
        ))
        .await,
        "rep"
    );
    let (status, page) = app.get_page(&rep2, &format!("/conversations/{marta}")).await;
    assert!(status == 200 && page.contains("name=\"version\""), "{page}");
    let (csrf, version) = app.form_tokens(&rep2, marta).await;
    let approve = format!("{}/drafts/{draft}/approve", app.address);
    rep2.post(&approve)
        .form(&[("csrf", csrf.as_str()), ("version", version.as_str())])
        .send()
        .await
        .expect("post");
    let (_, page) = app.get_page(&rep2, &format!("/conversations/{marta}")).await;
    assert!(
        page.contains("Not approved: rep has claimed this conversation"),
        "{page}"
    );
    assert_eq!(
        app.text(&format!("SELECT state FROM drafts WHERE id = {draft}"))
            .await,
        "held"
    );

    // Once the claim lapses, Lucia may claim and send; the optimistic lock still holds.
    // (The test clock cannot jump 15 minutes; the claim's end is moved into the past instead.)
    app.count(&format!(
        "UPDATE conversations SET claimed_until = claimed_until - 960000 WHERE id = {marta} RETURNING id"
    ))
    .await;
    assert_eq!(
        post(&app, &rep2, &format!("/conversations/{marta}/claim"), &[]).await,
        303
    );
    rep2.post(&approve)
        .form(&[("csrf", csrf.as_str()), ("version", version.as_str())])
        .send()
        .await
        .expect("post");
    assert_eq!(
        app.text(&format!("SELECT state FROM drafts WHERE id = {draft}"))
            .await,
        "approved"
    );
    let m_csrf = hidden_field(&app.get_page(&manager, "/inbox").await.1, "csrf");
    manager
        .post(&approve)
        .form(&[("csrf", m_csrf.as_str()), ("version", version.as_str())])
        .send()
        .await
        .expect("post");
    app.drain().await;
    assert_eq!(app.graph.requests().len(), 1, "one send, whoever pressed approve");
}

#[tokio::test]
async fn conversation_actions_are_recorded() {
    let app = spawn_app().await;
    three_held(&app).await;
    let rep = client();
    app.log_in(&rep, "rep").await;
    let joao = conversation_of(&app, "5511987654321").await;
    let draft = app
        .count(&format!("SELECT id FROM drafts WHERE conversation_id = {joao}"))
        .await;

    // A note with HTML stays text; an empty one is refused and nothing is stored.
    assert_eq!(
        post(
            &app,
            &rep,
            &format!("/conversations/{joao}/note"),
            &[("text", "<b>ligar</b> às 15h 📞")]
        )
        .await,
        303
    );
    assert_eq!(
        post(
            &app,
            &rep,
            &format!("/conversations/{joao}/note"),
            &[("text", "   ")]
        )
        .await,
        422
    );
    let (_, page) = app.get_page(&rep, &format!("/conversations/{joao}")).await;
    assert!(
        !page.contains("<b>ligar</b>") && page.contains("ligar") && page.contains("às 15h 📞"),
        "{page}"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM notes").await, 1);

    // Intent correction becomes the training label.
    assert_eq!(
        post(
            &app,
            &rep,
            &format!("/drafts/{draft}/intent"),
            &[("intent", "pricing")]
        )
        .await,
        303
    );
    assert_eq!(
        post(
            &app,
            &rep,
            &format!("/drafts/{draft}/intent"),
            &[("intent", "precio")]
        )
        .await,
        422
    );
    assert_eq!(
        app.text(&format!("SELECT corrected_intent FROM drafts WHERE id = {draft}"))
            .await,
        "pricing"
    );
    let (_, page) = app.get_page(&rep, "/inbox?intent=pricing").await;
    assert!(page.contains("João"));

    // Reassign to the manager, then mark lost with a reason.
    assert_eq!(
        post(
            &app,
            &rep,
            &format!("/conversations/{joao}/assign"),
            &[("username", "manager")]
        )
        .await,
        303
    );
    assert_eq!(
        post(
            &app,
            &rep,
            &format!("/conversations/{joao}/assign"),
            &[("username", "nadie")]
        )
        .await,
        422
    );
    let (_, page) = app.get_page(&rep, "/inbox?assignee=manager").await;
    assert!(page.contains("João") && !page.contains("Marta"));
    assert_eq!(
        post(
            &app,
            &rep,
            &format!("/conversations/{joao}/lost"),
            &[("text", "achou caro")]
        )
        .await,
        303
    );
    assert_eq!(
        app.text(&format!("SELECT outcome FROM conversations WHERE id = {joao}"))
            .await,
        "lost"
    );

    // The page shows the highlighted draft, the model line and the contact card.
    let (_, page) = app.get_page(&rep, &format!("/conversations/{joao}")).await;
    assert!(
        page.contains("local · template") || page.contains("local ·"),
        "model and tier shown: {page}"
    );
    assert!(page.contains("24 h window") && page.contains("subscribed") && page.contains("Brazil"));
    // Rejection reasons reach the dashboard.
    let (csrf, version) = app.form_tokens(&rep, joao).await;
    rep.post(format!("{}/drafts/{draft}/reject", app.address))
        .form(&[
            ("csrf", csrf.as_str()),
            ("version", version.as_str()),
            ("reason", "tom errado"),
        ])
        .send()
        .await
        .expect("reject");
    let manager = client();
    app.log_in(&manager, "manager").await;
    let (_, page) = app.get_page(&manager, "/dashboard").await;
    assert!(page.contains("tom errado"), "{page}");
}

#[tokio::test]
async fn roles_passwords_and_signing_out_everywhere() {
    let app = spawn_app().await;
    let (admin, rep, rep_phone) = (client(), client(), client());
    app.log_in(&admin, "admin").await;
    app.log_in(&rep, "rep").await;
    app.log_in(&rep_phone, "rep").await;
    assert_eq!(app.get_page(&rep, "/admin/users").await.0, 403);
    assert_eq!(
        app.get_page(&rep, "/dashboard/export/conversations.csv").await.0,
        403
    );
    assert_eq!(app.get_page(&admin, "/admin/users").await.0, 200);
    // Bad input is refused with a reason.
    assert_eq!(
        post(
            &app,
            &admin,
            "/admin/users",
            &[("username", "x"), ("role", "rep"), ("password", PASSWORD)]
        )
        .await,
        422
    );
    assert_eq!(
        post(
            &app,
            &admin,
            "/admin/users",
            &[("username", "pedro"), ("role", "jefe"), ("password", PASSWORD)]
        )
        .await,
        422
    );
    assert_eq!(
        post(
            &app,
            &admin,
            "/admin/users",
            &[("username", "pedro"), ("role", "rep"), ("password", "corta")]
        )
        .await,
        422
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 3);

    // Promoting the rep ends their sessions; they sign in again as a manager.
    let rep_id = app.count("SELECT id FROM users WHERE username = 'rep'").await;
    assert_eq!(
        post(
            &app,
            &admin,
            &format!("/admin/users/{rep_id}/role"),
            &[("role", "manager")]
        )
        .await,
        303
    );
    assert_eq!(
        app.get_page(&rep, "/inbox").await.0,
        303,
        "signed out by the role change"
    );
    app.log_in(&rep, "rep").await;
    app.log_in(&rep_phone, "rep").await;
    assert_eq!(app.get_page(&rep, "/dashboard").await.0, 200);

    // Password change: wrong current password changes nothing; a right one signs out everywhere.
    assert_eq!(
        post(
            &app,
            &rep,
            "/account/password",
            &[
                ("current", "wrong"),
                ("new", "nova senha segura"),
                ("repeat", "nova senha segura")
            ]
        )
        .await,
        303
    );
    assert_eq!(app.get_page(&rep_phone, "/inbox").await.0, 200);
    assert_eq!(
        post(
            &app,
            &rep,
            "/account/password",
            &[
                ("current", PASSWORD),
                ("new", "nova senha segura"),
                ("repeat", "nova senha segura")
            ]
        )
        .await,
        303
    );
    assert_eq!(
        app.get_page(&rep_phone, "/inbox").await.0,
        303,
        "the phone is signed out too"
    );
    let page = rep
        .get(format!("{}/login", app.address))
        .send()
        .await
        .expect("login")
        .text()
        .await
        .expect("body");
    let csrf = hidden_field(&page, "csrf");
    let status = rep
        .post(format!("{}/login", app.address))
        .form(&[
            ("username", "rep"),
            ("password", "nova senha segura"),
            ("csrf", &csrf),
        ])
        .send()
        .await
        .expect("login")
        .status();
    assert_eq!(status, 303, "the new password works");

    // Logout everywhere ends the admin's own sessions.
    let admin2 = client();
    app.log_in(&admin2, "admin").await;
    assert_eq!(post(&app, &admin, "/account/logout-everywhere", &[]).await, 303);
    assert_eq!(app.get_page(&admin2, "/inbox").await.0, 303);
}

#[tokio::test]
async fn the_dashboard_counts_the_funnel_and_exports_one_row_per_conversation() {
    let app = spawn_app().await;
    for (i, (from, text)) in [
        ("34612345678", "hola!! 👋"),
        ("16505551234", "hi there"),
        ("5511912345678", "oi, bom dia"),
    ]
    .iter()
    .enumerate()
    {
        app.post_webhook(&text_delivery(&format!("wamid.D{i}"), from, "Contact", text))
            .await;
    }
    app.drain().await;
    // The Spanish contact answers after our reply: replied.
    app.post_webhook(&text_delivery(
        "wamid.D9",
        "34612345678",
        "Contact",
        "y cuanto cuesta el curso de python?",
    ))
    .await;
    app.drain().await;

    let manager = client();
    app.log_in(&manager, "manager").await;
    let (status, page) = app.get_page(&manager, "/dashboard?by=language").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("<svg class=\"chart funnel\""),
        "the funnel is drawn"
    );
    assert!(page.contains("<span class=\"tag\">es</span>") && page.contains("<span class=\"tag\">pt</span>"));
    let facts = app.count("SELECT COUNT(*) FROM conversation_facts").await;
    assert_eq!(facts, 3);
    assert_eq!(app.count("SELECT replied FROM conversation_facts f JOIN conversations c ON c.id = f.conversation_id WHERE c.language = 'es'").await, 1);
    assert_eq!(
        app.count("SELECT CAST(SUM(sent_auto) AS BIGINT) FROM conversation_facts")
            .await,
        4,
        "the Spanish contact's question was answered too"
    );

    let csv = manager
        .get(format!("{}/dashboard/export/conversations.csv", app.address))
        .send()
        .await
        .expect("csv");
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let text = csv.text().await.expect("body");
    assert_eq!(
        text.lines().count(),
        4,
        "a header and one row per conversation: {text}"
    );
    let funnel = app
        .get_page(&manager, "/dashboard/export/funnel.csv?by=week")
        .await
        .1;
    assert!(funnel.starts_with("week,conversations"), "{funnel}");
    assert!(
        funnel
            .lines()
            .last()
            .unwrap_or("")
            .starts_with("all,3,3,3,3,3,0,1,0,0"),
        "{funnel}"
    );

    // Bad ranges get a clear error.
    let (status, body) = app.get_page(&manager, "/dashboard?from=ayer").await;
    assert_eq!(status, 400);
    assert!(body.contains("from must be a date"), "{body}");
    assert_eq!(app.get_page(&manager, "/dashboard?by=color").await.0, 400);
    assert_eq!(
        app.get_page(&manager, "/dashboard/export/secrets.csv").await.0,
        404
    );
    // Outside the range: no conversations.
    let (_, page) = app
        .get_page(&manager, "/dashboard?from=2020-01-01&to=2020-01-31")
        .await;
    assert!(page.contains("No conversations started in this range."));
}
