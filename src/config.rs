//! Typed settings: defaults ← `tuesday.toml` ← `TUESDAY_*` environment variables.
//! Nested keys use a double underscore: `TUESDAY_WHATSAPP__APP_SECRET` sets `whatsapp.app_secret`.
//! Every secret can also be read from a file: `TUESDAY_WHATSAPP__APP_SECRET_FILE=/run/secrets/x`
//! or `app_secret_file = "…"` (see `secret_files`).

mod secret_files;

use crate::domain::{Intent, Taxonomy};
use anyhow::Context;
use figment::Figment;
use figment::providers::{Env, Format, Toml};
use secrecy::SecretString;
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub server: ServerSettings,
    /// `sqlite://FILE` (created if missing). Default: `sqlite://tuesday.db`.
    pub database_url: String,
    pub whatsapp: WhatsAppSettings,
    /// Inbound email webhooks and SMTP for replies.
    pub email: crate::channels::email::EmailSettings,
    /// WhatsApp through Twilio.
    pub twilio: crate::channels::twilio::TwilioSettings,
    pub pipeline: PipelineSettings,
    pub worker: WorkerSettings,
    pub users: SeedUsers,
    /// Model providers, tiers, prices and budgets (see `routing`).
    pub routing: crate::routing::RoutingSettings,
    /// The intent labels, their descriptions and examples (see `domain::taxonomy`).
    pub taxonomy: crate::domain::taxonomy::TaxonomySettings,
    /// Retries, circuit breakers and degraded mode (see `failover`).
    pub failover: crate::failover::FailoverSettings,
    /// Start the clock at this instant (RFC 3339) and run on from there, to see how the
    /// sending-hours rules behave at another hour. Unset: the system clock.
    pub clock_start: Option<chrono::DateTime<chrono::Utc>>,
    /// Logs, metrics, redaction, retention and trace export (see `observability`).
    pub observability: crate::observability::ObservabilitySettings,
    /// The review inbox: claims and the service-level target.
    pub inbox: InboxSettings,
    /// The conversion webhook and attribution.
    pub conversions: ConversionSettings,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InboxSettings {
    /// A claim on a conversation lapses after this many minutes.
    pub claim_minutes: u32,
    /// The answer target, in business minutes of the contact's market.
    pub sla_minutes: u32,
}

impl Default for InboxSettings {
    fn default() -> Self {
        InboxSettings {
            claim_minutes: 15,
            sla_minutes: 15,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConversionSettings {
    /// Signs `/webhooks/conversion` (`X-Tuesday-Signature`). Without it the webhook answers 503.
    pub secret: Option<SecretString>,
    /// A conversion is attributed to the contact's conversations in this many days before it.
    pub attribution_days: u32,
}

impl Default for ConversionSettings {
    fn default() -> Self {
        ConversionSettings {
            secret: None,
            attribution_days: 30,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    /// Largest webhook or form body accepted, in bytes.
    pub body_limit_bytes: usize,
    /// Mark cookies `Secure`: set this when Tuesday is served over HTTPS.
    pub secure_cookies: bool,
    /// How long a login lasts, in hours, however busy it is.
    pub session_hours: u32,
    /// A session unused for this many minutes ends (activity extends it).
    pub session_idle_minutes: u32,
    /// Failed sign-ins after which an account or an address is refused for a while.
    pub login_limit: LoginLimitSettings,
    /// Proxies whose `X-Forwarded-For` is believed, as addresses or CIDR ranges
    /// (`["127.0.0.1", "10.0.0.0/8"]`). Empty: the client is the socket's peer, and the header
    /// is ignored.
    pub trusted_proxies: Vec<crate::web::client_ip::IpRange>,
}

/// `[server.login_limit]`: failed sign-ins counted in the database, so every instance agrees.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoginLimitSettings {
    /// Failures on one username within the window before it is refused.
    pub account_failures: u32,
    /// Failures from one client address within the window before it is refused.
    pub ip_failures: u32,
    /// The window, in minutes.
    pub window_minutes: u32,
}

impl Default for LoginLimitSettings {
    fn default() -> Self {
        LoginLimitSettings {
            account_failures: 5,
            ip_failures: 20,
            window_minutes: 15,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WhatsAppSettings {
    /// The Meta app secret that signs webhook deliveries. Without it, deliveries are refused.
    pub app_secret: Option<SecretString>,
    /// The token Meta echoes back when verifying the webhook URL.
    pub verify_token: Option<SecretString>,
    /// A system-user access token for the Graph API. Without it, sends are recorded as
    /// "channel not configured".
    pub access_token: Option<SecretString>,
    pub api_base: String,
    pub api_version: String,
    /// Business phone number ids we answer for. Deliveries for any other id are refused.
    pub phone_number_ids: Vec<String>,
    /// Per-request timeout for Graph API calls, in milliseconds.
    pub timeout_ms: u64,
    /// The approved message template sent instead of a reply when the 24-hour window has
    /// closed (WhatsApp error 131047, or a closed window at send time). Unset: such replies
    /// fail with the reason and wait for a person.
    pub reengagement_template: Option<TemplateSettings>,
}

/// An approved WhatsApp message template: its name and its language code per conversation
/// language (`es`, `pt`, `en`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateSettings {
    pub name: String,
    pub languages: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PipelineSettings {
    /// Drafts whose classification confidence is below this are held for review.
    pub confidence_threshold: f64,
    /// Intents whose drafts may be sent without review when every guardrail passes.
    pub auto_send_intents: Vec<Intent>,
    /// A model written by `tuesday train`. Unset: the classifier is trained at start-up on the
    /// shipped demo train split.
    pub classifier_model: Option<PathBuf>,
    /// The guardrail policy file. Unset: the demo policy built into Tuesday.
    pub policy_file: Option<PathBuf>,
    /// Auto-send stays off until the classifier in use scores at least this intent accuracy on
    /// the held-out set (`tuesday eval`). 0 turns the gate off.
    pub auto_send_min_accuracy: f64,
    /// The held-out set the gate reads (JSONL or CSV). Empty: the shipped demo test split.
    pub holdout_datasets: Vec<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkerSettings {
    /// Run background workers inside `serve`.
    pub enabled: bool,
    pub concurrency: usize,
    pub lease_secs: u64,
    pub poll_interval_ms: u64,
    pub max_attempts: u32,
    pub retry_base_ms: u64,
    /// On SIGTERM or SIGINT, how long jobs in flight get to finish before they are released.
    pub shutdown_grace_secs: u64,
}

/// First-run passwords. Any left unset is generated and printed once on the console.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeedUsers {
    pub admin_password: Option<SecretString>,
    pub manager_password: Option<SecretString>,
    pub rep_password: Option<SecretString>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            server: ServerSettings::default(),
            database_url: "sqlite://tuesday.db".to_owned(),
            whatsapp: WhatsAppSettings::default(),
            email: crate::channels::email::EmailSettings::default(),
            twilio: crate::channels::twilio::TwilioSettings::default(),
            pipeline: PipelineSettings::default(),
            worker: WorkerSettings::default(),
            users: SeedUsers::default(),
            routing: crate::routing::RoutingSettings::default(),
            taxonomy: crate::domain::taxonomy::TaxonomySettings::default(),
            failover: crate::failover::FailoverSettings::default(),
            clock_start: None,
            observability: Default::default(),
            inbox: InboxSettings::default(),
            conversions: ConversionSettings::default(),
        }
    }
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            host: "127.0.0.1".to_owned(),
            port: 8080,
            body_limit_bytes: 256 * 1024,
            secure_cookies: false,
            session_hours: 12,
            session_idle_minutes: 60,
            login_limit: LoginLimitSettings::default(),
            trusted_proxies: Vec::new(),
        }
    }
}

impl Default for WhatsAppSettings {
    fn default() -> Self {
        WhatsAppSettings {
            app_secret: None,
            verify_token: None,
            access_token: None,
            api_base: "https://graph.facebook.com".to_owned(),
            api_version: "v21.0".to_owned(),
            phone_number_ids: vec!["106540352242922".to_owned()],
            timeout_ms: 10_000,
            reengagement_template: None,
        }
    }
}

impl Default for PipelineSettings {
    fn default() -> Self {
        PipelineSettings {
            confidence_threshold: 0.6,
            auto_send_intents: vec![Intent::Greeting, Intent::Pricing, Intent::CourseInfo],
            classifier_model: None,
            policy_file: None,
            auto_send_min_accuracy: 0.93,
            holdout_datasets: Vec::new(),
        }
    }
}

impl Default for WorkerSettings {
    fn default() -> Self {
        WorkerSettings {
            enabled: true,
            concurrency: 2,
            lease_secs: 60,
            poll_interval_ms: 500,
            max_attempts: 8,
            retry_base_ms: 1_000,
            shutdown_grace_secs: 20,
        }
    }
}

impl ServerSettings {
    fn validate(&self) -> anyhow::Result<()> {
        let limit = &self.login_limit;
        for (value, name) in [
            (self.session_hours, "server.session_hours"),
            (self.session_idle_minutes, "server.session_idle_minutes"),
            (limit.account_failures, "server.login_limit.account_failures"),
            (limit.ip_failures, "server.login_limit.ip_failures"),
            (limit.window_minutes, "server.login_limit.window_minutes"),
        ] {
            anyhow::ensure!(value > 0, "{name} must be at least 1");
        }
        Ok(())
    }
}

impl Settings {
    /// Loads settings from `file` (if it exists) and the environment.
    pub fn load(file: &Path) -> anyhow::Result<Settings> {
        Settings::from_figment(
            Figment::new()
                .merge(Toml::file(file))
                // TUESDAY_CONFIG and TUESDAY_ROLE belong to the command line, not the settings.
                .merge(
                    Env::prefixed("TUESDAY_")
                        .filter(|key| !is_cli_variable(key.as_str()))
                        .split("__"),
                ),
        )
        .with_context(|| {
            format!(
                "while loading settings from {} and TUESDAY_* variables",
                file.display()
            )
        })
    }

    pub fn from_figment(figment: Figment) -> anyhow::Result<Settings> {
        let settings: Settings = secret_files::resolve(figment)?.extract()?;
        anyhow::ensure!(
            (0.0..=1.0).contains(&settings.pipeline.confidence_threshold),
            "pipeline.confidence_threshold must be between 0 and 1"
        );
        settings.routing.validate()?;
        let taxonomy = settings.taxonomy()?;
        for intent in &settings.pipeline.auto_send_intents {
            taxonomy.check(*intent).context("in pipeline.auto_send_intents")?;
        }
        settings.failover.validate()?;
        settings.server.validate()?;
        Ok(settings)
    }

    /// The intent taxonomy in use, checked.
    pub fn taxonomy(&self) -> anyhow::Result<Taxonomy> {
        Taxonomy::from_settings(&self.taxonomy).context("in [taxonomy]")
    }

    pub fn address(&self) -> String {
        format!("{}:{}", self.server.host, self.server.port)
    }
}

fn is_cli_variable(key: &str) -> bool {
    ["config", "role"].iter().any(|k| key.eq_ignore_ascii_case(k))
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail's closures return figment::Error
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn file_then_environment_override_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "tuesday.toml",
                "[server]\nport = 9000\n[pipeline]\nconfidence_threshold = 0.7",
            )?;
            jail.set_env("TUESDAY_SERVER__PORT", "9100");
            jail.set_env("TUESDAY_WHATSAPP__APP_SECRET", "s3cret");
            jail.set_env("TUESDAY_CONFIG", "tuesday.toml");
            jail.set_env("TUESDAY_ROLE", "web");
            let settings = Settings::load(Path::new("tuesday.toml")).expect("loads");
            assert_eq!(settings.server.port, 9100);
            assert_eq!(settings.pipeline.confidence_threshold, 0.7);
            assert_eq!(settings.database_url, "sqlite://tuesday.db");
            assert_eq!(settings.pipeline.classifier_model, None);
            let secret = settings.whatsapp.app_secret.as_ref().expect("secret");
            assert_eq!(secret.expose_secret(), "s3cret");
            assert!(
                !format!("{settings:?}").contains("s3cret"),
                "secrets must not reach Debug output"
            );
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_are_an_error() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("tuesday.toml", "[server]\nprot = 9000")?;
            let err = Settings::load(Path::new("tuesday.toml")).expect_err("typo must fail");
            assert!(format!("{err:#}").contains("prot"), "{err:#}");
            Ok(())
        });
    }
}
