//! Chat words that belong to one of es, pt and en and to neither of the others, accent-folded.
//! They carry the short messages statistical models have never seen: "vc", "blz", "xfa", "thx".
//! A word that is a real word in another of the three languages ("vale" is also Portuguese,
//! "soy" also English, "preciso" also Spanish) does not belong here.

use crate::domain::Language;

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

/// Counts, for each language, the tokens found in its list (a token in two lists, like "ok",
/// counts for both and so decides nothing). A stretched word ("oiii", "heyy") that is not
/// listed as written is looked up again with its repeated letters squeezed to one.
pub fn hits(tokens: &[String]) -> [(Language, usize); 3] {
    let squeezed: Vec<String> = tokens.iter().map(|t| squeeze(t)).collect();
    [
        (Language::Es, SPANISH),
        (Language::Pt, PORTUGUESE),
        (Language::En, ENGLISH),
    ]
    .map(|(language, list)| {
        let found = tokens
            .iter()
            .zip(&squeezed)
            .filter(|(t, s)| list.contains(&t.as_str()) || list.contains(&s.as_str()))
            .count();
        (language, found)
    })
}

/// The language with the most hits, if it beats the runner-up.
pub fn vote(hits: &[(Language, usize); 3]) -> Option<Language> {
    let mut counts = *hits;
    counts.sort_by_key(|c| std::cmp::Reverse(c.1));
    (counts[0].1 > counts[1].1).then_some(counts[0].0)
}

/// "oiii" → "oi", "heyy" → "hey": every run of a repeated letter becomes one.
fn squeeze(token: &str) -> String {
    let mut out = String::with_capacity(token.len());
    let mut last = None;
    for c in token.chars() {
        if Some(c) != last {
            out.push(c);
        }
        last = Some(c);
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
