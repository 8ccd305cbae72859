//! The approved re-engagement template: what a WhatsApp channel (Meta's Cloud API or Twilio)
//! sends instead of a reply once the contact's 24-hour window has closed. Each channel names
//! its templates its own way; the outbox only asks for "the template" and sends it.

use super::twilio::ContentSid;
use super::{SendError, TWILIO, WHATSAPP};
use crate::config::Settings;
use crate::state::AppState;
use crate::store::OutboundRow;
use serde_json::json;

/// One channel's approved template, chosen for a conversation's language.
#[derive(Debug, Clone, PartialEq)]
pub enum Template {
    /// Meta: the template's name and its language code (`pt_BR`).
    WhatsApp { name: String, language: String },
    /// Twilio: the content template for the conversation's language, and its variables as
    /// a JSON object string.
    Twilio {
        content_sid: ContentSid,
        language: String,
        variables: Option<String>,
    },
}

impl Template {
    /// The template configured for `channel`, for a conversation in `language`; or, for a
    /// person, why there is none.
    pub fn reengagement(
        settings: &Settings,
        channel: &str,
        language: Option<&str>,
    ) -> Result<Template, String> {
        match channel {
            WHATSAPP => {
                let template = settings
                    .whatsapp
                    .reengagement_template
                    .as_ref()
                    .ok_or("no whatsapp.reengagement_template is configured")?;
                let code = language
                    .and_then(|l| template.languages.get(l))
                    .or_else(|| template.languages.get("en"))
                    .or_else(|| template.languages.values().next())
                    .map_or("en_US", String::as_str);
                Ok(Template::WhatsApp {
                    name: template.name.clone(),
                    language: code.to_owned(),
                })
            }
            TWILIO => {
                let template = settings
                    .twilio
                    .reengagement_template
                    .as_ref()
                    .ok_or("no twilio.reengagement_template is configured")?;
                Ok(Template::Twilio {
                    content_sid: template.for_language(language).clone(),
                    language: language.unwrap_or("unknown").to_owned(),
                    variables: template.content_variables(),
                })
            }
            other => Err(format!(
                "the {other} channel has no 24-hour window and no templates"
            )),
        }
    }

    /// How the trace names it: the template and the language it went in.
    pub fn describe(&self) -> String {
        match self {
            Template::WhatsApp { name, language } => format!("{name} ({language})"),
            Template::Twilio {
                content_sid,
                language,
                ..
            } => format!("{content_sid} ({language})"),
        }
    }

    /// What the trace event records about it.
    pub fn detail(&self) -> serde_json::Value {
        match self {
            Template::WhatsApp { name, language } => json!({ "template": name, "language": language }),
            Template::Twilio {
                content_sid,
                language,
                variables,
            } => {
                json!({ "template": content_sid.as_str(), "language": language, "content_variables": variables })
            }
        }
    }
}

/// Sends `template` to `out`'s contact and returns the provider's id. `key` is the outbound
/// message's idempotency key, the same as its free-text attempt's.
pub async fn send_template(
    state: &AppState,
    out: &OutboundRow,
    template: &Template,
    key: &str,
) -> Result<String, SendError> {
    match template {
        Template::WhatsApp { name, language } => Ok(state
            .whatsapp
            .send_template(&out.business_number, &out.to_address, name, language, Some(key))
            .await?),
        // Twilio takes no idempotency key: the outbox's `sending` claim is what stops a resend.
        Template::Twilio {
            content_sid,
            variables,
            ..
        } => {
            state
                .twilio
                .send_template(
                    &out.business_number,
                    &out.to_address,
                    content_sid,
                    variables.clone(),
                )
                .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channels::EMAIL;

    fn settings() -> Settings {
        let mut settings = Settings::default();
        settings.whatsapp.reengagement_template = Some(
            toml::from_str(
                r#"name = "retomar_conversa"
languages = { es = "es", pt = "pt_BR", en = "en_US" }"#,
            )
            .expect("whatsapp template"),
        );
        settings.twilio.reengagement_template = Some(
            toml::from_str(
                r#"languages = { es = "HX000000000000000000000000000000e5", pt = "HX0000000000000000000000000000000b", en = "HX0000000000000000000000000000000e" }
variables = { 1 = "Academia Demo" }"#,
            )
            .expect("twilio template"),
        );
        settings
    }

    #[test]
    fn each_channel_names_its_template_in_the_conversation_language() {
        let settings = settings();
        for (language, code, sid) in [
            ("es", "es", "HX000000000000000000000000000000e5"),
            ("pt", "pt_BR", "HX0000000000000000000000000000000b"),
            ("en", "en_US", "HX0000000000000000000000000000000e"),
        ] {
            let meta = Template::reengagement(&settings, WHATSAPP, Some(language)).expect("configured");
            assert_eq!(meta.describe(), format!("retomar_conversa ({code})"));
            let twilio = Template::reengagement(&settings, TWILIO, Some(language)).expect("configured");
            assert_eq!(twilio.describe(), format!("{sid} ({language})"));
            assert_eq!(twilio.detail()["content_variables"], r#"{"1":"Academia Demo"}"#);
        }
    }

    #[test]
    fn without_a_template_the_reason_names_the_setting() {
        let settings = Settings::default();
        for (channel, setting) in [
            (WHATSAPP, "whatsapp.reengagement_template"),
            (TWILIO, "twilio.reengagement_template"),
        ] {
            let why = Template::reengagement(&settings, channel, Some("es")).expect_err(channel);
            assert!(why.contains(setting), "{why}");
        }
        assert!(Template::reengagement(&settings, EMAIL, None).is_err());
    }
}
