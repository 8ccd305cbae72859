//! Language detection, restricted to es, pt and en. whatlang decides when it is sure; short or
//! unsure text falls back to tell-tale chat words, then to the conversation's earlier language.

use crate::domain::Language;
use crate::text;
use whatlang::{Detector, Lang};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Detection {
    pub language: Language,
    pub method: Method,
    /// whatlang's confidence in its own guess, 0 to 1.
    pub confidence: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// whatlang, and it called its answer reliable.
    Reliable,
    /// Words that belong to one language only ("obrigado", "gracias", "thanks").
    Lexicon,
    /// Too short or unsure: the language the conversation was already in.
    Conversation,
    /// whatlang's best guess, unreliable, with nothing better to go on.
    Guess,
    /// No letters at all (emoji, numbers): the market's language.
    Market,
}

impl Method {
    pub fn describe(self) -> &'static str {
        match self {
            Method::Reliable => "whatlang, reliable",
            Method::Lexicon => "chat-word lexicon (whatlang unsure)",
            Method::Conversation => "conversation's earlier language (text too short or unsure)",
            Method::Guess => "whatlang's unreliable best guess",
            Method::Market => "market language (no words to go on)",
        }
    }
}

/// Words that occur in one of the three languages and not the other two, accent-folded.
const LEXICON: [(Language, &[&str]); 3] = [
    (
        Language::Es,
        &[
            "hola",
            "gracias",
            "cuanto",
            "cuesta",
            "quiero",
            "precio",
            "buenas",
            "buenos",
            "vale",
            "porfa",
            "informacion",
            "necesito",
            "puedo",
            "tengo",
            "pero",
            "donde",
            "cuando",
            "usted",
            "ustedes",
            "tienen",
            "ahora",
            "hoy",
            "manana",
            "muy",
            "tambien",
            "soy",
            "estoy",
            "eso",
            "esto",
            "si",
            "inscribirme",
            "inscripcion",
            "clases",
            "asesor",
            "llamar",
            "quisiera",
            "gustaria",
            "mucho",
            "mi",
            "hijo",
            "hija",
            "dinero",
            "caro",
            "pagos",
            "cuotas",
            "ya",
            "luego",
            "nadie",
            "vos",
            "pasas",
            "mandame",
            "xfa",
            "dnd",
            "tmb",
            "neta",
            "chido",
            "orale",
        ],
    ),
    (
        Language::Pt,
        &[
            "oi",
            "ola",
            "obrigado",
            "obrigada",
            "valeu",
            "quanto",
            "custa",
            "quero",
            "voce",
            "vc",
            "vcs",
            "nao",
            "sim",
            "tudo",
            "bom",
            "boa",
            "preciso",
            "posso",
            "tenho",
            "onde",
            "quando",
            "agora",
            "hoje",
            "amanha",
            "muito",
            "tambem",
            "estou",
            "isso",
            "isto",
            "blz",
            "obg",
            "tb",
            "aulas",
            "inscricao",
            "consultor",
            "atendente",
            "gostaria",
            "pra",
            "pro",
            "meu",
            "minha",
            "filho",
            "filha",
            "dinheiro",
            "parcelas",
            "parcela",
            "ja",
            "depois",
            "ninguem",
            "manda",
            "kkkk",
            "kkk",
            "mto",
            "qnt",
            "pq",
            "beleza",
            "ta",
        ],
    ),
    (
        Language::En,
        &[
            "hi",
            "hello",
            "hey",
            "thanks",
            "thank",
            "thx",
            "how",
            "much",
            "what",
            "want",
            "the",
            "is",
            "are",
            "you",
            "your",
            "please",
            "pls",
            "can",
            "when",
            "where",
            "need",
            "have",
            "my",
            "i",
            "it",
            "this",
            "that",
            "yes",
            "info",
            "course",
            "price",
            "cost",
            "sign",
            "call",
            "someone",
            "talk",
            "stop",
            "money",
            "expensive",
            "payments",
            "already",
            "later",
            "nobody",
            "sure",
            "wanted",
            "send",
            "lmk",
            "asap",
            "u",
            "ur",
            "wanna",
            "gonna",
            "idk",
        ],
    ),
];

/// Detects the language of `message`. `earlier` is the conversation's language so far, and
/// `market` the language of the contact's market, if known.
pub fn detect(message: &str, earlier: Option<Language>, market: Option<Language>) -> Detection {
    let detector = Detector::with_allowlist(vec![Lang::Spa, Lang::Por, Lang::Eng]);
    let info = detector.detect(message);
    let guess = info.map(|i| (from_whatlang(i.lang()), i.confidence(), i.is_reliable()));
    if let Some((language, confidence, true)) = guess {
        return Detection {
            language,
            method: Method::Reliable,
            confidence,
        };
    }
    let confidence = guess.map_or(0.0, |g| g.1);
    let folded = text::fold(message);
    let words = text::tokens(&folded);
    if let Some(language) = lexicon_vote(&words) {
        return Detection {
            language,
            method: Method::Lexicon,
            confidence,
        };
    }
    if let Some(language) = earlier {
        return Detection {
            language,
            method: Method::Conversation,
            confidence,
        };
    }
    let has_letters = folded.chars().any(char::is_alphabetic);
    match guess {
        Some((language, _, _)) if has_letters => Detection {
            language,
            method: Method::Guess,
            confidence,
        },
        _ => Detection {
            language: market.unwrap_or(Language::En),
            method: Method::Market,
            confidence,
        },
    }
}

/// The language with the most lexicon hits, if it beats the runner-up.
fn lexicon_vote(words: &[String]) -> Option<Language> {
    let mut hits: Vec<(Language, usize)> = LEXICON
        .iter()
        .map(|(language, list)| {
            (
                *language,
                words.iter().filter(|w| list.contains(&w.as_str())).count(),
            )
        })
        .collect();
    hits.sort_by_key(|h| std::cmp::Reverse(h.1));
    (hits[0].1 > hits[1].1).then_some(hits[0].0)
}

fn from_whatlang(lang: Lang) -> Language {
    match lang {
        Lang::Por => Language::Pt,
        Lang::Eng => Language::En,
        _ => Language::Es,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Language::*;

    #[test]
    fn full_sentences() {
        let cases = [
            (
                "Hola, quisiera saber cuánto cuesta el curso de análisis de datos y cuándo empieza",
                Es,
            ),
            (
                "Olá, gostaria de saber quanto custa o curso de análise de dados e quando começa",
                Pt,
            ),
            (
                "Hello, I would like to know how much the data analytics course costs and when it starts",
                En,
            ),
        ];
        for (text, want) in cases {
            assert_eq!(detect(text, None, None).language, want, "{text}");
        }
    }

    #[test]
    fn short_chat_text_in_all_three_languages() {
        let cases = [
            ("hola", Es),
            ("gracias!!", Es),
            ("cuanto cuesta", Es),
            ("porfa mandame info", Es),
            ("oi", Pt),
            ("ok obrigado", Pt),
            ("quanto custa?", Pt),
            ("vc tem parcelas", Pt),
            ("hi", En),
            ("thx", En),
            ("how much", En),
            ("pls call me", En),
            ("holaaa cuanto questa el curzo", Es),
            ("oiii quero saber o preço 😍", Pt),
        ];
        for (text, want) in cases {
            assert_eq!(detect(text, None, None).language, want, "{text}");
        }
    }

    #[test]
    fn emoji_and_unknown_words_fall_back() {
        let got = detect("👍", Some(Pt), Some(Es));
        assert_eq!((got.language, got.method), (Pt, Method::Conversation));
        let got = detect("👍", None, Some(Es));
        assert_eq!((got.language, got.method), (Es, Method::Market));
        let got = detect("ok", Some(En), None);
        assert_eq!(got.language, En);
    }
}
