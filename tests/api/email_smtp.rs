//! The whole email path against a real SMTP server process: an email arrives, a draft is made,
//! a rep approves it, and the reply that reaches the server is threaded, addressed and encoded
//! correctly. Then the customer answers our reply, and the thread goes on.

use crate::email_support::*;

use mail_parser::{HeaderValue, MessageParser};

fn ids(value: &HeaderValue<'_>) -> Vec<String> {
    value
        .as_text_list()
        .map(|l| l.iter().map(|s| s.to_string()).collect())
        .unwrap_or_default()
}

fn header<'a>(raw: &'a str, name: &str) -> Option<&'a str> {
    raw.lines()
        .take_while(|l| !l.is_empty())
        .find(|l| l.to_lowercase().starts_with(&format!("{}:", name.to_lowercase())))
        .map(|l| l[name.len() + 1..].trim())
}

#[tokio::test]
async fn an_email_reply_is_drafted_approved_and_arrives_threaded() {
    let sink = SmtpSink::start();
    let app = spawn_email_app(Some(sink.port)).await;
    let first = "From: =?UTF-8?Q?I=C3=B1igo_N=C3=BA=C3=B1ez?= <Inigo@Correo.example>\r\nTo: Academia Demo <hola@academia.example>\r\nSubject: =?UTF-8?Q?Curso_de_An=C3=A1lisis_de_Datos?=\r\nMessage-ID: <first-1@correo.example>\r\nDate: Wed, 9 Dec 2026 16:00:00 +0100\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=C2=BFCu=C3=A1nto cuesta el curso de An=C3=A1lisis de Datos? =C2=BFHay cuotas?\r\n\r\nEnviado desde mi iPhone\r\n";
    assert_eq!(app.post_mime(first.as_bytes()).await.status(), 200);
    assert_eq!(
        app.text("SELECT body FROM messages WHERE direction = 'in'").await,
        "¿Cuánto cuesta el curso de Análisis de Datos? ¿Hay cuotas?"
    );
    assert_eq!(app.drain().await, 1, "one process_inbound job");

    // The draft is a letter: greeting by name, sign-off, the business's signature.
    let draft = app.text("SELECT body FROM drafts").await;
    assert!(draft.starts_with("Hola, Iñigo:\n\n"), "{draft}");
    assert!(
        draft.contains("Saludos cordiales,\nAcademia Demo\nhttps://academia.example"),
        "{draft}"
    );
    let conversation_id = app.count("SELECT id FROM conversations").await;
    app.approve_held(conversation_id).await;
    assert_eq!(app.drain().await, 1, "one send job");

    let messages = sink.wait_for(1).await;
    assert_eq!(messages.len(), 1, "exactly one message reached the SMTP server");
    assert_eq!(sink.recipients(0), vec!["inigo@correo.example"]);
    let raw = String::from_utf8(messages[0].clone()).expect("the message is 7-bit clean");
    assert!(
        raw.is_ascii(),
        "accents travel encoded, never as raw 8-bit: {raw}"
    );
    let parsed = MessageParser::default()
        .parse(raw.as_bytes())
        .expect("an RFC 5322 message");
    let from = parsed.from().and_then(|a| a.first()).expect("From");
    assert_eq!(from.address(), Some("hola@academia.example"));
    assert_eq!(from.name(), Some("Academia Demo"));
    assert_eq!(
        parsed.to().and_then(|a| a.first()).and_then(|a| a.address()),
        Some("inigo@correo.example")
    );
    assert_eq!(parsed.subject(), Some("Re: Curso de Análisis de Datos"));
    let ours = parsed.message_id().expect("our own Message-ID").to_owned();
    assert!(ours.ends_with("@academia.example"), "{ours}");
    assert_eq!(ids(parsed.in_reply_to()), vec!["first-1@correo.example"]);
    assert_eq!(ids(parsed.references()), vec!["first-1@correo.example"]);
    let reply_to = parsed
        .reply_to()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .expect("Reply-To");
    assert_eq!(reply_to, format!("reply+{conversation_id}@{REPLY_DOMAIN}"));
    let content_type = header(&raw, "Content-Type").expect("Content-Type").to_lowercase();
    assert!(
        content_type.starts_with("text/plain") && content_type.contains("utf-8"),
        "{content_type}"
    );
    let encoding = header(&raw, "Content-Transfer-Encoding")
        .expect("an encoding")
        .to_lowercase();
    assert!(
        encoding == "quoted-printable" || encoding == "base64",
        "{encoding}"
    );
    let body = parsed.body_text(0).expect("a text part");
    assert!(body.contains("Hola, Iñigo:"), "{body}");
    assert!(
        body.contains('¿') || body.contains('á') || body.contains('é'),
        "{body}"
    );
    assert_eq!(
        body.replace("\r\n", "\n").trim_end(),
        draft.trim_end(),
        "the approved text, once decoded"
    );
    assert!(
        draft.contains("Análisis de Datos"),
        "a pricing reply naming the course: {draft}"
    );

    // Our Message-ID is the provider id and is stored for threading.
    assert_eq!(
        app.text("SELECT status FROM messages WHERE direction = 'out'")
            .await,
        "sent"
    );
    assert_eq!(
        app.text("SELECT external_id FROM messages WHERE direction = 'out'")
            .await,
        ours
    );
    let outbound_id = app.count("SELECT id FROM messages WHERE direction = 'out'").await;
    assert_eq!(
        app.text(&format!(
            "SELECT rfc_message_id FROM email_messages WHERE message_id = {outbound_id}"
        ))
        .await,
        ours
    );

    // The customer answers our reply, in Portuguese this time, from the same thread.
    let second = format!(
        "From: Conceição <inigo@correo.example>\r\nTo: Academia Demo <hola@academia.example>\r\nSubject: =?UTF-8?Q?Re:_Curso_de_An=C3=A1lisis_de_Datos?=\r\nMessage-ID: <second-2@correo.example>\r\nIn-Reply-To: <{ours}>\r\nReferences: <first-1@correo.example> <{ours}>\r\nDate: Wed, 9 Dec 2026 17:00:00 +0100\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nObrigado! Posso pagar em presta=E7=F5es? A=E7=E3o r=E1pida, por favor.\r\n\r\nEm qua., 9 de dez. de 2026 =E0s 16:30, Academia Demo <hola@academia.example> escreveu:\r\n> Hola, I=F1igo:\r\n"
    );
    assert_eq!(app.post_mime(second.as_bytes()).await.status(), 200);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM conversations").await,
        1,
        "threaded into the same conversation"
    );
    assert_eq!(app.drain().await, 1);
    app.approve_held(conversation_id).await;
    assert_eq!(app.drain().await, 1);
    let messages = sink.wait_for(2).await;
    assert_eq!(messages.len(), 2);
    let parsed = MessageParser::default().parse(&messages[1]).expect("parses");
    assert_eq!(ids(parsed.in_reply_to()), vec!["second-2@correo.example"]);
    assert_eq!(
        ids(parsed.references()),
        vec![
            "first-1@correo.example".to_owned(),
            ours.clone(),
            "second-2@correo.example".to_owned()
        ]
    );
    assert_eq!(parsed.subject(), Some("Re: Curso de Análisis de Datos"));
    let body = parsed.body_text(0).expect("text");
    assert!(body.contains('ç') || body.contains("Conceição"), "{body}");
}

#[tokio::test]
async fn a_deferring_smtp_server_is_retried_and_an_unconfigured_one_is_reported() {
    let sink = SmtpSink::start_with(&["--defer", "1"]);
    let app = spawn_email_app(Some(sink.port)).await;
    let raw = "From: Sam <sam@x.example>\r\nTo: hello@academia.example\r\nSubject: Price\r\nMessage-ID: <defer-1@x.example>\r\nDate: Wed, 9 Dec 2026 16:00:00 +0000\r\n\r\nHow much is the UX course?\r\n";
    assert_eq!(app.post_mime(raw.as_bytes()).await.status(), 200);
    // The first attempt gets 451 and is requeued; the retry is accepted. One Message-ID for both.
    assert_eq!(app.reply_to_only_conversation().await, "sent");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM events WHERE kind = 'send_attempt'")
            .await,
        1
    );
    let messages = sink.wait_for(1).await;
    assert_eq!(messages.len(), 1);
    let sent_id = MessageParser::default()
        .parse(&messages[0])
        .and_then(|m| m.message_id().map(str::to_owned))
        .expect("Message-ID");
    assert_eq!(
        app.text("SELECT external_id FROM messages WHERE direction = 'out'")
            .await,
        sent_id
    );

    // Without SMTP, the reply is recorded as not configured, never silently dropped.
    let bare = spawn_email_app(None).await;
    assert_eq!(bare.post_mime(raw.as_bytes()).await.status(), 200);
    assert_eq!(bare.reply_to_only_conversation().await, "not_configured");
    let event = bare
        .text("SELECT summary FROM events WHERE kind = 'channel_not_configured'")
        .await;
    assert_eq!(event, "Not sent: the email channel is not configured");
}
