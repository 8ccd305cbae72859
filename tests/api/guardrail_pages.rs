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
