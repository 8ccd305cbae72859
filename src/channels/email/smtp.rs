//! Replies by SMTP through `lettre`: our own Message-ID (stored before the call, so a retry
//! reuses it), In-Reply-To and References from the thread, a "Re:" subject and a UTF-8
//! plain-text body.

use super::compose::{reply_references, reply_subject};
use super::settings::{EmailSettings, SmtpTls};
use crate::channels::SendError;
use crate::state::AppState;
use crate::store::OutboundRow;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use secrecy::ExposeSecret;
use std::time::Duration;

/// The SMTP transport, or nothing when `email.smtp_host` is unset.
#[derive(Clone)]
pub struct EmailSender {
    transport: Option<AsyncSmtpTransport<Tokio1Executor>>,
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
                let builder = match settings.smtp_tls {
                    SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
                    SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)?,
                    SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host)?,
                };
                let mut builder = builder
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
        Err(e) => Err(classify(&e)),
    }
}

/// SMTP failures by what they mean for a resend: a 4xx is worth retrying, a 5xx is final, a
/// timeout leaves the outcome unknown, and a refused connection never reached the server.
fn classify(error: &lettre::transport::smtp::Error) -> SendError {
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
    } else {
        SendError::Unreachable(format!("SMTP: {text}"))
    }
}
