//! Language detection, restricted to es, pt and en, cheapest evidence first: whatlang when it
//! calls its answer reliable (long text, microseconds); then letters only one language writes
//! (ñ, ã, ç); then chat words ("vc", "xfa", "thx"); then lingua's n-gram models (read by
//! `ngrams`, which gives lingua's answers several times faster), weighed by those chat words
//! and letters and tilted towards the conversation's earlier language when the message has
//! only one or two words.

mod lexicon;
mod ngrams;
mod orthography;

use crate::domain::Language;
use crate::text;
use std::sync::LazyLock;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Detection {
    pub language: Language,
    pub method: Method,
    /// The deciding method's confidence in its answer, 0 to 1.
    pub confidence: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// whatlang, and it called its answer reliable.
    Reliable,
    /// Letters only one of the three languages writes (ñ, ¿, ã, ç…).
    Spelling,
    /// Words that belong to one language only ("obrigado", "gracias", "thanks").
    Lexicon,
    /// whatlang's unsure guess on a longer text, confirmed by several one-language words.
    Agreement,
    /// lingua's n-gram models (es, pt and en only).
    Lingua,
    /// A one- or two-word message that lingua could not tell apart: the conversation's
    /// earlier language.
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
            Method::Spelling => "letters only one language writes",
            Method::Lexicon => "chat-word lexicon",
            Method::Agreement => "whatlang's guess, confirmed by one-language words",
            Method::Lingua => "lingua n-gram models",
            Method::Conversation => "conversation's earlier language (message too short to tell)",
            Method::Guess => "whatlang's unreliable best guess",
            Method::Market => "market language (no words to go on)",
        }
    }
}

/// Messages of at most this many words lean on the conversation's earlier language.
const PRIOR_MAX_WORDS: usize = 2;
/// How much more likely the earlier language is, a priori, than each of the other two: people
/// rarely switch language mid-conversation (20:1:1 is a 91 % chance of staying), and lingua's
/// confidence on words every language borrows ("ok" 0.84 English) must not outweigh that.
const PRIOR_WEIGHT: f64 = 20.0;
/// Spelling and chat words decide alone only on messages this short; on longer text a single
/// borrowed word ("São Paulo", "ok") must not outvote the rest.
const SHORT_MAX_WORDS: usize = 3;
/// How many more one-language words the guessed language needs than each other language before
/// whatlang's unsure guess on a longer text is taken without asking lingua.
const AGREEMENT_MARGIN: usize = 2;
/// How much one chat word of a language multiplies lingua's score for it, on longer text.
const LEXICON_BOOST: f64 = 3.0;
/// How much tell-tale letters multiply lingua's score for their language, on longer text.
const SPELLING_BOOST: f64 = 4.0;

/// The detectors, built once: reading lingua's models into a table takes a fraction of a second.
pub struct Detector {
    whatlang: whatlang::Detector,
    ngrams: ngrams::NgramModel,
}

static SHARED: LazyLock<Detector> = LazyLock::new(Detector::new);

impl Default for Detector {
    fn default() -> Self {
        Detector::new()
    }
}

impl Detector {
    pub fn new() -> Detector {
        Detector {
            whatlang: whatlang_allowlist(),
            ngrams: ngrams::NgramModel::load(),
        }
    }

    /// The process-wide detector. The first call reads lingua's models (a few hundred ms).
    pub fn shared() -> &'static Detector {
        &SHARED
    }

    /// Detects the language of `message`. `earlier` is the conversation's language so far, and
    /// `market` the language of the contact's market, if known.
    pub fn detect(&self, message: &str, earlier: Option<Language>, market: Option<Language>) -> Detection {
        let decided = |language, method, confidence| Detection {
            language,
            method,
            confidence,
        };
        let folded = text::fold(message);
        let words: Vec<String> = text::tokens(&folded)
            .into_iter()
            .filter(|t| t.chars().any(char::is_alphabetic))
            .collect();
        if words.is_empty() {
            return match earlier {
                Some(language) => decided(language, Method::Conversation, 0.0),
                None => decided(market.unwrap_or(Language::En), Method::Market, 0.0),
            };
        }
        let spelling = orthography::evidence(message);
        let hits = lexicon::hits(&words);
        let guess = self.whatlang.detect(message);
        if let Some(info) = guess.as_ref().filter(|i| i.is_reliable()) {
            let language = from_whatlang(info.lang());
            // A reliable whatlang is right 99.9 % of the time; the rest are odd texts (lists of
            // names, citations) where the function words still say otherwise.
            if lexicon::vote(&hits).is_none_or(|l| l == language) {
                return decided(language, Method::Reliable, info.confidence());
            }
        }
        if words.len() <= SHORT_MAX_WORDS {
            if let Some(language) = spelling.language() {
                return decided(language, Method::Spelling, 1.0);
            }
            if let Some(language) = lexicon::vote(&hits) {
                return decided(language, Method::Lexicon, 1.0);
            }
        } else if let Some(info) = &guess {
            // On longer text, whatlang's unsure guess is usually right when the function
            // words clearly agree; the n-gram models cost several times more, so only ask them
            // when the two disagree or the words say little.
            let language = from_whatlang(info.lang());
            if lexicon::margin(&hits, language) >= AGREEMENT_MARGIN
                && spelling.language().is_none_or(|l| l == language)
            {
                return decided(language, Method::Agreement, info.confidence());
            }
        }
        let lingua = self.lingua_scores(message);
        let weighed = weigh(&lingua, spelling, &hits);
        let prior = earlier.filter(|_| words.len() <= PRIOR_MAX_WORDS);
        let scores = match prior {
            Some(earlier) => with_prior(&weighed, earlier),
            None => weighed,
        };
        let Some((language, confidence)) = best(&scores) else {
            return match (prior, guess) {
                (Some(earlier), _) => decided(earlier, Method::Conversation, 0.0),
                (None, Some(info)) => decided(from_whatlang(info.lang()), Method::Guess, info.confidence()),
                (None, None) => decided(market.unwrap_or(Language::En), Method::Market, 0.0),
            };
        };
        // Name the evidence that chose the answer: lingua's own pick, or what overruled it.
        let method = if best(&lingua).map(|b| b.0) == Some(language) {
            Method::Lingua
        } else if best(&weighed).map(|b| b.0) != Some(language) {
            Method::Conversation
        } else if hits[index(language)].1 > 0 {
            Method::Lexicon
        } else {
            Method::Spelling
        };
        decided(language, method, confidence)
    }

    /// lingua's probability for each language, in `Language::ALL` order; all zero when its
    /// models know none of the message's n-grams.
    fn lingua_scores(&self, message: &str) -> [f64; 3] {
        self.ngrams.scores(message)
    }
}

/// Detects the language of `message` with the process-wide [`Detector`].
pub fn detect(message: &str, earlier: Option<Language>, market: Option<Language>) -> Detection {
    Detector::shared().detect(message, earlier, market)
}

/// whatlang restricted to es, pt and en: the "whatlang alone" baseline and our fast path.
pub fn whatlang_allowlist() -> whatlang::Detector {
    whatlang::Detector::with_allowlist(vec![
        whatlang::Lang::Spa,
        whatlang::Lang::Por,
        whatlang::Lang::Eng,
    ])
}

/// lingua itself with only the es, pt and en models, in high-accuracy mode: the "lingua alone"
/// baseline of the benchmark, and the yardstick `ngrams` is tested against.
pub fn lingua_three() -> lingua::LanguageDetector {
    lingua::LanguageDetectorBuilder::from_languages(&[
        lingua::Language::Spanish,
        lingua::Language::Portuguese,
        lingua::Language::English,
    ])
    .with_preloaded_language_models()
    .build()
}

/// Maps whatlang's answer (always one of the allowlist) to ours.
pub fn from_whatlang(lang: whatlang::Lang) -> Language {
    match lang {
        whatlang::Lang::Por => Language::Pt,
        whatlang::Lang::Eng => Language::En,
        _ => Language::Es,
    }
}

pub fn from_lingua(language: lingua::Language) -> Option<Language> {
    match language {
        lingua::Language::Spanish => Some(Language::Es),
        lingua::Language::Portuguese => Some(Language::Pt),
        lingua::Language::English => Some(Language::En),
        #[allow(unreachable_patterns)] // only three models are compiled in
        _ => None,
    }
}

fn index(language: Language) -> usize {
    Language::ALL.iter().position(|l| *l == language).unwrap_or(0)
}

/// The highest-scoring language, if any score is above zero.
fn best(scores: &[f64; 3]) -> Option<(Language, f64)> {
    Language::ALL
        .into_iter()
        .zip(scores.iter().copied())
        .filter(|(_, s)| *s > 0.0)
        .max_by(|a, b| a.1.total_cmp(&b.1))
}

/// lingua's scores, multiplied by the chat words and letters found for each language: each
/// lexicon hit and any tell-tale letter count as strong, independent evidence.
fn weigh(lingua: &[f64; 3], spelling: orthography::Evidence, hits: &[(Language, usize); 3]) -> [f64; 3] {
    let mut out = *lingua;
    for (score, (language, found)) in out.iter_mut().zip(hits) {
        *score *= LEXICON_BOOST.powi(i32::try_from(*found).unwrap_or(i32::MAX));
        if spelling.language() == Some(*language) {
            *score *= SPELLING_BOOST;
        }
        if *language == Language::En && spelling.not_english() {
            *score /= SPELLING_BOOST;
        }
    }
    normalise(out)
}

fn normalise(mut scores: [f64; 3]) -> [f64; 3] {
    let total: f64 = scores.iter().sum();
    if total > 0.0 {
        for s in &mut scores {
            *s /= total;
        }
    }
    scores
}

/// Bayes with the conversation's language as the prior, renormalised.
fn with_prior(scores: &[f64; 3], earlier: Language) -> [f64; 3] {
    let mut out = *scores;
    out[index(earlier)] *= PRIOR_WEIGHT;
    normalise(out)
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

    #[test]
    fn the_conversation_is_a_prior_for_one_or_two_words() {
        // Words every language uses take the conversation's language.
        for earlier in [Es, Pt, En] {
            for text in ["ok", "ok 👍", "link?", "python"] {
                let got = detect(text, Some(earlier), None);
                assert_eq!(got.language, earlier, "{text} after {earlier}");
            }
        }
        // Clear evidence wins over the prior.
        let cases = [
            ("obrigado", Es, Pt),
            ("gracias!!", Pt, Es),
            ("thank you", Pt, En),
            ("não", En, Pt),
        ];
        for (text, earlier, want) in cases {
            assert_eq!(detect(text, Some(earlier), None).language, want, "{text}");
        }
    }

    #[test]
    fn spelling_and_chat_words_decide_short_messages() {
        let cases = [
            ("¿y?", Es, Method::Spelling),
            ("ação", Pt, Method::Spelling),
            ("vlw", Pt, Method::Lexicon),
            ("xfa", Es, Method::Lexicon),
            ("thx", En, Method::Lexicon),
            ("oiii", Pt, Method::Lexicon),
        ];
        for (text, language, method) in cases {
            let got = detect(text, None, None);
            assert_eq!((got.language, got.method), (language, method), "{text}");
        }
    }

    #[test]
    fn one_borrowed_word_does_not_outvote_a_sentence() {
        let got = detect("quiero saber cuanto cuesta el curso en São Paulo", None, None);
        assert_eq!(got.language, Es);
        let got = detect("i need the price for the course in São Paulo please", None, None);
        assert_eq!(got.language, En);
    }
}
