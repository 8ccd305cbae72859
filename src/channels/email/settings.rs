//! `[email]` settings: the inbound webhooks' credentials and the SMTP server replies go out by.

use secrecy::SecretString;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmailSettings {
    /// SMTP server for replies. Unset: email sends are recorded as "channel not configured".
    pub smtp_host: Option<String>,
    pub smtp_port: u16,
    pub smtp_tls: SmtpTls,
    /// A PEM file of CA certificates to trust for the SMTP server's certificate, on top of the
    /// built-in public roots: for a relay whose certificate comes from a private CA.
    pub smtp_ca_file: Option<std::path::PathBuf>,
    pub smtp_username: Option<String>,
    pub smtp_password: Option<SecretString>,
    /// Our sender, `Name <address>` or a bare address.
    pub from_address: String,
    /// The domain of `reply+<conversation>@` Reply-To addresses; unset, no Reply-To is set.
    pub reply_domain: Option<String>,
    /// The business's signature under every email draft. Unset: the brand name and website.
    pub signature: Option<String>,
    /// Per-message SMTP timeout, in milliseconds.
    pub timeout_ms: u64,
    /// Basic-auth credentials the Postmark and SendGrid webhook URLs carry.
    pub webhook_username: Option<String>,
    pub webhook_password: Option<SecretString>,
    /// Mailgun's webhook signing key.
    pub mailgun_signing_key: Option<SecretString>,
    /// Mailgun deliveries older (or newer) than this are refused as replays.
    pub mailgun_max_age_secs: i64,
    /// Bearer token for the raw MIME endpoint.
    pub mime_token: Option<SecretString>,
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain text: only for a relay on loopback.
    None,
    /// Upgrade with STARTTLS (port 587), which the server must offer: a server that does not
    /// gets nothing, in case someone between us stripped it.
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
}

impl Default for EmailSettings {
    fn default() -> Self {
        EmailSettings {
            smtp_host: None,
            smtp_port: 587,
            smtp_tls: SmtpTls::Starttls,
            smtp_ca_file: None,
            smtp_username: None,
            smtp_password: None,
            from_address: "Tuesday <hola@example.com>".to_owned(),
            reply_domain: None,
            signature: None,
            timeout_ms: 15_000,
            webhook_username: None,
            webhook_password: None,
            mailgun_signing_key: None,
            mailgun_max_age_secs: 300,
            mime_token: None,
        }
    }
}
