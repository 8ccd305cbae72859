//! Chat words that belong to one of es, pt and en and to neither of the others, accent-folded.
//! They carry the short messages statistical models have never seen: "vc", "blz", "xfa", "thx".
//! A word that is a real word in another of the three languages ("vale" is also Portuguese,
//! "soy" also English, "preciso" also Spanish) does not belong here.

use crate::domain::Language;
use std::collections::HashMap;
use std::sync::LazyLock;

const SPANISH: &[&str] = &[
    "hola",
    "holis",
    "holi",
    "eres",
    "chau",
    "gracias",
    "graciass",
    "cuanto",
    "cuanta",
    "cuantos",
    "cuesta",
    "cuestan",
    "quiero",
    "quisiera",
    "gustaria",
    "precio",
    "precios",
    "buenas",
    "buenos",
    "porfa",
    "porfis",
    "xfa",
    "xfavor",
    "informacion",
    "necesito",
    "puedo",
    "tengo",
    "tienen",
    "tiene",
    "pero",
    "cuando",
    "usted",
    "ustedes",
    "ahora",
    "hoy",
    "manana",
    "muy",
    "tambien",
    "tmb",
    "estoy",
    "eso",
    "esto",
    "inscribirme",
    "inscripcion",
    "clases",
    "asesor",
    "llamar",
    "llamame",
    "llamen",
    "mucho",
    "muchas",
    "hijo",
    "hija",
    "dinero",
    "cuotas",
    "luego",
    "nadie",
    "mandame",
    "dnd",
    "neta",
    "chido",
    "orale",
    "dale",
    "bueno",
    "listo",
    "perfecto",
    "saludos",
    "disculpa",
    "oye",
    "pues",
    "quien",
    "hablar",
    "con",
    "el",
    "los",
    "las",
    "del",
    "y",
    "es",
    "jaja",
    "jajaja",
    "jajajaja",
    "jeje",
    "ok",
];

const PORTUGUESE: &[&str] = &[
    "oi",
    "oie",
    "oq",
    "td",
    "ola",
    "obrigado",
    "obrigada",
    "brigado",
    "brigada",
    "obg",
    "valeu",
    "vlw",
    "quanto",
    "quanta",
    "custa",
    "custam",
    "quero",
    "queria",
    "voce",
    "voces",
    "vc",
    "vcs",
    "nao",
    "tudo",
    "bom",
    "boa",
    "bem",
    "tenho",
    "onde",
    "quando",
    "agora",
    "hoje",
    "amanha",
    "muito",
    "muita",
    "mto",
    "tambem",
    "tbm",
    "estou",
    "isso",
    "isto",
    "blz",
    "beleza",
    "aulas",
    "inscricao",
    "atendente",
    "gostaria",
    "pra",
    "meu",
    "minha",
    "filho",
    "filha",
    "dinheiro",
    "parcelas",
    "parcela",
    "parcelado",
    "depois",
    "ninguem",
    "kkkk",
    "kkk",
    "kkkkk",
    "rs",
    "rsrs",
    "qnt",
    "pq",
    "entao",
    "tchau",
    "falou",
    "massa",
    "certo",
    "sim",
    "uma",
    "com",
    "das",
    "e",
    "ok",
];

const ENGLISH: &[&str] = &[
    "hi",
    "hello",
    "hey",
    "thanks",
    "thank",
    "thx",
    "tks",
    "ty",
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
    "plz",
    "can",
    "when",
    "where",
    "need",
    "have",
    "my",
    "i",
    "im",
    "it",
    "this",
    "that",
    "yes",
    "yeah",
    "yep",
    "nope",
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
    "and",
    "of",
    "for",
    "with",
    "cool",
    "great",
    "awesome",
    "bye",
    "okay",
    "lol",
    "haha",
    "hahaha",
    "got",
    "good",
    "morning",
    "evening",
    "ok",
];

/// Every listed word, with a bit per language that lists it (es 1, pt 2, en 4).
static WORDS: LazyLock<HashMap<&'static str, u8>> = LazyLock::new(|| {
    let mut words = HashMap::new();
    for (bit, list) in [(1, SPANISH), (2, PORTUGUESE), (4, ENGLISH)] {
        for word in list {
            *words.entry(*word).or_insert(0) |= bit;
        }
    }
    words
});

/// Counts, for each language, the tokens found in its list (a token in two lists, like "ok",
/// counts for both and so decides nothing). A stretched word ("oiii", "heyy") that is not
/// listed as written is looked up again without its stretch.
pub fn hits(tokens: &[String]) -> [(Language, usize); 3] {
    let mut counts = [0; 3];
    for token in tokens {
        let bits = WORDS
            .get(token.as_str())
            .or_else(|| WORDS.get(unstretch(token).as_str()))
            .copied()
            .unwrap_or(0);
        for (i, count) in counts.iter_mut().enumerate() {
            if bits & (1 << i) != 0 {
                *count += 1;
            }
        }
    }
    [
        (Language::Es, counts[0]),
        (Language::Pt, counts[1]),
        (Language::En, counts[2]),
    ]
}

/// The language with the most hits, if it beats the runner-up.
pub fn vote(hits: &[(Language, usize); 3]) -> Option<Language> {
    let mut counts = *hits;
    counts.sort_by_key(|c| std::cmp::Reverse(c.1));
    (counts[0].1 > counts[1].1).then_some(counts[0].0)
}

/// How many more hits `language` has than the best of the other two (0 when it has fewer).
pub fn margin(hits: &[(Language, usize); 3], language: Language) -> usize {
    let mine = hits.iter().find(|h| h.0 == language).map_or(0, |h| h.1);
    let others = hits
        .iter()
        .filter(|h| h.0 != language)
        .map(|h| h.1)
        .max()
        .unwrap_or(0);
    mine.saturating_sub(others)
}

/// "oiii" → "oi", "heyy" → "hey", "kkkkk" → "k": a run of three or more letters, or a
/// repeated last letter, becomes one. Runs of two inside a word stay ("belleza", "carro").
fn unstretch(token: &str) -> String {
    let chars: Vec<char> = token.chars().collect();
    let mut out = String::with_capacity(token.len());
    let mut i = 0;
    while i < chars.len() {
        let mut j = i;
        while j < chars.len() && chars[j] == chars[i] {
            j += 1;
        }
        let run = j - i;
        let keep = if run >= 3 || (run == 2 && j == chars.len()) {
            1
        } else {
            run
        };
        out.extend(std::iter::repeat_n(chars[i], keep));
        i = j;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn votes_only_on_a_clear_majority() {
        let cases = [
            ("vc tem parcelas", Some(Language::Pt)),
            ("porfa mandame info", Some(Language::Es)),
            ("pls call me", Some(Language::En)),
            ("ok", None),
            ("hola obrigado", None),
            ("zzz", None),
            ("oiii", Some(Language::Pt)),
            ("heyy", Some(Language::En)),
        ];
        for (text, want) in cases {
            assert_eq!(vote(&hits(&words(text))), want, "{text}");
        }
    }

    #[test]
    fn only_real_stretches_are_undone() {
        let cases = [
            ("oiii", "oi"),
            ("heyy", "hey"),
            ("holaaa", "hola"),
            ("kkkkk", "k"),
            ("belleza", "belleza"),
            ("parcella", "parcella"),
            ("good", "good"),
        ];
        for (stretched, want) in cases {
            assert_eq!(unstretch(stretched), want);
        }
    }

    #[test]
    fn no_word_is_listed_twice_except_shared_chat_words() {
        let shared = ["ok"];
        for (a, b) in [(SPANISH, PORTUGUESE), (SPANISH, ENGLISH), (PORTUGUESE, ENGLISH)] {
            for word in a {
                assert!(
                    !b.contains(word) || shared.contains(word),
                    "{word} is in two lists"
                );
            }
        }
    }
}
