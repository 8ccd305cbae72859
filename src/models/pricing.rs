//! What a call costs: a price table per model (USD per million tokens) and the exact
//! arithmetic from a provider's usage. Decimal all the way; a token count times a price is
//! never rounded here.

use super::Usage;
use rust_decimal::Decimal;
use serde::Deserialize;
use std::collections::BTreeMap;

/// USD per million tokens for each kind of token a provider bills.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    #[serde(with = "rust_decimal::serde::str")]
    pub input: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub output: Decimal,
    /// Writing the prompt cache (Anthropic's 5-minute cache). OpenAI does not bill writes: 0.
    #[serde(with = "rust_decimal::serde::str")]
    pub cache_write: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub cache_read: Decimal,
}

/// Built-in prices, USD per million tokens: (model, input, output, cache write, cache read).
///
/// Looked up on 2026-12-03 in stored copies of the providers' public pages:
/// - Anthropic: platform.claude.com/docs/en/about-claude/pricing ("Model pricing"; the 5-minute
///   cache-write column) and the model pages platform.claude.com/docs/en/models/opus-5/overview
///   and …/models/sonnet-5/overview. Haiku 4.5's cache rates are the page's standard multipliers
///   (1.25× input to write, 0.1× to read).
/// - OpenAI: developers.openai.com/api/docs/pricing (standard tier, short context), as tabled
///   in June 2026 by morphllm.com/openai-api-pricing. OpenAI bills no cache writes; its
///   "cached input" is the cache-read column.
///
/// Prices change: override or add any model under `[routing.prices]`.
pub const BUILT_IN: [(&str, &str, &str, &str, &str); 11] = [
    ("claude-haiku-4-5", "1", "5", "1.25", "0.10"),
    ("claude-sonnet-4-5", "3", "15", "3.75", "0.30"),
    ("claude-sonnet-5", "2", "10", "2.50", "0.20"),
    ("claude-opus-4-5", "5", "25", "6.25", "0.50"),
    ("claude-opus-4-6", "5", "25", "6.25", "0.50"),
    ("claude-opus-5", "5", "25", "6.25", "0.50"),
    ("gpt-5.4-nano", "0.20", "1.25", "0", "0.02"),
    ("gpt-5.4-mini", "0.75", "4.50", "0", "0.075"),
    ("gpt-5.4", "2.50", "15", "0", "0.25"),
    ("gpt-5.5", "5", "30", "0", "0.50"),
    ("gpt-5.5-pro", "30", "180", "0", "30"),
];

/// The price table: configured prices first, then the built-in ones.
#[derive(Debug, Clone, Default)]
pub struct PriceTable {
    overrides: BTreeMap<String, Price>,
}

impl PriceTable {
    pub fn new(overrides: BTreeMap<String, Price>) -> PriceTable {
        PriceTable { overrides }
    }

    /// The price of `model`: an exact name, else the longest known name that `model` extends
    /// with a `-` suffix (a dated snapshot such as `claude-haiku-4-5-20251001`).
    pub fn get(&self, model: &str) -> Option<Price> {
        let known = self.known();
        if let Some(price) = known.get(model) {
            return Some(*price);
        }
        known
            .iter()
            .filter(|(name, _)| {
                model
                    .strip_prefix(name.as_str())
                    .is_some_and(|rest| rest.starts_with('-'))
            })
            .max_by_key(|(name, _)| name.len())
            .map(|(_, price)| *price)
    }

    fn known(&self) -> BTreeMap<String, Price> {
        let mut all: BTreeMap<String, Price> = BUILT_IN
            .iter()
            .filter_map(|(name, input, output, write, read)| {
                Some((
                    (*name).to_owned(),
                    Price {
                        input: input.parse().ok()?,
                        output: output.parse().ok()?,
                        cache_write: write.parse().ok()?,
                        cache_read: read.parse().ok()?,
                    },
                ))
            })
            .collect();
        all.extend(self.overrides.iter().map(|(k, v)| (k.clone(), *v)));
        all
    }
}

/// The exact cost of `usage` at `price`, in USD.
pub fn cost(usage: &Usage, price: &Price) -> Decimal {
    let million = Decimal::from(1_000_000);
    (Decimal::from(usage.input_tokens) * price.input
        + Decimal::from(usage.output_tokens) * price.output
        + Decimal::from(usage.cache_write_tokens) * price.cache_write
        + Decimal::from(usage.cache_read_tokens) * price.cache_read)
        / million
}

/// The most a call can cost: every prompt token billed at the dearer of input and cache-write,
/// and the whole output allowance used. What the budget reserves before the call.
pub fn worst_case(prompt_tokens_at_most: u64, max_output_tokens: u64, price: &Price) -> Decimal {
    let usage = Usage {
        input_tokens: prompt_tokens_at_most,
        output_tokens: max_output_tokens,
        ..Usage::default()
    };
    let dearest = Price {
        input: price.input.max(price.cache_write),
        ..*price
    };
    cost(&usage, &dearest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().expect("decimal")
    }

    #[test]
    fn built_in_prices_parse() {
        let table = PriceTable::default();
        for (name, ..) in BUILT_IN {
            assert!(table.get(name).is_some(), "{name}");
        }
    }

    #[test]
    fn dated_snapshots_find_their_model_and_overrides_win() {
        let mut overrides = BTreeMap::new();
        let custom = Price {
            input: d("0.5"),
            output: d("1"),
            cache_write: d("0"),
            cache_read: d("0"),
        };
        overrides.insert("llama-3.3-70b".to_owned(), custom);
        overrides.insert(
            "claude-sonnet-5".to_owned(),
            Price {
                input: d("9"),
                ..custom
            },
        );
        let table = PriceTable::new(overrides);
        assert_eq!(
            table.get("claude-haiku-4-5-20251001").map(|p| p.input),
            Some(d("1"))
        );
        // gpt-5.4-mini must not fall back to gpt-5.4.
        assert_eq!(table.get("gpt-5.4-mini").map(|p| p.input), Some(d("0.75")));
        assert_eq!(table.get("gpt-5.4-2026-03-05").map(|p| p.input), Some(d("2.50")));
        assert_eq!(table.get("llama-3.3-70b"), Some(custom));
        assert_eq!(table.get("claude-sonnet-5").map(|p| p.input), Some(d("9")));
        assert_eq!(table.get("claude-sonnet-55"), None);
        assert_eq!(table.get("unknown"), None);
    }

    /// Hand-computed: Sonnet 5 at $2 / $10 / $2.50 / $0.20 per million.
    /// 1,200 input × 2 = 2,400; 350 output × 10 = 3,500; 2,000 cache write × 2.5 = 5,000;
    /// 10,000 cache read × 0.2 = 2,000; total 12,900 µ$ = $0.0129.
    #[test]
    fn cost_adds_every_kind_of_token_exactly() {
        let price = PriceTable::default().get("claude-sonnet-5").expect("price");
        let usage = Usage {
            input_tokens: 1_200,
            output_tokens: 350,
            cache_write_tokens: 2_000,
            cache_read_tokens: 10_000,
        };
        assert_eq!(cost(&usage, &price), d("0.0129"));
        // One token of gpt-5.4-nano cache read: $0.02 / 1M = $0.00000002, not rounded away.
        let nano = PriceTable::default().get("gpt-5.4-nano").expect("price");
        let one = Usage {
            cache_read_tokens: 1,
            ..Usage::default()
        };
        assert_eq!(cost(&one, &nano), d("0.00000002"));
    }

    /// Haiku 4.5: 1,000 prompt tokens at the cache-write $1.25 + 200 output at $5 =
    /// 1,250 + 1,000 = 2,250 µ$.
    #[test]
    fn worst_case_bills_the_dearest_input_and_the_whole_allowance() {
        let haiku = PriceTable::default().get("claude-haiku-4-5").expect("price");
        assert_eq!(worst_case(1_000, 200, &haiku), d("0.00225"));
    }
}
