//! The knowledge base: courses, prices, markets and facts. Loaded once from the store and shared
//! read-only by the pipeline and the guardrails.

mod hours;

pub use hours::{Hours, Weekdays};

use crate::domain::{Currency, Language, Money};
use crate::text;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The demo workspace shipped with Tuesday, seeded into an empty database.
pub const DEMO_WORKSPACE: &str = include_str!("../../data/demo/workspace.toml");

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Catalog {
    pub brand: Brand,
    pub markets: Vec<Market>,
    pub courses: Vec<Course>,
    #[serde(default)]
    pub facts: BTreeMap<String, Localized>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Brand {
    pub name: String,
    pub website: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Localized {
    pub en: String,
    pub es: String,
    pub pt: String,
}

impl Localized {
    pub fn get(&self, language: Language) -> &str {
        match language {
            Language::En => &self.en,
            Language::Es => &self.es,
            Language::Pt => &self.pt,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Market {
    pub code: String,
    pub name: String,
    pub currency: Currency,
    pub timezone: chrono_tz::Tz,
    pub language: Language,
    pub phone_prefixes: Vec<String>,
    pub hours: Vec<Hours>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Modality {
    Live,
    SelfPaced,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Course {
    pub code: String,
    pub name: Localized,
    #[serde(default)]
    pub keywords: Vec<String>,
    pub weeks: u32,
    pub hours_per_week: u32,
    pub modality: Modality,
    pub next_start: NaiveDate,
    pub prices: Vec<Price>,
    /// Names, code and keywords folded and padded with spaces (" data science "), made on first
    /// use: every draft's guardrails look for courses, and folding each name each time was
    /// half of their cost.
    #[serde(skip)]
    pub(crate) terms: OnceLock<Vec<String>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Price {
    pub currency: Currency,
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    pub instalments: Option<Plan>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Plan {
    pub count: u32,
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
}

impl Catalog {
    pub fn from_toml(source: &str) -> anyhow::Result<Catalog> {
        let catalog: Catalog = toml::from_str(source)?;
        catalog.validate()?;
        Ok(catalog)
    }

    pub fn demo() -> anyhow::Result<Catalog> {
        Catalog::from_toml(DEMO_WORKSPACE)
    }

    fn validate(&self) -> anyhow::Result<()> {
        for course in &self.courses {
            for currency in Currency::ALL {
                anyhow::ensure!(
                    course.price(currency).is_some(),
                    "course {} has no price in {currency}",
                    course.code
                );
            }
        }
        anyhow::ensure!(
            !self.markets.is_empty(),
            "the workspace needs at least one market"
        );
        Ok(())
    }

    /// The market of a phone number in international form, by its longest matching prefix.
    pub fn market_for_phone(&self, phone: &str) -> Option<&Market> {
        let digits = phone.trim_start_matches('+');
        self.markets
            .iter()
            .flat_map(|m| m.phone_prefixes.iter().map(move |p| (p, m)))
            .filter(|(prefix, _)| digits.starts_with(prefix.as_str()))
            .max_by_key(|(prefix, _)| prefix.len())
            .map(|(_, m)| m)
    }

    pub fn market(&self, code: &str) -> Option<&Market> {
        self.markets.iter().find(|m| m.code == code)
    }

    /// The market assumed for a contact with no recognised phone prefix.
    pub fn default_market(&self, language: Language) -> &Market {
        self.markets
            .iter()
            .find(|m| m.language == language)
            .unwrap_or(&self.markets[0])
    }

    /// Courses named in a text, by name in any language, code or keyword, on whole words.
    pub fn find_courses(&self, text_in: &str) -> Vec<&Course> {
        let padded = format!(" {} ", text::tokens(&text::fold(text_in)).join(" "));
        self.courses
            .iter()
            .filter(|course| {
                course
                    .padded_terms()
                    .iter()
                    .any(|term| padded.contains(term.as_str()))
            })
            .collect()
    }

    pub fn fact(&self, topic: &str, language: Language) -> Option<&str> {
        self.facts.get(topic).map(|f| f.get(language))
    }
}

impl Course {
    pub fn price(&self, currency: Currency) -> Option<&Price> {
        self.prices.iter().find(|p| p.currency == currency)
    }

    /// Every amount a message may quote for this course in a currency: the total, and the
    /// instalment with its plan total.
    pub fn quotable_amounts(&self, currency: Currency) -> Vec<Money> {
        let Some(price) = self.price(currency) else {
            return Vec::new();
        };
        let mut amounts = vec![Money::new(price.amount, currency)];
        if let Some(plan) = &price.instalments {
            amounts.push(Money::new(plan.amount, currency));
            amounts.push(Money::new(plan.amount * Decimal::from(plan.count), currency));
        }
        amounts
    }

    fn padded_terms(&self) -> &[String] {
        self.terms.get_or_init(|| {
            [&self.name.en, &self.name.es, &self.name.pt, &self.code]
                .into_iter()
                .chain(self.keywords.iter())
                .map(|term| text::tokens(&text::fold(term)).join(" "))
                .filter(|term| !term.is_empty())
                .map(|term| format!(" {term} "))
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> Catalog {
        Catalog::demo().expect("demo workspace parses")
    }

    #[test]
    fn demo_workspace_is_complete() {
        let catalog = demo();
        assert!(catalog.courses.len() >= 8);
        for code in ["ES", "BR", "MX", "US"] {
            assert!(catalog.market(code).is_some(), "{code}");
        }
        assert!(
            catalog
                .courses
                .iter()
                .any(|c| c.prices.iter().any(|p| p.instalments.is_some()))
        );
        for topic in ["certificate", "modality", "payment", "requirements"] {
            for language in Language::ALL {
                assert!(catalog.fact(topic, language).is_some(), "{topic} {language}");
            }
        }
    }

    #[test]
    fn finds_courses_in_all_three_languages() {
        let catalog = demo();
        let cases = [
            ("cuanto cuesta el curso de analisis de datos?", "DA-101"),
            ("Quanto custa o curso de Análise de Dados?", "DA-101"),
            ("how much is the data analytics course", "DA-101"),
            ("me interesa DISEÑO UX/UI 😍", "UX-201"),
            ("quero fazer o bootcamp fullstack", "WEB-301"),
            ("python do zero tem certificado?", "PY-100"),
        ];
        for (text, code) in cases {
            let found: Vec<_> = catalog
                .find_courses(text)
                .iter()
                .map(|c| c.code.clone())
                .collect();
            assert!(found.contains(&code.to_owned()), "{text}: {found:?}");
        }
        assert!(catalog.find_courses("e aí, tudo bem? eu ia te ligar").is_empty());
    }

    #[test]
    fn market_by_phone_prefix() {
        let catalog = demo();
        assert_eq!(
            catalog.market_for_phone("5511987654321").map(|m| m.code.as_str()),
            Some("BR")
        );
        assert_eq!(
            catalog.market_for_phone("+34612345678").map(|m| m.code.as_str()),
            Some("ES")
        );
        assert_eq!(
            catalog.market_for_phone("16505551234").map(|m| m.code.as_str()),
            Some("US")
        );
        assert_eq!(
            catalog.market_for_phone("447700900123").map(|m| m.code.as_str()),
            None
        );
    }

    #[test]
    fn quotable_amounts_include_instalments_and_totals() {
        let catalog = demo();
        let course = catalog
            .courses
            .iter()
            .find(|c| c.code == "DA-101")
            .expect("course");
        let amounts: Vec<String> = course
            .quotable_amounts(Currency::Brl)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(amounts, ["R$ 5.988", "R$ 499", "R$ 5.988"]);
    }
}
