//! `*_file` settings: every secret can be read from a file instead of being written into
//! `tuesday.toml` or the environment, as container secrets are mounted
//! (`TUESDAY_WHATSAPP__APP_SECRET_FILE=/run/secrets/meta_app_secret`, or
//! `app_secret_file = "…"` in the file). One pass over the merged settings, before they are
//! typed: each `NAME_file` whose `NAME` is a secret is replaced by `NAME` holding the file's
//! text, its trailing newline trimmed. Errors name the setting and the path, never the content.

use anyhow::{Context, bail};
use figment::Figment;
use figment::providers::Serialized;
use figment::value::{Dict, Value};

/// Settings that hold secrets, by their last key, wherever they sit in the tree. A test checks
/// that every `SecretString` setting in the sources is here.
pub const SECRET_KEYS: &[&str] = &[
    "access_token",
    "admin_password",
    "api_key",
    "app_secret",
    "auth_token",
    "database_url",
    "mailgun_signing_key",
    "manager_password",
    "metrics_token",
    "mime_token",
    "rep_password",
    "secret",
    "secret_key",
    "smtp_password",
    "verify_token",
    "webhook_password",
];

/// Maps whose every value is a secret (`[observability.otlp.headers]`): any `KEY_file` in
/// them is read into `KEY`.
const SECRET_MAPS: &[&str] = &["headers"];

const SUFFIX: &str = "_file";

/// `figment` with every secret's `_file` read; the same figment when there is none.
pub fn resolve(figment: Figment) -> anyhow::Result<Figment> {
    let merged: Value = figment.extract()?;
    let Value::Dict(_, mut dict) = merged else {
        return Ok(figment);
    };
    if !read_files(&mut dict, "", false)? {
        return Ok(figment);
    }
    Ok(Figment::from(Serialized::defaults(dict)))
}

/// Replaces the secret `_file` keys in `dict` (at `path`) and below; whether any was.
fn read_files(dict: &mut Dict, path: &str, secret_map: bool) -> anyhow::Result<bool> {
    let mut changed = false;
    let keys: Vec<String> = dict.keys().cloned().collect();
    for key in keys {
        let here = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        if let Some(Value::Dict(_, inner)) = dict.get_mut(&key) {
            changed |= read_files(inner, &here, SECRET_MAPS.contains(&key.as_str()))?;
            continue;
        }
        let Some(name) = key.strip_suffix(SUFFIX) else {
            continue;
        };
        if !(secret_map || SECRET_KEYS.contains(&name)) {
            continue;
        }
        let setting = here.strip_suffix(SUFFIX).unwrap_or(&here).to_owned();
        if dict.contains_key(name) {
            bail!("set {setting} or {here}, not both");
        }
        let Some(Value::String(_, file)) = dict.get(&key) else {
            bail!("{here} must be the path of a file holding {setting}");
        };
        let secret = read_secret(file).with_context(|| format!("while reading {here} ({file})"))?;
        dict.remove(&key);
        dict.insert(name.to_owned(), Value::from(secret));
        changed = true;
    }
    Ok(changed)
}

fn read_secret(file: &str) -> anyhow::Result<String> {
    let bytes = std::fs::read(file)?;
    let Ok(text) = String::from_utf8(bytes) else {
        bail!("the file is not UTF-8 text");
    };
    let secret = text.trim_end_matches(['\n', '\r']);
    if secret.is_empty() {
        bail!("the file is empty");
    }
    Ok(secret.to_owned())
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail's closures return figment::Error
mod tests {
    use super::*;
    use crate::config::Settings;
    use secrecy::ExposeSecret;
    use std::path::Path;

    fn load() -> anyhow::Result<Settings> {
        Settings::load(Path::new("tuesday.toml"))
    }

    #[test]
    fn secrets_come_from_files_named_in_the_environment_or_the_file() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("anthropic.key", "sk-ant-from-file\n")?;
            jail.create_file("smtp.txt", "contraseña-senha-password\r\n")?;
            jail.create_file("otlp.txt", "Bearer otlp-token\n\n")?;
            jail.create_file("pg.url", "postgres://tuesday:s3cret@db/tuesday\n")?;
            jail.create_file(
                "tuesday.toml",
                "[email]\nsmtp_password_file = \"smtp.txt\"\n\
                 [observability.otlp]\nendpoint = \"http://127.0.0.1:4318\"\n\
                 [observability.otlp.headers]\nauthorization_file = \"otlp.txt\"\n\
                 [pipeline]\npolicy_file = \"data/demo/policy.toml\"\n",
            )?;
            jail.set_env(
                "TUESDAY_ROUTING__PROVIDERS__ANTHROPIC__API_KEY_FILE",
                "anthropic.key",
            );
            jail.set_env("TUESDAY_DATABASE_URL_FILE", "pg.url");
            let settings = load().expect("loads");
            let anthropic = &settings.routing.providers["anthropic"];
            let key = anthropic.api_key.as_ref().expect("api key");
            assert_eq!(
                key.expose_secret(),
                "sk-ant-from-file",
                "trailing newline trimmed"
            );
            let smtp = settings.email.smtp_password.as_ref().expect("smtp password");
            assert_eq!(smtp.expose_secret(), "contraseña-senha-password");
            let otlp = settings.observability.otlp.as_ref().expect("otlp");
            assert_eq!(otlp.headers["authorization"].expose_secret(), "Bearer otlp-token");
            assert_eq!(settings.database_url, "postgres://tuesday:s3cret@db/tuesday");
            // A setting that is itself a file path stays one.
            assert_eq!(
                settings.pipeline.policy_file.as_deref(),
                Some(Path::new("data/demo/policy.toml"))
            );
            Ok(())
        });
    }

    #[test]
    fn a_missing_or_unreadable_file_is_a_clear_error_without_the_content() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("TUESDAY_WHATSAPP__APP_SECRET_FILE", "/nonexistent/meta_secret");
            let err = format!("{:#}", load().expect_err("missing file"));
            assert!(err.contains("whatsapp.app_secret_file"), "{err}");
            assert!(err.contains("/nonexistent/meta_secret"), "{err}");

            jail.create_file("empty.txt", "\n")?;
            jail.set_env("TUESDAY_WHATSAPP__APP_SECRET_FILE", "empty.txt");
            let err = format!("{:#}", load().expect_err("empty file"));
            assert!(
                err.contains("whatsapp.app_secret_file") && err.contains("empty"),
                "{err}"
            );

            std::fs::write(jail.directory().join("binary.bin"), [0xff, 0xfe, 0x73, 0x33])
                .map_err(|e| e.to_string())?;
            jail.set_env("TUESDAY_WHATSAPP__APP_SECRET_FILE", "binary.bin");
            let err = format!("{:#}", load().expect_err("not text"));
            assert!(err.contains("not UTF-8"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn a_value_and_a_file_for_one_secret_is_an_error() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("token.txt", "from-the-file")?;
            jail.create_file("tuesday.toml", "[twilio]\nauth_token = \"from-the-toml\"\n")?;
            jail.set_env("TUESDAY_TWILIO__AUTH_TOKEN_FILE", "token.txt");
            let err = format!("{:#}", load().expect_err("both set"));
            assert!(
                err.contains("set twilio.auth_token or twilio.auth_token_file, not both"),
                "{err}"
            );
            assert!(!err.contains("from-the-"), "no secret in the message: {err}");
            Ok(())
        });
    }

    /// Every `SecretString` setting in the sources can come from a file.
    #[test]
    fn every_secret_setting_is_listed() {
        let field = regex::Regex::new(r"pub (\w+): (?:Option<)?SecretString\b").expect("regex");
        let mut found = Vec::new();
        let mut dirs = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("src")];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).expect("read src").flatten() {
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).expect("read a source file");
                    for capture in field.captures_iter(&text) {
                        found.push(capture[1].to_owned());
                    }
                }
            }
        }
        assert!(found.len() >= 10, "the scan found the settings: {found:?}");
        for name in found {
            assert!(
                SECRET_KEYS.contains(&name.as_str()),
                "{name} cannot be read from a file"
            );
        }
    }
}
