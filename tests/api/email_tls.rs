//! SMTP over TLS against the real server process: STARTTLS and implicit TLS (SMTPS) with a
//! certificate from a CA made for the test, trusted through `email.smtp_ca_file`; and the
//! refusals: a server that offers no STARTTLS when it is required, and a certificate from a
//! CA Tuesday was not told to trust. Either way nothing is sent and the reply stays in the
//! outbox, failed with the reason, for a person.

use crate::email_support::*;
use mail_parser::MessageParser;
use tuesday::channels::email::SmtpTls;

/// A customer's email in `language`, as a local MTA would hand it over.
fn email(language: &str, n: usize) -> String {
    let (from, subject, body) = match language {
        "es" => (
            "=?UTF-8?Q?Luc=C3=ADa_Pe=C3=B1a?= <lucia@correo.example>",
            "=?UTF-8?Q?Curso_de_An=C3=A1lisis_de_Datos?=",
            "Hola, =C2=BFcu=C3=A1nto cuesta el curso de An=C3=A1lisis de Datos? =C2=BFPuedo pagar en cuotas?",
        ),
        "pt" => (
            "=?UTF-8?Q?Concei=C3=A7=C3=A3o?= <conceicao@correio.example>",
            "=?UTF-8?Q?Curso_de_An=C3=A1lise_de_Dados?=",
            "Ol=C3=A1! Quanto custa o curso de An=C3=A1lise de Dados? Posso pagar em presta=C3=A7=C3=B5es?",
        ),
        _ => (
            "Sam Taylor <sam@mail.example>",
            "Data Analysis course",
            "Hi, how much does the Data Analysis course cost? Can I pay in instalments?",
        ),
    };
    format!(
        "From: {from}\r\nTo: Academia Demo <hola@academia.example>\r\nSubject: {subject}\r\nMessage-ID: <tls-{n}@{language}.example>\r\nDate: Wed, 9 Dec 2026 16:00:00 +0100\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n{body}\r\n"
    )
}

async fn tls_app(sink: &SmtpSink, tls: SmtpTls, trust_the_sink: bool) -> crate::helpers::TestApp {
    let ca_file = sink.ca_file();
    spawn_email_app_with(Some(sink.port), move |s| {
        s.email.smtp_tls = tls;
        if trust_the_sink {
            s.email.smtp_ca_file = Some(ca_file);
        }
    })
    .await
}

/// The reply that reached the sink, decoded, and the draft it should be.
async fn arrived_reply(app: &crate::helpers::TestApp, sink: &SmtpSink) -> (String, String) {
    let messages = sink.wait_for(1).await;
    assert_eq!(messages.len(), 1, "exactly one message reached the SMTP server");
    let parsed = MessageParser::default()
        .parse(&messages[0])
        .expect("an RFC 5322 message");
    let body = parsed.body_text(0).expect("a text part").replace("\r\n", "\n");
    (body, app.text("SELECT body FROM drafts").await)
}

#[tokio::test]
async fn a_reply_goes_out_over_starttls_to_a_server_with_a_private_ca() {
    let sink = SmtpSink::start_with(&["--tls", "starttls"]);
    let app = tls_app(&sink, SmtpTls::Starttls, true).await;
    assert_eq!(app.post_mime(email("es", 1).as_bytes()).await.status(), 200);
    assert_eq!(app.reply_to_only_conversation().await, "sent");
    let (body, draft) = arrived_reply(&app, &sink).await;
    assert_eq!(body.trim_end(), draft.trim_end());
    assert!(body.contains("Lucía"), "{body}");
    // The sink refuses mail before STARTTLS, and records the TLS it came over.
    let tls = sink.tls(0).expect("the message came over TLS");
    assert!(tls.starts_with("TLSv1."), "{tls}");
    assert_eq!(sink.recipients(0), vec!["lucia@correo.example"]);
}

#[tokio::test]
async fn a_reply_goes_out_over_implicit_tls() {
    let sink = SmtpSink::start_with(&["--tls", "implicit"]);
    let app = tls_app(&sink, SmtpTls::Tls, true).await;
    assert_eq!(app.post_mime(email("pt", 2).as_bytes()).await.status(), 200);
    assert_eq!(app.reply_to_only_conversation().await, "sent");
    let (body, draft) = arrived_reply(&app, &sink).await;
    assert_eq!(body.trim_end(), draft.trim_end());
    assert!(body.contains("Conceição"), "{body}");
    let tls = sink.tls(0).expect("the message came over TLS");
    assert!(tls.starts_with("TLSv1."), "{tls}");
}

#[tokio::test]
async fn required_starttls_against_a_server_without_it_sends_nothing_and_keeps_the_reply() {
    // This sink offers no STARTTLS: plain text only.
    let sink = SmtpSink::start();
    let app = tls_app(&sink, SmtpTls::Starttls, false).await;
    assert_eq!(app.post_mime(email("en", 3).as_bytes()).await.status(), 200);
    assert_eq!(app.reply_to_only_conversation().await, "failed");
    let error = app
        .text("SELECT last_error FROM messages WHERE direction = 'out'")
        .await;
    assert!(
        error.contains("does not offer STARTTLS")
            && error.contains("email.smtp_tls")
            && error.contains(&format!("127.0.0.1:{}", sink.port))
            && error.contains("nothing was sent"),
        "{error}"
    );
    // Not lost: the approved text is still the outbound message's body, in the failed sends.
    let draft = app.text("SELECT body FROM drafts").await;
    assert_eq!(
        app.text("SELECT body FROM messages WHERE direction = 'out'")
            .await,
        draft
    );
    let rep = crate::helpers::client();
    app.log_in(&rep, "rep").await;
    let (_, page) = app.get_page(&rep, "/inbox?view=failed").await;
    assert!(page.contains("Sam Taylor"), "{page}");
    // Not sent twice, nor retried: one failure on the trace, nothing at the server.
    app.drain().await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM events WHERE kind = 'send_failed'")
            .await,
        1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM events WHERE kind = 'send_attempt'")
            .await,
        0
    );
    assert!(sink.messages().is_empty(), "nothing reached the server");
}

#[tokio::test]
async fn a_certificate_from_a_ca_not_trusted_is_refused_and_nothing_is_sent() {
    // Without email.smtp_ca_file only the built-in public roots are trusted.
    for (tls, mode, language) in [
        (SmtpTls::Tls, "implicit", "es"),
        (SmtpTls::Starttls, "starttls", "pt"),
    ] {
        let sink = SmtpSink::start_with(&["--tls", mode]);
        let app = tls_app(&sink, tls, false).await;
        assert_eq!(app.post_mime(email(language, 4).as_bytes()).await.status(), 200);
        assert_eq!(app.reply_to_only_conversation().await, "failed", "{mode}");
        let error = app
            .text("SELECT last_error FROM messages WHERE direction = 'out'")
            .await;
        assert!(
            error.contains("no TLS connection") && error.contains("email.smtp_ca_file"),
            "{mode}: {error}"
        );
        assert!(sink.messages().is_empty(), "{mode}: nothing reached the server");
    }
}
