//! Accent- and case-folded text that remembers where each byte came from, so a rule can match
//! "garantizamos" against "GARANTIZÁMOS" and still report the span in the original draft; and
//! the small phrase language the policy file uses for its word lists.

use regex::Regex;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// `text::fold` of the original, with a map back to the original's byte offsets.
pub struct Folded {
    pub text: String,
    /// For each byte of `text`, the start and end of the original character it came from.
    starts: Vec<usize>,
    ends: Vec<usize>,
    original_len: usize,
}

impl Folded {
    pub fn new(original: &str) -> Folded {
        let mut text = String::with_capacity(original.len());
        let mut starts = Vec::with_capacity(original.len());
        let mut ends = Vec::with_capacity(original.len());
        for (at, c) in original.char_indices() {
            let end = at + c.len_utf8();
            // Typographic apostrophes fold to the plain one the policy writes.
            let c = if matches!(c, '\u{2019}' | '\u{2018}') {
                '\''
            } else {
                c
            };
            for folded in c
                .nfd()
                .filter(|d| !is_combining_mark(*d))
                .flat_map(char::to_lowercase)
            {
                text.push(folded);
                for _ in 0..folded.len_utf8() {
                    starts.push(at);
                    ends.push(end);
                }
            }
        }
        Folded {
            text,
            starts,
            ends,
            original_len: original.len(),
        }
    }

    /// The original byte range of the folded range `start..end`.
    pub fn span(&self, start: usize, end: usize) -> (usize, usize) {
        let from = self.starts.get(start).copied().unwrap_or(self.original_len);
        let to = match end.checked_sub(1).and_then(|last| self.ends.get(last)) {
            Some(&to) if end > start => to,
            _ => from,
        };
        (from, to)
    }
}

/// Byte ranges of the sentences in `text`: split after `.`, `!`, `?` or `…` followed by a space,
/// and at line breaks, so "18.01.2027" and "1.200 €" stay whole.
pub fn sentences(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let next_is_space = chars.peek().is_none_or(|(_, n)| n.is_whitespace());
        let ends = c == '\n' || (matches!(c, '.' | '!' | '?' | '…') && next_is_space);
        if ends {
            let end = i + c.len_utf8();
            if !text[start..end].trim().is_empty() {
                out.push((start, end));
            }
            start = end;
        }
    }
    if !text[start..].trim().is_empty() {
        out.push((start, text.len()));
    }
    out
}

/// Compiles a list of policy phrases into one regex over folded text.
///
/// A phrase is words separated by spaces, matched on whole words, accents and case ignored:
/// - `garantiz*` matches any ending: garantizo, garantizamos, garantizado;
/// - `(empleo|trabajo)` matches either; spaces inside the brackets are allowed;
/// - `word?` or `(a|b)?` makes that word optional; `[oa]` is one of those letters;
/// - `~` stands for up to three words of any kind.
///
/// Anything else (`%`, `.`, `'`) is matched literally.
///
/// Words are ASCII letters, digits and `_`: folding leaves es, pt and en text in ASCII
/// (á → a, ñ → n, ç → c), and Unicode's `\w` and `\b`, spelled out for every script, made
/// these automata tens of megabytes and kept matching off the fast DFA engine.
pub fn compile_phrases(phrases: &[String]) -> Result<Regex, String> {
    if phrases.is_empty() {
        // A list with nothing in it matches nothing.
        return Regex::new(r"[^\s\S]").map_err(|e| e.to_string());
    }
    let mut alternatives = Vec::with_capacity(phrases.len());
    for phrase in phrases {
        alternatives.push(compile_phrase(phrase)?);
    }
    let pattern = alternatives
        .iter()
        .map(|p| format!("(?:{p})"))
        .collect::<Vec<_>>()
        .join("|");
    Regex::new(&pattern).map_err(|e| e.to_string())
}

/// A word character of folded text, the space between two words, and a word's edge.
const WORD: &str = "[0-9A-Za-z_]";
const GAP: &str = "[^0-9A-Za-z_]+";
const BOUNDARY: &str = r"(?-u:\b)";

fn compile_phrase(phrase: &str) -> Result<String, String> {
    let folded = crate::text::fold(phrase.trim());
    let words = split_top_level(&folded);
    let Some(first) = words.first() else {
        return Err("an empty phrase".to_owned());
    };
    if *first == "~" || first.ends_with('?') {
        return Err(format!(
            "{phrase:?}: a phrase cannot start with `~` or an optional word"
        ));
    }
    if words.last().is_some_and(|w| *w == "~") {
        return Err(format!("{phrase:?}: a phrase cannot end with `~`"));
    }
    let mut out = String::new();
    if first.starts_with(|c: char| c.is_alphanumeric() || c == '(') {
        out.push_str(BOUNDARY);
    }
    for (i, word) in words.iter().enumerate() {
        if *word == "~" {
            out.push_str(&format!("(?:{GAP}{WORD}+){{0,3}}"));
            continue;
        }
        let (body, optional) = match word.strip_suffix('?') {
            Some(body) => (body, true),
            None => (*word, false),
        };
        let body = word_pattern(body).map_err(|e| format!("{phrase:?}: {e}"))?;
        match (i, optional) {
            (0, _) => out.push_str(&body),
            (_, true) => out.push_str(&format!("(?:{GAP}{body})?")),
            (_, false) => out.push_str(&format!("{GAP}{body}")),
        }
    }
    let last = words.last().copied().unwrap_or_default();
    if last.ends_with(|c: char| c.is_alphanumeric() || c == '*' || c == ')' || c == '?') {
        out.push_str(BOUNDARY);
    }
    Regex::new(&out).map_err(|e| format!("{phrase:?}: {e}"))?;
    Ok(out)
}

/// Splits on spaces outside brackets.
fn split_top_level(text: &str) -> Vec<&str> {
    let mut words = Vec::new();
    let (mut depth, mut start) = (0usize, None);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if c.is_whitespace() && depth == 0 {
            if let Some(s) = start.take() {
                words.push(&text[s..i]);
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        words.push(&text[s..]);
    }
    words
}

fn word_pattern(word: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut depth = 0usize;
    let mut in_space = false;
    let mut in_class = false;
    for c in word.chars() {
        if c.is_whitespace() {
            if !in_space {
                out.push_str(GAP);
            }
            in_space = true;
            continue;
        }
        in_space = false;
        match c {
            '*' => out.push_str(&format!("{WORD}*")),
            '(' => {
                depth += 1;
                out.push_str("(?:");
            }
            ')' => {
                depth = depth.checked_sub(1).ok_or("unbalanced `)`")?;
                out.push(')');
            }
            '|' => out.push('|'),
            '?' => out.push('?'),
            // A character class: `empregad[oa]`.
            '[' => {
                in_class = true;
                out.push('[');
            }
            ']' if in_class => {
                in_class = false;
                out.push(']');
            }
            c if in_class && c.is_alphanumeric() => out.push(c),
            c if c.is_alphanumeric() => out.push(c),
            c => out.push_str(&regex::escape(&c.to_string())),
        }
    }
    if depth != 0 || in_class {
        return Err("unbalanced `(` or `[`".to_owned());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(phrase: &str, text: &str) -> Option<String> {
        let regex = compile_phrases(&[phrase.to_owned()]).expect("compiles");
        let folded = Folded::new(text);
        regex.find(&folded.text).map(|m| {
            let (s, e) = folded.span(m.start(), m.end());
            text[s..e].to_owned()
        })
    }

    #[test]
    fn spans_point_into_the_original() {
        let folded = Folded::new("¡GARANTIZÁMOS éxito!");
        assert_eq!(folded.text, "¡garantizamos exito!");
        let at = folded.text.find("exito").expect("found");
        let (s, e) = folded.span(at, at + "exito".len());
        assert_eq!(&"¡GARANTIZÁMOS éxito!"[s..e], "éxito");
    }

    #[test]
    fn phrases_match_inflections_accents_and_gaps() {
        let cases: &[(&str, &str, Option<&str>)] = &[
            (
                "garantiz* ~ (empleo|trabajo)",
                "Te GARANTIZAMOS un buen empleo",
                Some("GARANTIZAMOS un buen empleo"),
            ),
            (
                "garantiz* ~ (empleo|trabajo)",
                "garantía de satisfacción en el trabajo",
                None,
            ),
            (
                "vaga (de emprego)? garantida",
                "vaga garantida!",
                Some("vaga garantida"),
            ),
            (
                "vaga (de emprego)? garantida",
                "vaga de emprego garantida",
                Some("vaga de emprego garantida"),
            ),
            ("100%", "éxito 100% seguro", Some("100%")),
            ("money back", "moneyback", None),
            ("aprob*", "aprobarás seguro", Some("aprobarás")),
            ("aprob*", "reprobado", None),
            ("contratad[oa]", "será contratada", Some("contratada")),
        ];
        for (phrase, text, want) in cases {
            assert_eq!(matches(phrase, text).as_deref(), *want, "{phrase} in {text}");
        }
    }

    #[test]
    fn sentences_keep_numbers_whole() {
        let text = "Empieza el 18.01.2027. Cuesta 1.200 €!\n¿Te interesa?";
        let got: Vec<&str> = sentences(text).iter().map(|&(s, e)| &text[s..e]).collect();
        assert_eq!(
            got,
            ["Empieza el 18.01.2027.", " Cuesta 1.200 €!", "¿Te interesa?"]
        );
    }

    #[test]
    fn bad_phrases_are_rejected() {
        for phrase in ["~ trabajo", "trabajo ~", "(a|b", "a)", "", "opcional? x"] {
            assert!(compile_phrases(&[phrase.to_owned()]).is_err(), "{phrase:?}");
        }
    }
}
