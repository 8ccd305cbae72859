//! The conversion webhook's body, checked field by field so a bad delivery gets a clear error.

use crate::domain::Millis;
use rust_decimal::Decimal;
use serde::Deserialize;

/// What a CRM or payment system posts.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    phone: Option<String>,
    email: Option<String>,
    value: serde_json::Value,
    currency: String,
    #[serde(default)]
    product: String,
    occurred_at: String,
    external_id: String,
}

/// A valid conversion report.
#[derive(Debug, Clone, PartialEq)]
pub struct ConversionPayload {
    /// Phone digits (international, no `+`) or a lower-case email address.
    pub contact: String,
    pub value: Decimal,
    /// An ISO 4217 code, upper case.
    pub currency: String,
    pub product: String,
    pub occurred_at: Millis,
    pub external_id: String,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PayloadError {
    #[error("the body is not a conversion: {0}")]
    Malformed(String),
    #[error("give the contact's phone or email")]
    NoContact,
    #[error("{0:?} is not a phone number in international form")]
    BadPhone(String),
    #[error("{0:?} is not an email address")]
    BadEmail(String),
    #[error("value must be a positive decimal amount, as a string or number")]
    BadValue,
    #[error("currency must be an ISO 4217 code such as USD, EUR, BRL or MXN")]
    BadCurrency,
    #[error("occurred_at must be an RFC 3339 instant, such as 2026-12-09T16:30:00Z")]
    BadTime,
    #[error("external_id must be 1 to 200 characters")]
    BadExternalId,
    #[error("product must be at most 200 characters")]
    BadProduct,
}

impl ConversionPayload {
    pub fn parse(body: &[u8]) -> Result<ConversionPayload, PayloadError> {
        let raw: Raw = serde_json::from_slice(body).map_err(|e| PayloadError::Malformed(e.to_string()))?;
        let contact = match (raw.phone.as_deref(), raw.email.as_deref()) {
            (Some(phone), _) if !phone.trim().is_empty() => contact_key(phone)?,
            (_, Some(email)) if !email.trim().is_empty() => contact_key(email)?,
            _ => return Err(PayloadError::NoContact),
        };
        let value = match &raw.value {
            serde_json::Value::String(s) => s.trim().parse::<Decimal>().ok(),
            serde_json::Value::Number(n) => n.to_string().parse::<Decimal>().ok(),
            _ => None,
        }
        .filter(|v| *v > Decimal::ZERO)
        .ok_or(PayloadError::BadValue)?;
        let currency = raw.currency.trim().to_ascii_uppercase();
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(PayloadError::BadCurrency);
        }
        let occurred_at = chrono::DateTime::parse_from_rfc3339(raw.occurred_at.trim())
            .map_err(|_| PayloadError::BadTime)?
            .timestamp_millis();
        let external_id = raw.external_id.trim().to_owned();
        if external_id.is_empty() || external_id.chars().count() > 200 {
            return Err(PayloadError::BadExternalId);
        }
        let product = raw.product.trim().to_owned();
        if product.chars().count() > 200 {
            return Err(PayloadError::BadProduct);
        }
        Ok(ConversionPayload {
            contact,
            value,
            currency,
            product,
            occurred_at,
            external_id,
        })
    }
}

/// How a contact is found: phone digits as WhatsApp stores them, or an email in lower case.
pub fn contact_key(given: &str) -> Result<String, PayloadError> {
    let given = given.trim();
    if given.contains('@') {
        let email = given.to_lowercase();
        let valid = email
            .split_once('@')
            .is_some_and(|(user, domain)| !user.is_empty() && domain.contains('.') && !email.contains(' '));
        return if valid {
            Ok(email)
        } else {
            Err(PayloadError::BadEmail(given.to_owned()))
        };
    }
    let digits: String = given.chars().filter(char::is_ascii_digit).collect();
    let allowed = given.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c));
    if allowed && (8..=15).contains(&digits.len()) {
        Ok(digits)
    } else {
        Err(PayloadError::BadPhone(given.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<ConversionPayload, PayloadError> {
        ConversionPayload::parse(json.as_bytes())
    }

    #[test]
    fn reads_a_report_by_phone_or_email() {
        let p = parse(r#"{"phone":"+55 (11) 98765-4321","value":"1497.00","currency":"brl","product":"Análise de Dados","occurred_at":"2026-12-09T16:30:00-03:00","external_id":"pay_1"}"#)
            .expect("valid");
        assert_eq!(p.contact, "5511987654321");
        assert_eq!(p.value.to_string(), "1497.00");
        assert_eq!(p.currency, "BRL");
        assert_eq!(p.product, "Análise de Dados");
        assert_eq!(p.occurred_at, 1_796_844_600_000);
        let p = parse(r#"{"email":" Marta.Lopez@Example.ES ","value":349.5,"currency":"EUR","product":"Python desde cero 🐍","occurred_at":"2026-12-09T10:00:00Z","external_id":"crm-9"}"#)
            .expect("valid");
        assert_eq!(p.contact, "marta.lopez@example.es");
        assert_eq!(p.value.to_string(), "349.5");
    }

    #[test]
    fn says_what_is_wrong() {
        let base = |field: &str| {
            format!(
                r#"{{"phone":"5511987654321","value":"10","currency":"USD","product":"x","occurred_at":"2026-12-09T10:00:00Z","external_id":"e1",{field}}}"#
            )
        };
        let cases: [(&str, PayloadError); 7] = [
            (
                r#"{"value":"10","currency":"USD","occurred_at":"2026-12-09T10:00:00Z","external_id":"e"}"#,
                PayloadError::NoContact,
            ),
            (
                r#"{"phone":"llámame","value":"10","currency":"USD","occurred_at":"2026-12-09T10:00:00Z","external_id":"e"}"#,
                PayloadError::BadPhone("llámame".into()),
            ),
            (
                r#"{"email":"sin-arroba","value":"10","currency":"USD","occurred_at":"2026-12-09T10:00:00Z","external_id":"e"}"#,
                PayloadError::BadPhone("sin-arroba".into()),
            ),
            (
                r#"{"phone":"5511987654321","value":"-3","currency":"USD","occurred_at":"2026-12-09T10:00:00Z","external_id":"e"}"#,
                PayloadError::BadValue,
            ),
            (
                r#"{"phone":"5511987654321","value":"10","currency":"reais","occurred_at":"2026-12-09T10:00:00Z","external_id":"e"}"#,
                PayloadError::BadCurrency,
            ),
            (
                r#"{"phone":"5511987654321","value":"10","currency":"USD","occurred_at":"ayer","external_id":"e"}"#,
                PayloadError::BadTime,
            ),
            (
                r#"{"phone":"5511987654321","value":"10","currency":"USD","occurred_at":"2026-12-09T10:00:00Z","external_id":"  "}"#,
                PayloadError::BadExternalId,
            ),
        ];
        for (json, expected) in cases {
            assert_eq!(parse(json), Err(expected), "{json}");
        }
        assert!(matches!(
            parse(&base(r#""extra":1"#)),
            Err(PayloadError::Malformed(_))
        ));
        assert!(matches!(parse("not json"), Err(PayloadError::Malformed(_))));
        assert_eq!(contact_key("ana@@"), Err(PayloadError::BadEmail("ana@@".into())));
    }
}
