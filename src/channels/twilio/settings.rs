//! `[twilio]` settings: the account, its auth token and the public URL Twilio signs.

use secrecy::SecretString;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TwilioSettings {
    /// `AC…`. Without it (and the auth token), sends are recorded as "channel not configured".
    pub account_sid: Option<String>,
    /// Signs webhooks and authenticates sends. Without it the webhooks answer 503.
    pub auth_token: Option<SecretString>,
    /// The public base URL Twilio posts to, e.g. `https://tuesday.example.com`: the signature
    /// covers the full URL as Twilio saw it, which a proxy hides from us.
    pub public_url: Option<String>,
    pub api_base: String,
    /// Per-request timeout for sends, in milliseconds.
    pub timeout_ms: u64,
}

impl Default for TwilioSettings {
    fn default() -> Self {
        TwilioSettings {
            account_sid: None,
            auth_token: None,
            public_url: None,
            api_base: "https://api.twilio.com".to_owned(),
            timeout_ms: 10_000,
        }
    }
}
