//! Amounts the amount pattern can't see: numbers in words ("trescientos dólares", "mil e
//! duzentos reais", "twelve hundred dollars"), shorthand ("1.5k", "21 mil seiscientos pesos"),
//! and bare numbers right after a price word ("cuesta 999", "12x de 499"), which mean the
//! contact's market currency.

use super::amounts::{FoundAmount, parse_number};
use super::folded::Folded;
use super::money_words::{
    Part, currency_word, is_connector, is_filler, is_price_cue, is_unit, is_weak, part,
};
use crate::domain::{Currency, Money};
use rust_decimal::Decimal;

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Word,
    Number,
    Symbol(char),
}

#[derive(Debug, Clone)]
struct Token {
    kind: Kind,
    text: String,
    start: usize,
    end: usize,
}

fn tokenize(folded: &str) -> Vec<Token> {
    let chars: Vec<(usize, char)> = folded.char_indices().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let (start, c) = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let mut j = i + 1;
        let kind = if c.is_ascii_digit() {
            while j < chars.len() {
                let d = chars[j].1;
                let grouping = matches!(d, '.' | ',' | '\u{a0}' | '\u{202f}')
                    && chars.get(j + 1).is_some_and(|n| n.1.is_ascii_digit());
                if d.is_ascii_digit() || grouping {
                    j += 1;
                } else {
                    break;
                }
            }
            Kind::Number
        } else if c.is_alphabetic() {
            while j < chars.len() && chars[j].1.is_alphabetic() {
                j += 1;
            }
            Kind::Word
        } else {
            Kind::Symbol(c)
        };
        let end = chars.get(j).map_or(folded.len(), |n| n.0);
        tokens.push(Token {
            kind,
            text: folded[start..end].to_owned(),
            start,
            end,
        });
        i = j;
    }
    tokens
}

/// A run of number tokens: `tokens[first..last]` and its value.
struct Run {
    first: usize,
    last: usize,
    value: Decimal,
    /// Made only of "un", "one", "a": a number only with a currency right after.
    weak: bool,
}

fn read_run(tokens: &[Token], first: usize) -> Option<Run> {
    let is_word = |i: usize| tokens.get(i).filter(|t| t.kind == Kind::Word);
    let start = tokens.get(first)?;
    // Saturating: a number past Decimal's range is still an amount (and no catalog price).
    let (mut total, mut current) = (Decimal::ZERO, Decimal::ZERO);
    let mut i = first;
    let mut weak = true;
    match start.kind {
        Kind::Number => {
            current = parse_number(&start.text)?;
            weak = false;
            i += 1;
        }
        Kind::Word if start.text == "a" => {
            let next = is_word(first + 1)?;
            if !matches!(
                part(&next.text),
                Some(Part::Hundred | Part::Thousand | Part::Million)
            ) {
                return None;
            }
            current = Decimal::ONE;
            i += 1;
        }
        Kind::Word => {
            part(&start.text)?;
            if start.text == "k" {
                return None;
            }
        }
        Kind::Symbol(_) => return None,
    }
    let mut last = first;
    let mut after_multiplier = false;
    while let Some(token) = tokens.get(i) {
        let word = match token.kind {
            Kind::Word => token.text.as_str(),
            // "15 mil 900 pesos": hundreds in digits after the thousands.
            Kind::Number if after_multiplier && current.is_zero() => {
                match parse_number(&token.text).filter(|n| *n < Decimal::ONE_THOUSAND) {
                    Some(n) => {
                        current = n;
                        after_multiplier = false;
                        last = i;
                        i += 1;
                        continue;
                    }
                    None => break,
                }
            }
            // "twenty-one"
            Kind::Symbol('-') if is_word(i + 1).and_then(|t| part(&t.text)).is_some() => {
                i += 1;
                continue;
            }
            _ => break,
        };
        if is_connector(word) {
            match is_word(i + 1).and_then(|t| part(&t.text)) {
                Some(Part::Add(_)) => {
                    i += 1;
                    continue;
                }
                _ => break,
            }
        }
        let Some(p) = part(word) else { break };
        // "1.5k" is written without a space; "k" on its own is no number word.
        if word == "k" && tokens[i - 1].end != token.start {
            break;
        }
        after_multiplier = matches!(p, Part::Thousand | Part::Million);
        match p {
            Part::Add(n) => current = current.saturating_add(Decimal::from(n)),
            Part::Hundred => current = current.max(Decimal::ONE).saturating_mul(Decimal::ONE_HUNDRED),
            Part::Thousand => {
                total = total.saturating_add(current.max(Decimal::ONE).saturating_mul(Decimal::ONE_THOUSAND));
                current = Decimal::ZERO;
            }
            Part::Million => {
                total =
                    total.saturating_add(current.max(Decimal::ONE).saturating_mul(Decimal::from(1_000_000)));
                current = Decimal::ZERO;
            }
        }
        if !is_weak(word) {
            weak = false;
        }
        last = i;
        i += 1;
    }
    Some(Run {
        first,
        last,
        value: total.saturating_add(current),
        weak,
    })
}

/// The currency right after a run, and where it ends.
fn currency_after(tokens: &[Token], after: usize) -> Option<(Currency, usize)> {
    let next = tokens.get(after)?;
    match &next.kind {
        Kind::Symbol('€') => Some((Currency::Eur, next.end)),
        Kind::Word => {
            if let Some(c) = currency_word(&next.text) {
                return Some((c, next.end));
            }
            // "un millón de pesos"
            let then = tokens.get(after + 1)?;
            (next.text == "de")
                .then(|| currency_word(&then.text).map(|c| (c, then.end)))
                .flatten()
        }
        _ => None,
    }
}

/// The currency right before a run ("R$ mil", "USD 1.5k"), and where it starts.
fn currency_before(tokens: &[Token], first: usize, default: Currency) -> Option<(Currency, usize)> {
    let before = tokens.get(first.checked_sub(1)?)?;
    match &before.kind {
        Kind::Symbol('€') => Some((Currency::Eur, before.start)),
        Kind::Symbol('$') => {
            let prefix = first
                .checked_sub(2)
                .and_then(|i| tokens.get(i))
                .filter(|t| t.kind == Kind::Word && t.end == before.start);
            Some(match prefix.map(|t| t.text.as_str()) {
                Some("us" | "u") => (Currency::Usd, prefix.map_or(before.start, |t| t.start)),
                Some("r") => (Currency::Brl, prefix.map_or(before.start, |t| t.start)),
                Some("mx") => (Currency::Mxn, prefix.map_or(before.start, |t| t.start)),
                _ => (default, before.start),
            })
        }
        Kind::Word => currency_word(&before.text)
            .filter(|_| matches!(before.text.as_str(), "usd" | "eur" | "brl" | "mxn"))
            .map(|c| (c, before.start)),
        Kind::Number => None,
        Kind::Symbol(_) => None,
    }
}

fn after_price_cue(tokens: &[Token], first: usize) -> bool {
    let mut i = first;
    for _ in 0..=3 {
        let Some(prev) = i.checked_sub(1).and_then(|p| tokens.get(p)) else {
            return false;
        };
        if prev.kind != Kind::Word {
            return false;
        }
        if is_price_cue(&prev.text) {
            return true;
        }
        if !is_filler(&prev.text) {
            return false;
        }
        i -= 1;
    }
    false
}

/// Whether the token after a bare number makes it a time, date, percentage, code or count.
fn is_not_money_after(tokens: &[Token], last: usize) -> bool {
    let Some(next) = tokens.get(last + 1) else {
        return false;
    };
    match &next.kind {
        Kind::Symbol(c) => matches!(c, '%' | ':' | '/' | '-' | 'º' | 'ª' | '°'),
        Kind::Word => is_unit(&next.text) || is_month(&next.text),
        Kind::Number => false,
    }
}

fn is_month(word: &str) -> bool {
    super::dates::month_number(word).is_some()
}

/// Amounts in words, shorthand and cue-led bare numbers in `text`. Some overlap what the
/// amount pattern reads; `find_amounts` settles which reading wins.
pub fn find_word_amounts(text: &str, default: Currency) -> Vec<FoundAmount> {
    let folded = Folded::new(text);
    let tokens = tokenize(&folded.text);
    let mut found = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let Some(run) = read_run(&tokens, i) else {
            i += 1;
            continue;
        };
        let next = run.last + 1;
        let (span_start, span_end) = (tokens[run.first].start, tokens[run.last].end);
        let money = if let Some((currency, end)) = currency_after(&tokens, next) {
            Some((currency, span_start, end))
        } else if let Some((currency, start)) = currency_before(&tokens, run.first, default) {
            (!run.weak).then_some((currency, start, span_end))
        } else {
            // "1.5k" reads as money on its own; a plain number needs a price word before it.
            let thousands_shorthand = tokens[run.last].text == "k";
            let bare_is_price = !run.weak
                && !glued_to_previous(&tokens, run.first)
                && (thousands_shorthand || after_price_cue(&tokens, run.first))
                && !is_not_money_after(&tokens, run.last)
                && !looks_like_a_year(&tokens, &run);
            bare_is_price.then_some((default, span_start, span_end))
        };
        match money {
            Some((currency, start, end)) if !run.weak || currency_after(&tokens, next).is_some() => {
                found.push(FoundAmount {
                    money: Money::new(run.value, currency),
                    span: folded.span(start, end),
                });
                i = next;
            }
            _ => i = next.max(i + 1),
        }
    }
    found
}

/// "DA-101", "#300", "v2": a number stuck to what comes before it is a code, not a price.
fn glued_to_previous(tokens: &[Token], first: usize) -> bool {
    let Some(prev) = first.checked_sub(1).and_then(|p| tokens.get(p)) else {
        return false;
    };
    prev.end == tokens[first].start
        && matches!(prev.kind, Kind::Word | Kind::Symbol('-' | '#' | '/' | '.' | ':'))
}

fn looks_like_a_year(tokens: &[Token], run: &Run) -> bool {
    run.first == run.last
        && tokens[run.first].kind == Kind::Number
        && tokens[run.first].text.len() == 4
        && (Decimal::from(1900)..=Decimal::from(2100)).contains(&run.value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Currency::*;

    fn amounts(text: &str, default: Currency) -> Vec<String> {
        find_word_amounts(text, default)
            .iter()
            .map(|f| {
                format!(
                    "{} {} [{}]",
                    f.money.amount,
                    f.money.currency,
                    &text[f.span.0..f.span.1]
                )
            })
            .collect()
    }

    #[test]
    fn reads_amounts_in_words() {
        let cases: &[(&str, Currency, &[&str])] = &[
            ("son trescientos dólares", Eur, &["300 USD [trescientos dólares]"]),
            ("custa mil reais", Usd, &["1000 BRL [mil reais]"]),
            (
                "fica mil e duzentos reais",
                Usd,
                &["1200 BRL [mil e duzentos reais]"],
            ),
            (
                "cinco mil novecentos e oitenta e oito reais",
                Brl,
                &["5988 BRL [cinco mil novecentos e oitenta e oito reais]"],
            ),
            (
                "veintiún mil seiscientos pesos",
                Mxn,
                &["21600 MXN [veintiún mil seiscientos pesos]"],
            ),
            (
                "21 mil seiscientos pesos",
                Mxn,
                &["21600 MXN [21 mil seiscientos pesos]"],
            ),
            (
                "twelve hundred dollars",
                Eur,
                &["1200 USD [twelve hundred dollars]"],
            ),
            (
                "one thousand two hundred dollars",
                Eur,
                &["1200 USD [one thousand two hundred dollars]"],
            ),
            ("a thousand bucks", Eur, &["1000 USD [a thousand bucks]"]),
            (
                "it's two hundred ninety-nine dollars",
                Eur,
                &["299 USD [two hundred ninety-nine dollars]"],
            ),
            ("un millón de pesos", Mxn, &["1000000 MXN [un millón de pesos]"]),
            ("MIL CIEN EUROS", Usd, &["1100 EUR [MIL CIEN EUROS]"]),
            (
                "te sale en 15 mil 900 pesos",
                Mxn,
                &["15900 MXN [15 mil 900 pesos]"],
            ),
        ];
        for (text, default, want) in cases {
            assert_eq!(amounts(text, *default), *want, "{text}");
        }
    }

    #[test]
    fn reads_shorthand_and_bare_prices() {
        let cases: &[(&str, Currency, &[&str])] = &[
            ("cuesta 1.5k", Usd, &["1500 USD [1.5k]"]),
            ("custa 1,2 mil", Brl, &["1200 BRL [1,2 mil]"]),
            ("el curso cuesta 999", Eur, &["999 EUR [999]"]),
            ("12x de 499", Brl, &["499 BRL [499]"]),
            ("6 pagos de 3600", Mxn, &["3600 MXN [3600]"]),
            ("the fee is just 1,200", Usd, &["1200 USD [1,200]"]),
            ("cuesta mil cien", Eur, &["1100 EUR [mil cien]"]),
            ("está en 14.2k", Mxn, &["14200 MXN [14.2k]"]),
        ];
        for (text, default, want) in cases {
            assert_eq!(amounts(text, *default), *want, "{text}");
        }
    }

    #[test]
    fn leaves_what_is_not_money() {
        for text in [
            "dura dieciséis semanas",
            "un curso de mil horas",
            "mil gracias!",
            "cuesta un ojo de la cara",
            "el precio de 2027 se publica en diciembre",
            "12 cuotas sin interés",
            "son 8 horas por semana",
            "once you enrol you get access",
            "paga antes del 15 de enero",
            "cuesta 20% menos",
            "the price of DA-101 is in the link",
            "a hundred students finished it",
            "empieza a las 18:30",
            "one course, two teachers",
            "más de 5k alumnos",
        ] {
            assert!(amounts(text, Usd).is_empty(), "{text}: {:?}", amounts(text, Usd));
        }
    }
}
