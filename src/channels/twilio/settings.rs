//! `[twilio]` settings: the account, its auth token, the public URL Twilio signs, and the
//! approved template sent once the 24-hour window has closed.

use secrecy::SecretString;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;

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
    /// The approved content template sent instead of a reply when the 24-hour window has
    /// closed (Twilio error 63016, or a closed window at send time). Unset: such replies fail
    /// with the reason and wait for a person.
    pub reengagement_template: Option<TwilioTemplate>,
}

impl Default for TwilioSettings {
    fn default() -> Self {
        TwilioSettings {
            account_sid: None,
            auth_token: None,
            public_url: None,
            api_base: "https://api.twilio.com".to_owned(),
            timeout_ms: 10_000,
            reengagement_template: None,
        }
    }
}

/// An approved Twilio content template. Twilio approves one language per template, so each
/// conversation language (`es`, `pt`, `en`) may name its own; `content_sid` serves the rest.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "RawTemplate")]
pub struct TwilioTemplate {
    pub content_sid: Option<ContentSid>,
    pub languages: BTreeMap<String, ContentSid>,
    /// `ContentVariables`: the template's variables (`"1"`, `"2"`, …) and their values, sent as
    /// a JSON object string. Empty: none is sent.
    pub variables: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTemplate {
    content_sid: Option<ContentSid>,
    #[serde(default)]
    languages: BTreeMap<String, ContentSid>,
    #[serde(default)]
    variables: BTreeMap<String, String>,
}

impl TryFrom<RawTemplate> for TwilioTemplate {
    type Error = String;

    fn try_from(raw: RawTemplate) -> Result<TwilioTemplate, String> {
        if raw.content_sid.is_none() && raw.languages.is_empty() {
            return Err("twilio.reengagement_template needs a content_sid or languages".to_owned());
        }
        // Twilio refuses these with error 21656 at send time; say so at start-up instead.
        for (name, value) in &raw.variables {
            if name.trim().is_empty() {
                return Err("twilio.reengagement_template.variables: a variable has no name".to_owned());
            }
            if value.trim().is_empty() || value.contains(['\n', '\t']) || value.contains("     ") {
                return Err(format!(
                    "twilio.reengagement_template.variables.{name}: a value must not be empty or hold a newline, a tab or more than four spaces in a row"
                ));
            }
        }
        Ok(TwilioTemplate {
            content_sid: raw.content_sid,
            languages: raw.languages,
            variables: raw.variables,
        })
    }
}

impl TwilioTemplate {
    /// The template for a conversation in `language`: its own, else `content_sid`, else the
    /// English one, else any.
    pub fn for_language(&self, language: Option<&str>) -> &ContentSid {
        language
            .and_then(|l| self.languages.get(l))
            .or(self.content_sid.as_ref())
            .or_else(|| self.languages.get("en"))
            .or_else(|| self.languages.values().next())
            .expect("a template has a content_sid or at least one language")
    }

    /// The `ContentVariables` parameter, or `None` when the template takes none.
    pub fn content_variables(&self) -> Option<String> {
        (!self.variables.is_empty()).then(|| serde_json::json!(self.variables).to_string())
    }
}

/// A Twilio Content SID: `HX` and 32 hexadecimal digits.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct ContentSid(String);

impl TryFrom<String> for ContentSid {
    type Error = String;

    fn try_from(sid: String) -> Result<ContentSid, String> {
        let well_formed =
            sid.len() == 34 && sid.starts_with("HX") && sid[2..].chars().all(|c| c.is_ascii_hexdigit());
        if well_formed {
            Ok(ContentSid(sid))
        } else {
            Err(format!(
                "{sid:?} is not a Twilio Content SID (HX followed by 32 hexadecimal digits)"
            ))
        }
    }
}

impl ContentSid {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ContentSid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ES: &str = "HX0000000000000000000000000000e5e5";
    const PT: &str = "HXaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const EN: &str = "HXBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";

    fn template(toml_text: &str) -> Result<TwilioTemplate, String> {
        toml::from_str(toml_text).map_err(|e| e.to_string())
    }

    #[test]
    fn each_language_gets_its_own_template() {
        let t = template(&format!(
            "content_sid = \"{EN}\"\nlanguages = {{ es = \"{ES}\", pt = \"{PT}\" }}"
        ))
        .expect("valid");
        for (language, sid) in [(Some("es"), ES), (Some("pt"), PT), (Some("en"), EN), (None, EN)] {
            assert_eq!(t.for_language(language).as_str(), sid, "{language:?}");
        }
        assert_eq!(t.content_variables(), None);
        // Without a default, English stands in for a language with no template of its own.
        let t = template(&format!("languages = {{ es = \"{ES}\", en = \"{EN}\" }}")).expect("valid");
        assert_eq!(t.for_language(Some("pt")).as_str(), EN);
    }

    #[test]
    fn variables_travel_as_a_json_object_string() {
        let t = template(&format!(
            "content_sid = \"{EN}\"\nvariables = {{ 1 = \"Academia Demo\", 2 = \"Conceição\" }}"
        ))
        .expect("valid");
        assert_eq!(
            t.content_variables().as_deref(),
            Some(r#"{"1":"Academia Demo","2":"Conceição"}"#)
        );
    }

    #[test]
    fn malformed_templates_are_refused_with_the_reason() {
        for (text, expected) in [
            ("languages = {}", "needs a content_sid or languages"),
            ("content_sid = \"HX123\"", "not a Twilio Content SID"),
            (
                "content_sid = \"MG00000000000000000000000000000000\"",
                "not a Twilio Content SID",
            ),
            (
                "content_sid = \"HX0000000000000000000000000000000g\"",
                "not a Twilio Content SID",
            ),
            (
                &format!("content_sid = \"{EN}\"\nvariables = {{ 1 = \"\" }}"),
                "variables.1",
            ),
            (
                &format!("content_sid = \"{EN}\"\nvariables = {{ 1 = \"Hola\\nque tal\" }}"),
                "newline",
            ),
            (&format!("name = \"x\"\ncontent_sid = \"{EN}\""), "unknown field"),
        ] {
            let error = template(text).expect_err(text);
            assert!(error.contains(expected), "{text}: {error}");
        }
    }
}
