//! Masking personal data (phones, emails, ID numbers) in trace text, with the detector the
//! `personal_data` guardrail uses.

use crate::guardrails::personal_data;
use serde_json::Value;

/// `text` with every phone, email and ID number replaced by `[phone]`, `[email]`, `[CPF]`…
pub fn mask(text: &str) -> String {
    let spans = personal_data::find_all(text);
    if spans.is_empty() {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (start, end, kind) in spans {
        out.push_str(&text[last..start]);
        out.push('[');
        out.push_str(kind);
        out.push(']');
        last = end;
    }
    out.push_str(&text[last..]);
    out
}

/// Every string inside `value` masked, keys kept.
pub fn mask_json(value: &Value) -> Value {
    match value {
        Value::String(s) => Value::String(mask(s)),
        Value::Array(items) => Value::Array(items.iter().map(mask_json).collect()),
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), mask_json(v))).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn personal_data_is_masked_in_every_language() {
        let cases = [
            // es: DNI with its check letter, a Mexican mobile, an email
            (
                "Mi DNI es 12345678Z y mi correo ana.gomez@gmail.com, llamame al +52 55 1234 5678",
                "Mi DNI es [DNI] y mi correo [email], llamame al [phone]",
            ),
            // pt: CPF with punctuation, a São Paulo mobile without accents or plus sign
            (
                "meu cpf eh 390.533.447-05 e o zap 11 98765-4321 😊",
                "meu cpf eh [CPF] e o zap [phone] 😊",
            ),
            // en: SSN, an email with capitals, a US number in brackets
            (
                "SSN 123-45-6789, write to John.Smith@Example.org or call (212) 555-0147",
                "SSN [SSN], write to [email] or call [phone]",
            ),
            // mixed, with a typo: nothing personal, prices and dates stay
            (
                "hola, quanto custa o curso? R$ 2.490,00 em 10x, começa 2026-12-09",
                "hola, quanto custa o curso? R$ 2.490,00 em 10x, começa 2026-12-09",
            ),
        ];
        for (text, want) in cases {
            assert_eq!(mask(text), want, "{text}");
        }
    }

    #[test]
    fn json_strings_are_masked_and_keys_kept() {
        let value = serde_json::json!({"from": "5511987654321", "n": 3, "notes": ["ana@x.com"]});
        let masked = mask_json(&value);
        assert_eq!(
            masked,
            serde_json::json!({"from": "[phone]", "n": 3, "notes": ["[email]"]})
        );
    }
}
