//! Replies by SMTP through `lettre`: our own Message-ID (stored before the call, so a retry
//! reuses it), In-Reply-To and References from the thread, a "Re:" subject and a UTF-8
//! plain-text body.

use super::compose::{reply_references, reply_subject};
use super::settings::{EmailSettings, SmtpTls};
use crate::channels::SendError;
use crate::state::AppState;
use crate::store::OutboundRow;
use anyhow::Context;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use secrecy::ExposeSecret;
use std::path::Path;
use std::time::Duration;

/// The SMTP transport, or nothing when `email.smtp_host` is unset.
#[derive(Clone)]
pub struct EmailSender {
    transport: Option<AsyncSmtpTransport<Tokio1Executor>>,
    /// `host:port` and the TLS mode, for the reasons a failed send gives.
    server: String,
    tls: SmtpTls,
    from: Mailbox,
    reply_domain: Option<String>,
}

impl EmailSender {
    pub fn new(settings: &EmailSettings) -> anyhow::Result<EmailSender> {
        let from: Mailbox = settings.from_address.parse().map_err(|e| {
            anyhow::anyhow!(
                "email.from_address {:?} is not an address: {e}",
                settings.from_address
            )
        })?;
        let transport = match &settings.smtp_host {
            None => None,
            Some(host) => {
                let ca = settings.smtp_ca_file.as_deref().map(read_ca_file).transpose()?;
                let tls = |host: &str| -> anyhow::Result<TlsParameters> {
                    let mut builder = TlsParameters::builder(host.to_owned());
                    if let Some(ca) = &ca {
                        builder = builder.add_root_certificate(ca.clone());
                    }
                    builder
                        .build_rustls()
                        .with_context(|| format!("while setting up TLS for the SMTP server {host}"))
                };
                let builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host);
                let mut builder = match settings.smtp_tls {
                    SmtpTls::None => builder,
                    SmtpTls::Starttls => builder.tls(Tls::Required(tls(host)?)),
                    SmtpTls::Tls => builder.tls(Tls::Wrapper(tls(host)?)),
                }
                .port(settings.smtp_port)
                .timeout(Some(Duration::from_millis(settings.timeout_ms)));
                if let (Some(user), Some(password)) = (&settings.smtp_username, &settings.smtp_password) {
                    builder = builder.credentials(Credentials::new(
                        user.clone(),
                        password.expose_secret().to_owned(),
                    ));
                }
                Some(builder.build())
            }
        };
        Ok(EmailSender {
            transport,
            server: format!(
                "{}:{}",
                settings.smtp_host.as_deref().unwrap_or_default(),
                settings.smtp_port
            ),
            tls: settings.smtp_tls,
            from,
            reply_domain: settings.reply_domain.clone(),
        })
    }

    pub fn is_configured(&self) -> bool {
        self.transport.is_some()
    }

    /// The domain our Message-IDs are minted on: the sender's.
    fn id_domain(&self) -> &str {
        self.from.email.domain()
    }
}

fn store_failure(e: anyhow::Error) -> SendError {
    // Nothing went to the SMTP server yet: safe to try again.
    SendError::Unreachable(format!("while preparing the email: {e:#}"))
}

/// Sends the reply `out` by SMTP and returns its Message-ID (our provider id for email).
#[tracing::instrument(skip_all, fields(outbound_id = out.id))]
pub async fn send_reply(state: &AppState, out: &OutboundRow) -> Result<String, SendError> {
    let sender = &state.email;
    let Some(transport) = &sender.transport else {
        return Err(SendError::NotConfigured(
            "channel not configured: set email.smtp_host to send email".to_owned(),
        ));
    };
    let store = &state.store;
    let parent = store.email_thread(out.reply_to).await.map_err(store_failure)?;
    let (subject, in_reply_to, references) = match &parent {
        Some(p) => (
            reply_subject(&p.subject),
            Some(p.rfc_message_id.clone()),
            reply_references(&p.refs, &p.rfc_message_id),
        ),
        None => (reply_subject(""), None, Vec::new()),
    };
    let message_id = match store.outbound_email_id(out.id).await.map_err(store_failure)? {
        Some(id) => id,
        None => {
            let id = format!(
                "tuesday.{}.{}@{}",
                out.id,
                hex::encode(rand::random::<[u8; 8]>()),
                sender.id_domain()
            );
            store
                .record_outbound_email(
                    out.id,
                    &id,
                    in_reply_to.as_deref(),
                    &references.join(" "),
                    &subject,
                )
                .await
                .map_err(store_failure)?;
            // Another attempt may have recorded one first: use whichever is stored.
            store
                .outbound_email_id(out.id)
                .await
                .map_err(store_failure)?
                .unwrap_or(id)
        }
    };
    let to: Mailbox = out.to_address.parse().map_err(|e| SendError::Rejected {
        message: format!("the contact's address {:?} is not valid: {e}", out.to_address),
        retryable: false,
    })?;
    let mut builder = Message::builder()
        .message_id(Some(format!("<{message_id}>")))
        .from(sender.from.clone())
        .to(to)
        .subject(subject)
        .date(state.clock().now().into());
    if let Some(parent) = &in_reply_to {
        builder = builder.in_reply_to(format!("<{parent}>"));
    }
    if !references.is_empty() {
        let refs: Vec<String> = references.iter().map(|r| format!("<{r}>")).collect();
        builder = builder.references(refs.join(" "));
    }
    if let Some(domain) = &sender.reply_domain
        && let Ok(reply) = format!("reply+{}@{domain}", out.conversation_id).parse::<Mailbox>()
    {
        builder = builder.reply_to(Mailbox::new(sender.from.name.clone(), reply.email));
    }
    let message = builder
        .header(ContentType::TEXT_PLAIN)
        .body(out.body.clone())
        .map_err(|e| SendError::Rejected {
            message: format!("the email could not be built: {e}"),
            retryable: false,
        })?;
    match transport.send(message).await {
        Ok(_) => Ok(message_id),
        Err(e) => Err(classify(&e, &sender.server, sender.tls)),
    }
}

/// The CA certificates of `email.smtp_ca_file`, refused at start-up when there are none.
fn read_ca_file(path: &Path) -> anyhow::Result<Certificate> {
    let pem = std::fs::read(path)
        .with_context(|| format!("while reading email.smtp_ca_file {}", path.display()))?;
    let has_certificate = pem.windows(CERTIFICATE_PEM.len()).any(|w| w == CERTIFICATE_PEM);
    if !has_certificate {
        anyhow::bail!(
            "email.smtp_ca_file {} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
            path.display()
        );
    }
    Certificate::from_pem(&pem).map_err(|e| {
        anyhow::anyhow!(
            "email.smtp_ca_file {} is not a PEM certificate file: {e}",
            path.display()
        )
    })
}

const CERTIFICATE_PEM: &[u8] = b"-----BEGIN CERTIFICATE-----";

/// SMTP failures by what they mean for a resend: a 4xx is worth retrying, a 5xx is final, a
/// timeout leaves the outcome unknown, and a refused connection never reached the server.
/// A server that cannot give us the TLS the settings ask for (no STARTTLS, a certificate we
/// do not trust) got no message either, but trying again will not help: that is for a person.
fn classify(error: &lettre::transport::smtp::Error, server: &str, tls: SmtpTls) -> SendError {
    let text = error.to_string();
    if error.is_transient() {
        SendError::Rejected {
            message: format!("SMTP server deferred the message: {text}"),
            retryable: true,
        }
    } else if error.is_permanent() {
        SendError::Rejected {
            message: format!("SMTP server refused the message: {text}"),
            retryable: false,
        }
    } else if error.is_timeout() {
        SendError::NoAnswer(format!("SMTP timeout: {text}"))
    } else if tls == SmtpTls::Starttls && error.is_client() && text.contains("STARTTLS") {
        SendError::Rejected {
            message: format!(
                "the SMTP server {server} does not offer STARTTLS, which email.smtp_tls = \"starttls\" requires; nothing was sent"
            ),
            retryable: false,
        }
    } else if tls != SmtpTls::None && (error.is_tls() || is_tls_refusal(error)) {
        SendError::Rejected {
            message: format!(
                "no TLS connection to the SMTP server {server} ({text}); nothing was sent. If its certificate comes from a private CA, set email.smtp_ca_file"
            ),
            retryable: false,
        }
    } else {
        SendError::Unreachable(format!("SMTP: {text}"))
    }
}

/// Whether the TLS handshake failed: rustls reports a certificate it does not trust, or any
/// other refusal, as an `InvalidData` I/O error under lettre's connection error.
fn is_tls_refusal(error: &lettre::transport::smtp::Error) -> bool {
    let mut source = std::error::Error::source(error);
    while let Some(e) = source {
        if e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::InvalidData)
        {
            return true;
        }
        source = e.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ca_file_must_hold_a_certificate() {
        let dir = tempfile::tempdir().expect("temp dir");
        let missing = dir.path().join("missing.pem");
        let error = read_ca_file(&missing).expect_err("no file");
        assert!(format!("{error:#}").contains("email.smtp_ca_file"), "{error:#}");
        let key_only = dir.path().join("key.pem");
        std::fs::write(
            &key_only,
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        )
        .expect("write");
        let error = read_ca_file(&key_only).expect_err("no certificate");
        assert!(error.to_string().contains("holds no PEM certificate"), "{error}");
        let garbled = dir.path().join("garbled.pem");
        std::fs::write(
            &garbled,
            "-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n",
        )
        .expect("write");
        assert!(read_ca_file(&garbled).is_err());
    }

    #[test]
    fn an_unset_ca_file_keeps_the_built_in_roots_and_a_bad_one_stops_start_up() {
        let mut settings = EmailSettings {
            smtp_host: Some("smtp.example.com".to_owned()),
            ..EmailSettings::default()
        };
        assert!(EmailSender::new(&settings).is_ok_and(|s| s.is_configured()));
        settings.smtp_ca_file = Some("/nonexistent/ca.pem".into());
        assert!(EmailSender::new(&settings).is_err());
    }
}
