//! Turning a chat-style draft into an email and a reply into a thread member: greeting,
//! sign-off and signature; "Re:" subjects; References from the parent. Pure.

use crate::catalog::Catalog;
use crate::domain::Language;
use crate::guardrails::channel::{greeting, has_greeting, has_sign_off, sign_off};

/// The business's signature: as configured, else the brand's name and website.
pub fn signature(configured: Option<&str>, catalog: &Catalog) -> String {
    match configured.map(str::trim).filter(|s| !s.is_empty()) {
        Some(signature) => signature.to_owned(),
        None => format!("{}\n{}", catalog.brand.name, catalog.brand.website),
    }
}

/// Bare chat openers a template starts with, replaced by a greeting by name.
const OPENERS: [&str; 6] = ["¡Hola!", "Hola!", "Olá!", "Oi!", "Hi!", "Hello!"];

/// `body` as an email: a greeting by name, the text, a sign-off and the signature, each added
/// only when missing.
pub fn dress(body: &str, language: Language, name: Option<&str>, signature: &str) -> String {
    let mut text = body.trim().to_owned();
    if let Some(rest) = OPENERS.iter().find_map(|o| text.strip_prefix(o)) {
        text = rest.trim_start().to_owned();
    }
    let mut parts = Vec::new();
    if !has_greeting(&text) {
        parts.push(greeting(language, name));
    }
    parts.push(text.clone());
    if !has_sign_off(&text) {
        parts.push(format!("{}\n{}", sign_off(language), signature.trim()));
    } else if !text.contains(signature.trim()) {
        parts.push(signature.trim().to_owned());
    }
    parts.join("\n\n")
}

/// The subject of a reply: the parent's with one "Re:" in front.
pub fn reply_subject(parent: &str) -> String {
    let trimmed = parent.trim();
    let lower = trimmed.to_lowercase();
    if ["re:", "res:", "re :"].iter().any(|p| lower.starts_with(p)) {
        return format!("Re: {}", trimmed[trimmed.find(':').map_or(0, |i| i + 1)..].trim());
    }
    if trimmed.is_empty() {
        "Re:".to_owned()
    } else {
        format!("Re: {trimmed}")
    }
}

/// A reply's References: the parent's, then the parent's own Message-ID (RFC 5322 §3.6.4),
/// keeping the first and the last few when a thread grows long.
pub fn reply_references(parent_refs: &str, parent_id: &str) -> Vec<String> {
    let mut refs: Vec<String> = parent_refs.split_whitespace().map(str::to_owned).collect();
    refs.retain(|r| r != parent_id);
    refs.push(parent_id.to_owned());
    if refs.len() > 12 {
        let tail = refs.split_off(refs.len() - 11);
        refs.truncate(1);
        refs.extend(tail);
    }
    refs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drafts_become_letters_in_three_languages() {
        let es = dress(
            "¡Hola! El curso cuesta 300 EUR. ¿Te envío el enlace?",
            Language::Es,
            Some("Iñigo Núñez"),
            "Academia Demo",
        );
        assert_eq!(
            es,
            "Hola, Iñigo:\n\nEl curso cuesta 300 EUR. ¿Te envío el enlace?\n\nSaludos cordiales,\nAcademia Demo"
        );
        let pt = dress(
            "Olá! O curso custa R$ 1.500.",
            Language::Pt,
            None,
            "Academia Demo",
        );
        assert_eq!(
            pt,
            "Olá,\n\nO curso custa R$ 1.500.\n\nAtenciosamente,\nAcademia Demo"
        );
        let en = dress(
            "Hi Sam,\n\nSure.\n\nBest regards,\nAcademia Demo",
            Language::En,
            Some("Sam"),
            "Academia Demo",
        );
        assert_eq!(
            en, "Hi Sam,\n\nSure.\n\nBest regards,\nAcademia Demo",
            "nothing added twice"
        );
    }

    #[test]
    fn subjects_and_references() {
        assert_eq!(reply_subject("Precio del curso"), "Re: Precio del curso");
        assert_eq!(reply_subject("RE: Preço"), "Re: Preço");
        assert_eq!(reply_subject("Res: Preço"), "Re: Preço");
        assert_eq!(reply_subject(""), "Re:");
        assert_eq!(reply_references("a@x b@x", "c@x"), vec!["a@x", "b@x", "c@x"]);
        assert_eq!(reply_references("", "c@x"), vec!["c@x"]);
        let long: Vec<String> = (0..20).map(|i| format!("{i}@x")).collect();
        let refs = reply_references(&long.join(" "), "20@x");
        assert_eq!(refs.len(), 12);
        assert_eq!(refs[0], "0@x");
        assert_eq!(refs[11], "20@x");
    }
}
