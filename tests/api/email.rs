//! The inbound email webhooks: who may post (basic auth, Mailgun's signature and tokens, the
//! MIME bearer token), what is stored (trimmed text for the pipeline, the full body beside it,
//! attachments as metadata), and threading by In-Reply-To, References and reply+ addresses.

use crate::email_support::*;
use crate::helpers::*;
use serde_json::json;
use tuesday::channels::email::mailgun_signature;

fn postmark_payload(message_id: &str) -> String {
    json!({
        "From": "Ana Souza <Ana.Souza@Gmail.example>",
        "FromFull": {"Email": "Ana.Souza@Gmail.example", "Name": "Ana Souza"},
        "To": "ola@academia.example",
        "ToFull": [{"Email": "ola@academia.example", "Name": "", "MailboxHash": ""}],
        "Cc": "",
        "Subject": "Re: Curso de Análise de Dados",
        "MessageID": "73e6d360-66eb-11e1-8e72-a8904824019b",
        "Date": "Wed, 9 Dec 2026 13:00:00 -0300",
        "TextBody": "Quanto custa o curso? Dá pra parcelar? 😊\n\nEm ter., 8 de dez. de 2026 às 10:00, Academia <ola@academia.example> escreveu:\n> Olá!",
        "HtmlBody": "",
        "StrippedTextReply": "Quanto custa o curso? Dá pra parcelar? 😊",
        "MailboxHash": "",
        "Headers": [
            {"Name": "Message-ID", "Value": format!("<{message_id}>")},
            {"Name": "X-Spam-Status", "Value": "No"}
        ],
        "Attachments": [{"Name": "foto.jpg", "Content": "/9j/4AAQ", "ContentType": "image/jpeg", "ContentLength": 6}]
    })
    .to_string()
}

#[tokio::test]
async fn postmark_without_basic_auth_is_rejected() {
    let app = spawn_email_app(None).await;
    let url = format!("{}/webhooks/email/postmark", app.address);
    let body = postmark_payload("pm-1@mail.gmail.example");

    let none = app.http.post(&url).body(body.clone()).send().await.expect("post");
    assert_eq!(none.status(), 401);
    assert!(
        none.headers().get("www-authenticate").is_some(),
        "401 asks for credentials"
    );
    let wrong = app
        .http
        .post(&url)
        .header("authorization", basic(WEBHOOK_USER, "guess"))
        .body(body.clone())
        .send()
        .await
        .expect("post");
    assert_eq!(wrong.status(), 403, "403 stops Postmark's retries");
    assert_eq!(app.count("SELECT COUNT(*) FROM webhook_deliveries").await, 0);

    let right = app
        .http
        .post(&url)
        .header("authorization", basic(WEBHOOK_USER, WEBHOOK_PASSWORD))
        .body(body)
        .send()
        .await
        .expect("post");
    assert_eq!(right.status(), 200);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM messages WHERE channel = 'email'")
            .await,
        1
    );

    // Unconfigured, the endpoint refuses everything and says why.
    let bare = spawn_app().await;
    let response = bare
        .http
        .post(format!("{}/webhooks/email/postmark", bare.address))
        .header("authorization", basic(WEBHOOK_USER, WEBHOOK_PASSWORD))
        .body(postmark_payload("x@y"))
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), 503);
    assert!(
        response
            .text()
            .await
            .unwrap_or_default()
            .contains("email.webhook_username")
    );
}

#[tokio::test]
async fn postmark_keeps_the_full_body_and_reads_the_stripped_reply() {
    let app = spawn_email_app(None).await;
    let response = app
        .post_postmark(&postmark_payload("pm-2@mail.gmail.example"))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        app.text("SELECT body FROM messages WHERE direction = 'in'").await,
        "Quanto custa o curso? Dá pra parcelar? 😊"
    );
    assert_eq!(
        app.text("SELECT address FROM contacts").await,
        "ana.souza@gmail.example"
    );
    assert_eq!(
        app.text("SELECT external_id FROM messages").await,
        "pm-2@mail.gmail.example"
    );
    let full = app.text("SELECT full_body FROM email_messages").await;
    assert!(full.contains("escreveu:") && full.contains("> Olá!"), "{full}");
    assert_eq!(
        app.text("SELECT trimmed_by FROM email_messages").await,
        "provider"
    );
    let stored = app.text("SELECT body FROM webhook_deliveries").await;
    assert!(
        stored.contains("foto.jpg") && !stored.contains("/9j/"),
        "{stored}"
    );
    let attachments = app.text("SELECT attachments FROM email_messages").await;
    assert!(
        attachments.contains("foto.jpg") && !attachments.contains("/9j/"),
        "{attachments}"
    );

    // The same email again (Postmark retries) is stored once.
    let again = app
        .post_postmark(&postmark_payload("pm-2@mail.gmail.example"))
        .await;
    assert_eq!(again.status(), 200);
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 1);

    // The pipeline reads the trimmed text and the inbox shows the full body.
    assert_eq!(app.drain().await, 1);
    let conversation_id = app.count("SELECT id FROM conversations").await;
    let rep = client();
    app.log_in(&rep, "rep").await;
    let (_, page) = app
        .get_page(&rep, &format!("/conversations/{conversation_id}"))
        .await;
    assert!(
        page.contains("Full email") && page.contains("escreveu:"),
        "{page}"
    );
    assert!(page.contains("foto.jpg"), "attachments are listed by name");
}

fn mailgun_form(timestamp: &str, token: &str, signature: &str) -> Vec<(String, String)> {
    [
        ("sender", "kim.park@corp.example"),
        ("from", "Kim Park <kim.park@corp.example>"),
        ("recipient", "hello@academia.example"),
        ("subject", "UX course"),
        ("body-plain", "How much is the UX course?\n\n-- \nKim Park\nCorp"),
        ("stripped-text", "How much is the UX course?"),
        ("stripped-signature", "Kim Park\nCorp"),
        (
            "message-headers",
            r#"[["Message-Id", "<mg-1@corp.example>"], ["Subject", "UX course"], ["Date", "Wed, 9 Dec 2026 11:00:00 -0500"]]"#,
        ),
        ("timestamp", timestamp),
        ("token", token),
        ("signature", signature),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

#[tokio::test]
async fn mailgun_checks_the_signature_the_age_and_each_token_once() {
    let app = spawn_email_app(None).await;
    let url = format!("{}/webhooks/email/mailgun", app.address);
    let now = app.state.clock().now().timestamp().to_string();
    let token = "e0b5477167110d68991efc6b9f89f0a11066af27834600e123";
    let signature = mailgun_signature(MAILGUN_KEY.as_bytes(), &now, token);
    let post = |form: Vec<(String, String)>| app.http.post(&url).form(&form).send();

    assert_eq!(
        post(mailgun_form(&now, token, "00"))
            .await
            .expect("post")
            .status(),
        403
    );
    let stale = (app.state.clock().now().timestamp() - 3600).to_string();
    let stale_sig = mailgun_signature(MAILGUN_KEY.as_bytes(), &stale, token);
    let refused = post(mailgun_form(&stale, token, &stale_sig)).await.expect("post");
    assert_eq!(refused.status(), 403);
    assert!(refused.text().await.unwrap_or_default().contains("stale"));
    assert_eq!(app.count("SELECT COUNT(*) FROM webhook_deliveries").await, 0);

    assert_eq!(
        post(mailgun_form(&now, token, &signature))
            .await
            .expect("post")
            .status(),
        200
    );
    assert_eq!(
        app.text("SELECT body FROM messages").await,
        "How much is the UX course?"
    );
    let replay = post(mailgun_form(&now, token, &signature)).await.expect("post");
    assert_eq!(replay.status(), 403, "a token is good once");
    assert!(
        replay
            .text()
            .await
            .unwrap_or_default()
            .contains("token already used")
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM webhook_deliveries").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM webhook_tokens").await, 1);
}

#[tokio::test]
async fn sendgrid_decodes_each_field_in_its_charset_and_takes_raw_mime() {
    let app = spawn_email_app(None).await;
    let url = format!("{}/webhooks/email/sendgrid", app.address);
    let latin1 = |s: &str| {
        s.chars()
            .map(|c| u8::try_from(u32::from(c)).expect("Latin-1"))
            .collect::<Vec<u8>>()
    };
    let text = "¿Cuánto cuesta el curso de diseño? Mi niño quiere inscribirse.\n\nEl lun, Academia escribió:\n> Hola";
    let form = reqwest::multipart::Form::new()
        .text("headers", "Message-ID: <sg-1@correo.example>\r\nSubject: =?ISO-8859-1?Q?Dise=F1o?=\r\nFrom: =?ISO-8859-1?Q?Jos=E9?= <jose@correo.example>\r\n")
        .text("from", "José Peña <jose@correo.example>")
        .text("to", "hola@academia.example")
        .text("subject", "Diseño")
        .part("text", reqwest::multipart::Part::bytes(latin1(text)))
        .text("envelope", r#"{"to":["hola@academia.example"],"from":"jose@correo.example"}"#)
        .text("charsets", r#"{"to":"UTF-8","subject":"UTF-8","from":"UTF-8","text":"iso-8859-1","headers":"UTF-8"}"#)
        .text("spam_score", "0.1")
        .text("attachments", "1")
        .text("attachment-info", r#"{"attachment1":{"filename":"programa.pdf","type":"application/pdf"}}"#)
        .part(
            "attachment1",
            reqwest::multipart::Part::bytes(b"%PDF-1.4 not read".to_vec())
                .file_name("programa.pdf")
                .mime_str("application/pdf")
                .expect("mime"),
        );
    let unauthenticated = app.http.post(&url).body("x").send().await.expect("post");
    assert_eq!(unauthenticated.status(), 401);
    let response = app.post_sendgrid(form).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        app.text("SELECT body FROM messages").await,
        "¿Cuánto cuesta el curso de diseño? Mi niño quiere inscribirse."
    );
    assert_eq!(
        app.text("SELECT external_id FROM messages").await,
        "sg-1@correo.example"
    );
    assert_eq!(app.text("SELECT name FROM contacts").await, "José Peña");
    let attachments = app.text("SELECT attachments FROM email_messages").await;
    assert!(attachments.contains("programa.pdf"), "{attachments}");
    let stored = app.text("SELECT body FROM webhook_deliveries").await;
    assert!(
        !stored.contains("not read"),
        "file contents are not stored: {stored}"
    );

    // Raw mode: the whole MIME message in `email`.
    let raw = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/email/outlook_pt_iso8859.eml"),
    )
    .expect("fixture");
    let form = reqwest::multipart::Form::new()
        .part("email", reqwest::multipart::Part::bytes(raw))
        .text("charsets", r#"{"email":"UTF-8"}"#);
    let response = app.post_sendgrid(form).await;
    assert_eq!(response.status(), 200);
    let body = app
        .text("SELECT body FROM messages WHERE external_id = 'DM6PR01MB0001@outlook.example'")
        .await;
    assert!(
        body.starts_with("Olá, bom dia!") && body.ends_with("Conceição Araújo"),
        "{body}"
    );
}

fn email(message_id: &str, from: &str, to: &str, extra_headers: &str, body: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: Curso\r\nMessage-ID: <{message_id}>\r\n{extra_headers}Date: Wed, 9 Dec 2026 16:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

#[tokio::test]
async fn mime_needs_its_token_and_threads_by_in_reply_to_references_and_reply_address() {
    let app = spawn_email_app(None).await;
    let url = format!("{}/webhooks/email/mime", app.address);
    let first = email(
        "t-1@correo.example",
        "Lucía <lucia@correo.example>",
        "hola@academia.example",
        "",
        "Hola, ¿qué cursos tienen?",
    );
    assert_eq!(
        app.http
            .post(&url)
            .body(first.clone())
            .send()
            .await
            .expect("post")
            .status(),
        401
    );
    let wrong = app
        .http
        .post(&url)
        .header("authorization", "Bearer nope")
        .body(first.clone())
        .send()
        .await
        .expect("post");
    assert_eq!(wrong.status(), 403);
    assert_eq!(app.post_mime(&first).await.status(), 200);
    let conversation = app
        .count("SELECT conversation_id FROM messages WHERE external_id = 't-1@correo.example'")
        .await;

    // Each of these would open a new conversation by sender and inbox; threading keeps them in
    // Lucía's.
    let cases = [
        (
            email(
                "t-2@correo.example",
                "Pablo <pablo@correo.example>",
                "ventas@academia.example",
                "In-Reply-To: <t-1@correo.example>\r\n",
                "Yo también quiero saber 👍",
            ),
            "In-Reply-To",
        ),
        (
            email(
                "t-3@correo.example",
                "Marta <marta@otro.example>",
                "info@academia.example",
                "References: <unknown@x> <t-2@correo.example>\r\n",
                "Y yo, gracias",
            ),
            "References",
        ),
        (
            email(
                "t-4@correo.example",
                "Lucia Ruiz <lucia.ruiz@trabajo.example>",
                &format!("reply+{conversation}@{REPLY_DOMAIN}"),
                "",
                "Te escribo desde el trabajo: quanto custa? (perdón, portuñol)",
            ),
            "reply+ address",
        ),
    ];
    for (raw, how) in cases {
        assert_eq!(app.post_mime(&raw).await.status(), 200, "{how}");
        let matched = app
            .text("SELECT detail FROM events WHERE kind = 'threaded' ORDER BY id DESC LIMIT 1")
            .await;
        assert!(
            matched.contains(&format!("\"matched_by\":\"{how}\"")),
            "{how}: {matched}"
        );
    }
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM messages WHERE conversation_id = {conversation}"
        ))
        .await,
        4
    );
    // Contacts are matched by address: four senders, four contacts.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM contacts WHERE channel = 'email'")
            .await,
        4
    );

    // A new sender with no thread starts a conversation of their own.
    let other = email(
        "t-5@correo.example",
        "Nuevo <nuevo@correo.example>",
        "hola@academia.example",
        "",
        "Oi, tudo bem?",
    );
    assert_eq!(app.post_mime(&other).await.status(), 200);
    assert_eq!(app.count("SELECT COUNT(*) FROM conversations").await, 2);
}

#[tokio::test]
async fn an_email_without_a_sender_is_refused_and_kept_for_an_admin() {
    let app = spawn_email_app(None).await;
    let response = app.post_mime(b"Subject: hola\r\n\r\nsin remitente\r\n").await;
    assert_eq!(response.status(), 422);
    assert!(response.text().await.unwrap_or_default().contains("no sender"));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM webhook_deliveries WHERE parse_state = 'unparsed'")
            .await,
        1
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 0);
}
