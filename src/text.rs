//! Text folding shared by the classifier, catalog matching and guardrails.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// The share of `before` a person rewrote to get `after`: 0 unchanged, 1 all new (normalised
/// Levenshtein distance over characters).
pub fn edit_share(before: &str, after: &str) -> f64 {
    1.0 - strsim::normalized_levenshtein(before, after)
}

/// Lowercases and strips accents, so "Información" and "informacion" compare equal.
pub fn fold(text: &str) -> String {
    text.nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Splits folded text into word tokens: runs of letters and digits, plus every emoji or other
/// symbol as a token of its own, since "👍" alone carries the whole meaning of a message.
pub fn tokens(folded: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    for c in folded.chars() {
        if c.is_alphanumeric() {
            word.push(c);
            continue;
        }
        if !word.is_empty() {
            out.push(std::mem::take(&mut word));
        }
        if !c.is_whitespace() && !c.is_ascii_punctuation() && !is_joiner(c) {
            out.push(c.to_string());
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

fn is_joiner(c: char) -> bool {
    matches!(
        c,
        '\u{200d}' | '\u{fe0f}' | '¿' | '¡' | '…' | '“' | '”' | '‘' | '’' | '«' | '»'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_accents_and_case() {
        assert_eq!(fold("Información ÁRVORE São"), "informacion arvore sao");
        assert_eq!(fold("ñandú"), "nandu");
    }

    #[test]
    fn tokens_keep_emoji() {
        assert_eq!(tokens(&fold("¡Hola! 👍 ¿cuánto?")), ["hola", "👍", "cuanto"]);
        assert_eq!(tokens("ok obrigado"), ["ok", "obrigado"]);
    }
}
