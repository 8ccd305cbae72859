//! The draft is in the conversation's language. Each sentence long enough to judge is checked
//! with whatlang, as the pipeline's detector does; a sentence whatlang is unsure of is judged
//! by words that belong to one language only. Short drafts ("Ok 👍") are not judged.

use super::folded::sentences;
use super::{Context, Finding};
use crate::domain::Language;
use crate::text;
use whatlang::{Detector, Lang};

const RULE: &str = "language";

/// Sentences shorter than this are too short even for the word lists.
const MIN_WORDS_FOR_WORDS: usize = 3;

/// Common words that occur in one of the three languages and not the other two, folded.
#[rustfmt::skip]
const ONLY_IN: [(Language, &[&str]); 3] = [
    (Language::Es, &[
        "el", "los", "las", "del", "y", "pero", "muy", "usted", "hola", "gracias", "cuesta",
        "puedes", "quieres", "tienes", "tiene", "tambien", "ahora", "hoy", "manana", "con", "en",
        "es", "un", "una", "ya", "hay", "nuestro", "nuestros", "nuestra", "pagos", "cuotas",
        "inscripcion", "clases", "empieza", "unas", "lo", "le", "al", "puede", "quieras",
        "cuando", "cual", "puedo", "ayudar", "ayudarte", "escribir",
    ]),
    (Language::Pt, &[
        "os", "da", "das", "nao", "voce", "com", "em", "um", "uma", "muito", "obrigado",
        "obrigada", "ola", "tambem", "agora", "pra", "seu", "sua", "nosso", "nossos", "nossa",
        "isso", "quer", "pode", "custa", "sao", "tem", "ao", "na", "nas", "pelo", "pela", "mais",
        "ou", "aulas", "turma", "inscricao", "comeca", "parcelas", "voces", "quando", "qual",
        "posso", "ajudar", "escrever", "e", "ficam",
    ]),
    (Language::En, &[
        "the", "and", "is", "are", "you", "your", "we", "our", "of", "to", "for", "with", "it",
        "this", "that", "can", "will", "have", "has", "be", "costs", "hi", "thanks", "please",
        "would", "next", "starts", "weeks", "which", "what", "how", "in", "on", "at", "or", "an",
        "my", "hello", "course", "about", "hours", "classes", "payments", "help", "writing",
    ]),
];

fn from_whatlang(lang: Lang) -> Language {
    match lang {
        Lang::Por => Language::Pt,
        Lang::Eng => Language::En,
        _ => Language::Es,
    }
}

/// The language of one sentence, if it can be told.
fn sentence_language(sentence: &str, min_words: usize) -> Option<Language> {
    let words = text::tokens(&text::fold(sentence));
    let words: Vec<&String> = words
        .iter()
        .filter(|w| w.chars().any(char::is_alphabetic))
        .collect();
    if words.len() < MIN_WORDS_FOR_WORDS {
        return None;
    }
    if words.len() >= min_words {
        let detector = Detector::with_allowlist(vec![Lang::Spa, Lang::Por, Lang::Eng]);
        if let Some(info) = detector.detect(sentence).filter(|i| i.is_reliable()) {
            return Some(from_whatlang(info.lang()));
        }
    }
    let mut hits: Vec<(Language, usize)> = ONLY_IN
        .iter()
        .map(|(language, list)| {
            (
                *language,
                words.iter().filter(|w| list.contains(&w.as_str())).count(),
            )
        })
        .collect();
    hits.sort_by_key(|h| std::cmp::Reverse(h.1));
    (hits[0].1 >= 2 && hits[0].1 >= 2 * hits[1].1.max(1)).then_some(hits[0].0)
}

pub fn check(draft: &str, context: &Context<'_>) -> Finding {
    let expected = context.language;
    let min_words = context.policy.file.language.min_words;
    let mut judged = 0;
    for (start, end) in sentences(draft) {
        let Some(found) = sentence_language(&draft[start..end], min_words) else {
            continue;
        };
        judged += 1;
        if found != expected {
            let offset = draft[start..end].len() - draft[start..end].trim_start().len();
            let span = (start + offset, start + draft[start..end].trim_end().len());
            return Finding::hold(
                RULE,
                "wrong_language",
                format!(
                    "\"{}\" is in {}, the conversation is in {}",
                    &draft[span.0..span.1],
                    found.name(),
                    expected.name()
                ),
            )
            .at(span);
        }
    }
    // Sentences too short one by one may still tell together.
    if judged == 0
        && let Some(found) = sentence_language(draft, min_words)
    {
        judged += 1;
        if found != expected {
            return Finding::hold(
                RULE,
                "wrong_language",
                format!(
                    "the draft is in {}, the conversation is in {}",
                    found.name(),
                    expected.name()
                ),
            )
            .at((0, draft.len()));
        }
    }
    if judged == 0 {
        Finding::pass(RULE, "too_short_to_tell", "too short to tell its language")
    } else {
        Finding::pass(
            RULE,
            "language_matches",
            format!("written in {}", expected.name()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::guardrails::testing::context;
    use Language::*;

    fn reason(draft: &str, language: Language) -> &'static str {
        check(draft, &context("ES", language)).reason
    }

    #[test]
    fn drafts_in_the_conversations_language_pass() {
        let cases = [
            (
                "¡Hola! Gracias por escribir a Aurora Academy. ¿En qué puedo ayudarte?",
                Es,
            ),
            (
                "Olá! Obrigado por escrever para a Aurora Academy. Como posso te ajudar?",
                Pt,
            ),
            (
                "Hi! Thanks for writing to Aurora Academy. How can I help you?",
                En,
            ),
            (
                "Análise de Dados custa R$ 5.988 ou 12x de R$ 499. Você pode pagar com cartão, Pix ou boleto.",
                Pt,
            ),
            (
                "Diseño UX/UI dura 14 semanas, unas 8 horas por semana, y el próximo grupo empieza el 1 de febrero de 2027.",
                Es,
            ),
            (
                "Claro! Um consultor da Aurora Academy vai falar com você em breve.",
                Pt,
            ),
            (
                "Data Analytics costs US$ 1,200. You can pay by card, PayPal or bank transfer.",
                En,
            ),
        ];
        for (draft, language) in cases {
            assert_eq!(reason(draft, language), "language_matches", "{draft}");
        }
        for (draft, language) in [("Ok 👍", Es), ("¡Genial!", Pt), ("Dale, gracias", En)] {
            assert_eq!(reason(draft, language), "too_short_to_tell", "{draft}");
        }
    }

    #[test]
    fn drafts_in_another_language_hold() {
        let cases = [
            (
                "Hi! Thanks for writing to Aurora Academy. How can I help you?",
                Es,
            ),
            (
                "¡Hola! Gracias por escribir. ¿En qué puedo ayudarte con tu inscripción?",
                Pt,
            ),
            (
                "Olá! Obrigado por escrever. Como posso te ajudar com a sua inscrição?",
                Es,
            ),
            ("¡Hola! The course costs 1.100 € and starts next week.", Es),
            ("Olá! El curso cuesta R$ 1.490 y empieza pronto.", Pt),
            ("Sure! O curso custa R$ 1.490 e começa em janeiro.", En),
        ];
        for (draft, language) in cases {
            assert_eq!(reason(draft, language), "wrong_language", "{draft}");
        }
    }
}
