//! Finds money amounts in text the way es, pt and en customers write them: `US$ 1,200`,
//! `R$ 1.200,00`, `12x de R$ 99,90`, `1.200 €`, `1 200 €`, `€1.200`, `$2,500 MXN`, `USD 300`.
//! A separator followed by exactly three digits groups thousands, so Spanish `1.200 €` is
//! twelve hundred euros, never 1.2. Amounts in words and shorthand come from `words.rs`.

use super::words::find_word_amounts;
use crate::domain::{Currency, Money};
use regex::Regex;
use rust_decimal::Decimal;
use std::sync::LazyLock;

#[derive(Debug, Clone, PartialEq)]
pub struct FoundAmount {
    pub money: Money,
    /// Byte range in the text.
    pub span: (usize, usize),
}

const NUMBER: &str = r"\d{1,3}(?:[.,\u{a0}\u{202f} ]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?";
/// "1,2 mil", "1.5k": the number is in thousands.
const THOUSANDS: &str = r"(?:\s?(?:mil|k|thousand)\b)?";
const CODE: &str = r"USD|EUR|BRL|MXN";

static AMOUNT: LazyLock<Regex> = LazyLock::new(|| {
    let pattern = format!(
        r"(?i)(?P<pre>US\$|U\$S|R\$|MX\$|\$|€|\b(?:{CODE})\b)\s?(?P<n1>{NUMBER})(?P<k1>{THOUSANDS})(?:\s?(?P<post1>\b(?:{CODE})\b))?|\b(?P<n2>{NUMBER})(?P<k2>{THOUSANDS})\s?(?P<post2>€|(?:{CODE}|euros?|reais|real|d[oó]lares|dollars?|pesos)\b)"
    );
    Regex::new(&pattern).expect("the amount pattern is valid")
});

/// Every amount in `text`, in the order written. A bare `$`, or a bare number right after a
/// price word ("cuesta 999"), means `default_currency`, the contact's market currency.
pub fn find_amounts(text: &str, default_currency: Currency) -> Vec<FoundAmount> {
    let mut found: Vec<FoundAmount> = AMOUNT
        .captures_iter(text)
        .filter_map(|caps| {
            let whole = caps.get(0)?;
            let (number, thousands, unit) = match (caps.name("n1"), caps.name("n2")) {
                (Some(n), _) => (
                    n.as_str(),
                    caps.name("k1"),
                    caps.name("post1").or(caps.name("pre"))?.as_str(),
                ),
                (None, Some(n)) => (n.as_str(), caps.name("k2"), caps.name("post2")?.as_str()),
                _ => return None,
            };
            let currency = currency_of(unit).unwrap_or(default_currency);
            let mut amount = parse_number(number)?;
            if thousands.is_some_and(|k| !k.as_str().is_empty()) {
                // Past Decimal's range it is still an amount, and no catalog price: keep it,
                // at the largest value, for the price rule to flag.
                amount = amount.saturating_mul(Decimal::ONE_THOUSAND);
            }
            Some(FoundAmount {
                money: Money::new(amount, currency),
                span: (whole.start(), whole.end()),
            })
        })
        .collect();
    // A reading in words that covers more than the pattern's ("15 mil 900 pesos" against
    // "900 pesos") replaces it; otherwise the pattern's reading stands.
    for words in find_word_amounts(text, default_currency) {
        let (s, e) = words.span;
        let overlapping = |f: &FoundAmount| f.span.0 < e && s < f.span.1;
        let covers = |f: &FoundAmount| s <= f.span.0 && f.span.1 <= e && (s, e) != f.span;
        if found.iter().filter(|f| overlapping(f)).all(covers) {
            found.retain(|f| !overlapping(f));
            found.push(words);
        }
    }
    found.sort_by_key(|f| f.span);
    found
}

fn currency_of(unit: &str) -> Option<Currency> {
    let unit = unit.to_lowercase();
    Some(match unit.as_str() {
        "us$" | "u$s" | "usd" | "dollar" | "dollars" | "dólares" | "dolares" => Currency::Usd,
        "€" | "eur" | "euro" | "euros" => Currency::Eur,
        "r$" | "brl" | "real" | "reais" => Currency::Brl,
        "mx$" | "mxn" | "pesos" => Currency::Mxn,
        _ => return None,
    })
}

/// Reads `1.200`, `1,200.00`, `1.200,00`, `1 200` and `99,90`.
pub(super) fn parse_number(raw: &str) -> Option<Decimal> {
    let digits_after_last_mark = raw.rfind(['.', ',']).map(|i| raw.len() - i - 1);
    let mut normalised = String::with_capacity(raw.len());
    let decimal_at = match digits_after_last_mark {
        Some(1 | 2) => raw.rfind(['.', ',']),
        _ => None,
    };
    for (i, c) in raw.char_indices() {
        if c.is_ascii_digit() {
            normalised.push(c);
        } else if Some(i) == decimal_at {
            normalised.push('.');
        }
    }
    normalised.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use Currency::*;

    fn amounts(text: &str, default: Currency) -> Vec<String> {
        find_amounts(text, default)
            .iter()
            .map(|f| format!("{} {}", f.money.amount, f.money.currency))
            .collect()
    }

    /// Found by the money fuzzer: thousands of a number near Decimal's limit overflowed.
    #[test]
    fn a_number_too_big_for_thousands_is_the_largest_amount_not_a_panic() {
        let huge = "3333333333333333333333333333";
        for text in [
            format!("cuesta {huge} mil pesos"),
            format!("custa R$ {huge} mil 💸"),
            format!("it costs {huge}k USD"),
        ] {
            let found = find_amounts(&text, Mxn);
            assert!(
                found.iter().any(|f| f.money.amount == Decimal::MAX),
                "{text}: {:?}",
                amounts(&text, Mxn)
            );
        }
    }

    #[test]
    fn reads_every_market_format() {
        let cases: &[(&str, Currency, &[&str])] = &[
            ("$1,200.00", Usd, &["1200 USD"]),
            ("US$ 1,200", Brl, &["1200 USD"]),
            ("USD 300", Eur, &["300 USD"]),
            ("R$ 1.200,00", Usd, &["1200 BRL"]),
            ("R$1.200", Usd, &["1200 BRL"]),
            ("12x de R$ 99,90", Brl, &["99.9 BRL"]),
            ("1.200 €", Eur, &["1200 EUR"]),
            ("1\u{a0}200 €", Eur, &["1200 EUR"]),
            ("1\u{202f}200 €", Eur, &["1200 EUR"]),
            ("€1.200", Usd, &["1200 EUR"]),
            ("MXN 2,500", Usd, &["2500 MXN"]),
            ("$2,500 MXN", Usd, &["2500 MXN"]),
            ("cuesta $5,390", Mxn, &["5390 MXN"]),
            ("son 300 dólares", Eur, &["300 USD"]),
            ("são 1200 reais", Usd, &["1200 BRL"]),
            ("R$ 5.988 ou 12x de R$ 499", Brl, &["5988 BRL", "499 BRL"]),
            ("R$ 1,2 mil", Usd, &["1200 BRL"]),
            ("15 mil 900 pesos", Usd, &["15900 MXN"]),
            ("1,2 mil reais", Usd, &["1200 BRL"]),
            ("$1.5k", Usd, &["1500 USD"]),
            ("US$1.5K", Brl, &["1500 USD"]),
            ("trescientos dólares", Eur, &["300 USD"]),
            ("mil e duzentos reais", Usd, &["1200 BRL"]),
            ("cuesta 1.100 € o mil cien euros", Eur, &["1100 EUR", "1100 EUR"]),
        ];
        for (text, default, want) in cases {
            assert_eq!(amounts(text, *default), *want, "{text}");
        }
    }

    #[test]
    fn ignores_what_is_not_money() {
        for text in [
            "llámame al +34 612 345 678",
            "empieza el 12.05 a las 18:30",
            "20% de descuento",
            "el curso DA-101 dura 16 semanas",
            "me liga no (11) 98765-4321",
        ] {
            assert!(amounts(text, Usd).is_empty(), "{text}: {:?}", amounts(text, Usd));
        }
    }
}
