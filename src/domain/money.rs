//! Money: an exact decimal amount in one of the brand's currencies. Never f64.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "UPPERCASE")]
pub enum Currency {
    Usd,
    Eur,
    Brl,
    Mxn,
}

impl Currency {
    pub const ALL: [Currency; 4] = [Currency::Usd, Currency::Eur, Currency::Brl, Currency::Mxn];

    pub fn code(self) -> &'static str {
        match self {
            Currency::Usd => "USD",
            Currency::Eur => "EUR",
            Currency::Brl => "BRL",
            Currency::Mxn => "MXN",
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Currency::ALL
            .into_iter()
            .find(|c| c.code().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| anyhow::anyhow!("unknown currency {s:?}: expected USD, EUR, BRL or MXN"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    pub amount: Decimal,
    pub currency: Currency,
}

impl Money {
    pub fn new(amount: Decimal, currency: Currency) -> Self {
        Money {
            amount: amount.normalize(),
            currency,
        }
    }
}

/// Formats the way customers of each market write the currency: `US$ 1,200`, `1.100 €`,
/// `R$ 5.988`, `$21,600 MXN`. Cents are shown only when there are any.
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (thousands, decimal) = match self.currency {
            Currency::Usd | Currency::Mxn => (',', '.'),
            Currency::Eur | Currency::Brl => ('.', ','),
        };
        let number = group_digits(self.amount, thousands, decimal);
        match self.currency {
            Currency::Usd => write!(f, "US$ {number}"),
            Currency::Eur => write!(f, "{number} €"),
            Currency::Brl => write!(f, "R$ {number}"),
            Currency::Mxn => write!(f, "${number} MXN"),
        }
    }
}

fn group_digits(amount: Decimal, thousands: char, decimal: char) -> String {
    let rounded = amount.round_dp(2);
    let whole = rounded.trunc().abs().to_string();
    let cents = (rounded.fract().abs() * Decimal::from(100)).round();
    let mut grouped = String::new();
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(thousands);
        }
        grouped.push(digit);
    }
    if rounded.is_sign_negative() && !rounded.is_zero() {
        grouped.insert(0, '-');
    }
    if !cents.is_zero() {
        grouped.push(decimal);
        grouped.push_str(&format!("{cents:0>2}"));
    }
    grouped
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money(amount: &str, currency: Currency) -> Money {
        Money::new(amount.parse().expect("decimal"), currency)
    }

    #[test]
    fn formats_like_each_market() {
        let cases = [
            (money("1200", Currency::Usd), "US$ 1,200"),
            (money("1100", Currency::Eur), "1.100 €"),
            (money("5988", Currency::Brl), "R$ 5.988"),
            (money("99.90", Currency::Brl), "R$ 99,90"),
            (money("21600", Currency::Mxn), "$21,600 MXN"),
            (money("299", Currency::Usd), "US$ 299"),
            (money("1234567.5", Currency::Eur), "1.234.567,50 €"),
        ];
        for (value, want) in cases {
            assert_eq!(value.to_string(), want);
        }
    }
}
