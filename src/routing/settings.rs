//! `[routing]` settings: providers, the models of each tier, prices, thresholds and budgets.
//! Everything has a default; with no provider configured Tuesday runs on the local tier alone.

use super::Tier;
use crate::models::{Price, PriceTable, ProviderSettings};
use rust_decimal::Decimal;
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RoutingSettings {
    /// Providers by name. A tier entry names one of them.
    pub providers: BTreeMap<String, ProviderSettings>,
    pub tiers: TierSettings,
    /// Prices per model, USD per million tokens, over the built-in table (see README).
    pub prices: BTreeMap<String, Price>,
    /// Classification escalates from local to fast when the local confidence is below this (τ0).
    pub tau0: f64,
    /// … and from fast to standard when fast's own confidence is below this (τ1).
    pub tau1: f64,
    /// What drafts simple messages (greetings, opt-outs, plain price questions).
    pub simple_drafts: SimpleDrafts,
    /// A price question longer than this many characters is not "plain".
    pub plain_question_max_chars: usize,
    /// A conversation with at least this many messages is a long thread: drafted on flagship.
    pub long_thread_messages: i64,
    /// A contact asking about a course with a USD list price at least this is a high-value lead.
    #[serde(with = "rust_decimal::serde::str")]
    pub high_value_usd: Decimal,
    /// A previous draft changed by at least this share of its characters was heavily edited.
    pub heavy_edit_ratio: f64,
    /// Output allowance of a classification call, in tokens.
    pub classify_max_tokens: u32,
    /// Output allowance of a drafting call, in tokens.
    pub draft_max_tokens: u32,
    pub budget: BudgetSettings,
}

/// The ordered provider/model entries of each hosted tier. `local` (the built-in classifier
/// and the reply templates) is always there and needs no entry.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TierSettings {
    pub fast: Vec<ModelEntry>,
    pub standard: Vec<ModelEntry>,
    pub flagship: Vec<ModelEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelEntry {
    pub provider: String,
    pub model: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SimpleDrafts {
    Templates,
    Fast,
}

/// Daily and monthly spend limits for the workspace, in USD, counted per UTC day and month.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BudgetSettings {
    #[serde(with = "rust_decimal::serde::str")]
    pub daily_usd: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub monthly_usd: Decimal,
    /// Shares of a budget at which the highest tier allowed drops to standard, to fast, and to
    /// local. Whatever the share, a call whose worst-case cost does not fit is never made.
    pub step_down_at: [f64; 3],
    /// Where the all-standard and all-flagship baselines take their prices when those tiers
    /// have no model configured.
    pub baseline_standard_model: String,
    pub baseline_flagship_model: String,
}

impl Default for RoutingSettings {
    fn default() -> Self {
        RoutingSettings {
            providers: BTreeMap::new(),
            tiers: TierSettings::default(),
            prices: BTreeMap::new(),
            // Chosen with the routing benchmark (docs/BENCHMARKS.md, "Tiered routing"): the
            // lowest τ0 whose routed accuracy still matches the all-standard run.
            tau0: 0.39,
            tau1: 0.7,
            simple_drafts: SimpleDrafts::Templates,
            plain_question_max_chars: 160,
            long_thread_messages: 12,
            high_value_usd: Decimal::from(1_000),
            heavy_edit_ratio: 0.4,
            classify_max_tokens: 200,
            draft_max_tokens: 800,
            budget: BudgetSettings::default(),
        }
    }
}

impl Default for BudgetSettings {
    fn default() -> Self {
        BudgetSettings {
            daily_usd: Decimal::from(25),
            monthly_usd: Decimal::from(500),
            step_down_at: [0.8, 0.9, 0.97],
            baseline_standard_model: "claude-sonnet-5".to_owned(),
            baseline_flagship_model: "claude-opus-5".to_owned(),
        }
    }
}

impl TierSettings {
    /// Every hosted entry, tier after tier.
    pub fn all_entries(&self) -> Vec<&ModelEntry> {
        self.fast
            .iter()
            .chain(&self.standard)
            .chain(&self.flagship)
            .collect()
    }

    pub fn entries(&self, tier: Tier) -> &[ModelEntry] {
        match tier {
            Tier::Local => &[],
            Tier::Fast => &self.fast,
            Tier::Standard => &self.standard,
            Tier::Flagship => &self.flagship,
        }
    }
}

impl RoutingSettings {
    pub fn price_table(&self) -> PriceTable {
        PriceTable::new(self.prices.clone())
    }

    /// Tiers with at least one model, in order.
    pub fn configured_tiers(&self) -> Vec<Tier> {
        Tier::HOSTED
            .into_iter()
            .filter(|t| !self.tiers.entries(*t).is_empty())
            .collect()
    }

    /// The model a baseline prices tokens at: the tier's first model, else the fallback.
    pub fn baseline_model(&self, tier: Tier) -> &str {
        match self.tiers.entries(tier).first() {
            Some(entry) => &entry.model,
            None if tier == Tier::Flagship => &self.budget.baseline_flagship_model,
            None => &self.budget.baseline_standard_model,
        }
    }

    /// Checks what serde cannot: thresholds in range, every entry's provider exists, and
    /// every model has a price, so no call's cost is ever unknown.
    pub fn validate(&self) -> anyhow::Result<()> {
        for (name, value) in [
            ("tau0", self.tau0),
            ("tau1", self.tau1),
            ("heavy_edit_ratio", self.heavy_edit_ratio),
        ] {
            anyhow::ensure!(
                (0.0..=1.0).contains(&value),
                "routing.{name} must be between 0 and 1"
            );
        }
        let steps = self.budget.step_down_at;
        anyhow::ensure!(
            steps.iter().all(|s| (0.0..=1.0).contains(s)) && steps[0] <= steps[1] && steps[1] <= steps[2],
            "routing.budget.step_down_at must be three rising shares between 0 and 1"
        );
        anyhow::ensure!(
            self.budget.daily_usd >= Decimal::ZERO && self.budget.monthly_usd >= Decimal::ZERO,
            "routing.budget limits cannot be negative"
        );
        let prices = self.price_table();
        for tier in Tier::HOSTED {
            for entry in self.tiers.entries(tier) {
                anyhow::ensure!(
                    self.providers.contains_key(&entry.provider),
                    "routing.tiers.{tier}: provider {:?} is not under [routing.providers]",
                    entry.provider
                );
                anyhow::ensure!(
                    prices.get(&entry.model).is_some(),
                    "routing.tiers.{tier}: model {:?} has no price; add [routing.prices.\"{}\"]",
                    entry.model,
                    entry.model
                );
            }
        }
        for tier in [Tier::Standard, Tier::Flagship] {
            let model = self.baseline_model(tier);
            anyhow::ensure!(
                prices.get(model).is_some(),
                "the {tier} baseline model {model:?} has no price"
            );
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail's closures return figment::Error
mod tests {
    use crate::config::Settings;
    use secrecy::ExposeSecret;
    use std::path::Path;

    #[test]
    fn tiers_come_from_the_file_and_keys_from_the_environment() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "tuesday.toml",
                r#"
[routing.providers.anthropic]
[routing.providers.vllm]
kind = "openai"
base_url = "http://127.0.0.1:8000"
[routing.tiers]
fast = [{ provider = "vllm", model = "llama-3.3-70b" }]
standard = [{ provider = "anthropic", model = "claude-sonnet-5" }]
[routing.prices."llama-3.3-70b"]
input = "0.6"
output = "0.6"
cache_write = "0"
cache_read = "0"
[routing.budget]
daily_usd = "5.50"
"#,
            )?;
            jail.set_env(
                "TUESDAY_ROUTING__PROVIDERS__ANTHROPIC__API_KEY",
                "sk-ant-from-env",
            );
            let settings = Settings::load(Path::new("tuesday.toml")).expect("loads");
            let routing = &settings.routing;
            let key = routing.providers["anthropic"].api_key.as_ref().expect("key");
            assert_eq!(key.expose_secret(), "sk-ant-from-env");
            assert_eq!(routing.tiers.fast[0].model, "llama-3.3-70b");
            assert_eq!(routing.budget.daily_usd.to_string(), "5.50");
            assert_eq!(routing.budget.monthly_usd.to_string(), "500");
            assert!(!format!("{settings:?}").contains("sk-ant-from-env"));
            crate::routing::ModelRouter::new(routing).expect("the router builds");
            Ok(())
        });
    }

    #[test]
    fn a_model_without_a_price_is_refused_at_start_up() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "tuesday.toml",
                "[routing.providers.openai]\n[routing.tiers]\nfast = [{ provider = \"openai\", model = \"gpt-9\" }]",
            )?;
            let err = Settings::load(Path::new("tuesday.toml")).expect_err("no price for gpt-9");
            assert!(format!("{err:#}").contains("gpt-9"), "{err:#}");
            Ok(())
        });
    }
}
