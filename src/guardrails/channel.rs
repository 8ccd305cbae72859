//! What each channel allows: WhatsApp's 4096 characters (1600 through Twilio), a sane length for
//! email, and for email the shape of a letter: a greeting, a sign-off and the business's
//! signature, in Spanish, Portuguese or English.

use super::{Context, Finding};
use crate::channels::{EMAIL, TWILIO, WHATSAPP};
use crate::domain::Language;

const RULE: &str = "channel";

/// The most characters one message may hold on `channel`.
pub fn max_chars(channel: &str) -> usize {
    match channel {
        WHATSAPP => 4096,
        // Twilio's limit for a WhatsApp body.
        TWILIO => 1600,
        EMAIL => 10_000,
        _ => 4096,
    }
}

/// Openings that make a proper greeting, folded to lower case without accents.
const GREETINGS: [&str; 16] = [
    "hola",
    "buenos dias",
    "buenas tardes",
    "buenas noches",
    "estimado",
    "estimada",
    "ola",
    "oi",
    "bom dia",
    "boa tarde",
    "boa noite",
    "prezado",
    "prezada",
    "hi",
    "hello",
    "dear",
];

/// Sign-offs, folded the same way.
const SIGN_OFFS: [&str; 14] = [
    "saludos",
    "un saludo",
    "atentamente",
    "cordialmente",
    "gracias",
    "abracos",
    "atenciosamente",
    "obrigado",
    "obrigada",
    "um abraco",
    "best regards",
    "kind regards",
    "regards",
    "thanks",
];

fn fold(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    text.nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .collect::<String>()
        .to_lowercase()
        .trim_start_matches(['¡', '¿', ' '])
        .to_owned()
}

fn starts_with_word(folded: &str, words: &[&str]) -> bool {
    words.iter().any(|w| {
        folded.starts_with(w)
            && folded[w.len()..]
                .chars()
                .next()
                .is_none_or(|c| !c.is_alphanumeric())
    })
}

/// Whether the first line of `body` greets the reader.
pub fn has_greeting(body: &str) -> bool {
    body.lines()
        .find(|l| !l.trim().is_empty())
        .is_some_and(|first| starts_with_word(&fold(first), &GREETINGS))
}

/// Whether one of the last lines signs off: a short line of its own ("Saludos cordiales,"),
/// not a sentence that happens to start with "Gracias".
pub fn has_sign_off(body: &str) -> bool {
    let lines: Vec<&str> = body.lines().filter(|l| !l.trim().is_empty()).collect();
    lines
        .iter()
        .rev()
        .take(6)
        .any(|l| l.chars().count() <= 40 && starts_with_word(&fold(l), &SIGN_OFFS))
}

/// The greeting an email opens with, by the contact's first name when known.
pub fn greeting(language: Language, name: Option<&str>) -> String {
    let first = name
        .and_then(|n| n.split_whitespace().next())
        .filter(|n| n.chars().any(char::is_alphabetic));
    match (language, first) {
        (Language::Es, Some(n)) => format!("Hola, {n}:"),
        (Language::Es, None) => "Hola:".to_owned(),
        (Language::Pt, Some(n)) => format!("Olá, {n},"),
        (Language::Pt, None) => "Olá,".to_owned(),
        (Language::En, Some(n)) => format!("Hi {n},"),
        (Language::En, None) => "Hello,".to_owned(),
    }
}

pub fn sign_off(language: Language) -> &'static str {
    match language {
        Language::Es => "Saludos cordiales,",
        Language::Pt => "Atenciosamente,",
        Language::En => "Best regards,",
    }
}

pub fn check(draft: &str, context: &Context<'_>) -> Vec<Finding> {
    let channel = context.channel;
    let limit = max_chars(channel);
    let length = draft.chars().count();
    let mut findings = Vec::new();
    if length > limit {
        let message = format!("{length} characters, more than the {limit} a {channel} message may hold");
        findings.push(if channel == EMAIL {
            Finding::hold(RULE, "too_long", message)
        } else {
            Finding::block(RULE, "too_long", message)
        });
    }
    if channel == EMAIL {
        if !has_greeting(draft) {
            findings.push(Finding::hold(
                RULE,
                "email_greeting_missing",
                "an email should open with a greeting",
            ));
        }
        if !has_sign_off(draft) {
            findings.push(Finding::hold(
                RULE,
                "email_sign_off_missing",
                "an email should close with a sign-off",
            ));
        }
        if let Some(signature) = context.signature.filter(|s| !s.trim().is_empty())
            && !draft.contains(signature.trim())
        {
            findings.push(Finding::hold(
                RULE,
                "email_signature_missing",
                "an email should carry the business's signature",
            ));
        }
    }
    if findings.is_empty() {
        findings.push(Finding::pass(
            RULE,
            "fits_channel",
            format!("fits a {channel} message"),
        ));
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::guardrails::Verdict;
    use crate::guardrails::testing::{context, problems};

    #[test]
    fn greetings_and_sign_offs_in_three_languages() {
        for yes in [
            "Hola, Ana:",
            "¡Hola!",
            "Buenos días",
            "buenos dias Ana",
            "Olá, João,",
            "Oi!",
            "Ola tudo bem",
            "Hi Sam,",
            "Dear Ms Lee",
            "Hello 👋",
        ] {
            assert!(has_greeting(yes), "{yes}");
        }
        for no in [
            "Holanda es bonita",
            "Ana, el curso cuesta",
            "History of art",
            "Oitenta reais",
        ] {
            assert!(!has_greeting(no), "{no}");
        }
        for yes in [
            "x\nSaludos cordiales,\nEquipo",
            "x\nAtenciosamente,",
            "x\nUm abraço",
            "x\nBest regards,\nTeam",
            "x\nGracias 🙏",
        ] {
            assert!(has_sign_off(yes), "{yes}");
        }
        assert!(!has_sign_off("El curso cuesta 300 USD."));
        assert!(!has_sign_off(
            "¡Gracias por tu mensaje! Somos Aurora Academy. ¿Te puedo ayudar con algo?"
        ));
        assert_eq!(greeting(Language::Es, Some("Iñigo Núñez")), "Hola, Iñigo:");
        assert_eq!(greeting(Language::Pt, Some("Conceição")), "Olá, Conceição,");
        assert_eq!(greeting(Language::En, None), "Hello,");
    }

    #[test]
    fn length_per_channel_and_the_shape_of_an_email() {
        let long = "a".repeat(2000);
        let ctx = context("BR", Language::Pt).with_channel(TWILIO);
        assert_eq!(problems(&check(&long, &ctx)), vec![(Verdict::Block, "too_long")]);
        let ctx = context("BR", Language::Pt).with_channel(WHATSAPP);
        assert!(problems(&check(&long, &ctx)).is_empty());
        let ctx = context("ES", Language::Es)
            .with_channel(EMAIL)
            .with_signature("Academia Demo");
        assert_eq!(
            problems(&check("El curso cuesta 300 EUR.", &ctx)),
            vec![
                (Verdict::Hold, "email_greeting_missing"),
                (Verdict::Hold, "email_sign_off_missing"),
                (Verdict::Hold, "email_signature_missing"),
            ]
        );
        let letter = "Hola, Ana:\n\nEl curso cuesta 300 EUR.\n\nSaludos cordiales,\nAcademia Demo";
        assert!(problems(&check(letter, &ctx)).is_empty());
    }
}
