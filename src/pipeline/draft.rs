//! Drafting from the knowledge base: a per-intent, per-language template filled with catalog
//! facts. Every price in a draft comes from the catalog, in the contact's market currency.

use crate::catalog::{Catalog, Course, Localized, Market};
use crate::domain::{Intent, Language, Money};
use chrono::{Datelike, NaiveDate};
use std::collections::BTreeMap;

pub const DEMO_REPLIES: &str = include_str!("../../data/demo/replies.toml");

/// The reply templates, keyed by intent name or `<intent>_generic`.
pub struct Replies {
    templates: BTreeMap<String, Localized>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub body: String,
    /// The template used, for the trace.
    pub template: String,
    /// Catalog codes of the courses the draft is about.
    pub courses: Vec<String>,
}

impl Replies {
    pub fn from_toml(source: &str) -> anyhow::Result<Replies> {
        let templates: BTreeMap<String, Localized> = toml::from_str(source)?;
        for intent in Intent::DEFAULTS {
            anyhow::ensure!(
                templates.contains_key(intent.as_str()),
                "no reply template for intent {intent}"
            );
        }
        Ok(Replies { templates })
    }

    pub fn demo() -> anyhow::Result<Replies> {
        Replies::from_toml(DEMO_REPLIES)
    }
}

/// Writes the reply to a message of `intent` in `language` for a contact in `market`.
pub fn compose(
    replies: &Replies,
    catalog: &Catalog,
    language: Language,
    intent: Intent,
    inbound: &str,
    market: &Market,
) -> Draft {
    let courses = catalog.find_courses(inbound);
    let course = (courses.len() == 1).then(|| courses[0]);
    let generic = format!("{}_generic", intent.as_str());
    let key = if course.is_none() && replies.templates.contains_key(&generic) {
        generic
    } else if replies.templates.contains_key(intent.as_str()) {
        intent.as_str().to_owned()
    } else {
        // A label the workspace added has no template of its own: the catch-all reply, which
        // decide holds for a person unless the workspace lets that label auto-send.
        Intent::Other.as_str().to_owned()
    };
    let template = replies
        .templates
        .get(&key)
        .map(|t| t.get(language))
        .unwrap_or_default();
    let mut body = fill(template, catalog, language, market, course);
    body = body
        .split(' ')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let courses = match course {
        Some(c) => vec![c.code.clone()],
        None if template.contains("{price_list}") || template.contains("{course_list}") => {
            catalog.courses.iter().map(|c| c.code.clone()).collect()
        }
        None => Vec::new(),
    };
    Draft {
        body,
        template: key,
        courses,
    }
}

fn fill(
    template: &str,
    catalog: &Catalog,
    language: Language,
    market: &Market,
    course: Option<&Course>,
) -> String {
    let mut out = template.replace("{brand}", &catalog.brand.name);
    if template.contains("{price_list}") {
        let lines: Vec<String> = catalog
            .courses
            .iter()
            .map(|c| {
                format!(
                    "• {}: {}{}",
                    c.name.get(language),
                    price(c, market),
                    plan(c, market, language)
                )
            })
            .collect();
        out = out.replace("{price_list}", &lines.join("\n"));
    }
    if template.contains("{course_list}") {
        let lines: Vec<String> = catalog
            .courses
            .iter()
            .map(|c| {
                format!(
                    "• {} ({} {})",
                    c.name.get(language),
                    c.weeks,
                    weeks_word(language)
                )
            })
            .collect();
        out = out.replace("{course_list}", &lines.join("\n"));
    }
    if let Some(course) = course {
        out = out
            .replace("{course}", course.name.get(language))
            .replace("{price}", &price(course, market))
            .replace("{plan}", &plan(course, market, language))
            .replace("{weeks}", &course.weeks.to_string())
            .replace("{hours}", &course.hours_per_week.to_string())
            .replace("{start}", &long_date(course.next_start, language));
    }
    for (topic, text) in &catalog.facts {
        out = out.replace(&format!("{{fact.{topic}}}"), text.get(language));
    }
    out
}

fn price(course: &Course, market: &Market) -> String {
    course
        .price(market.currency)
        .map(|p| Money::new(p.amount, p.currency).to_string())
        .unwrap_or_default()
}

fn plan(course: &Course, market: &Market, language: Language) -> String {
    let Some(plan) = course.price(market.currency).and_then(|p| p.instalments.as_ref()) else {
        return String::new();
    };
    let amount = Money::new(plan.amount, market.currency);
    match language {
        Language::Es => format!(" o {} pagos de {amount}", plan.count),
        Language::Pt => format!(" ou {}x de {amount}", plan.count),
        Language::En => format!(" or {} payments of {amount}", plan.count),
    }
}

fn weeks_word(language: Language) -> &'static str {
    match language {
        Language::Es => "semanas",
        Language::Pt => "semanas",
        Language::En => "weeks",
    }
}

fn long_date(date: NaiveDate, language: Language) -> String {
    const ES: [&str; 12] = [
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ];
    const PT: [&str; 12] = [
        "janeiro",
        "fevereiro",
        "março",
        "abril",
        "maio",
        "junho",
        "julho",
        "agosto",
        "setembro",
        "outubro",
        "novembro",
        "dezembro",
    ];
    const EN: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let month = date.month0() as usize;
    match language {
        Language::Es => format!("{} de {} de {}", date.day(), ES[month], date.year()),
        Language::Pt => format!("{} de {} de {}", date.day(), PT[month], date.year()),
        Language::En => format!("{} {}, {}", EN[month], date.day(), date.year()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (Replies, Catalog) {
        (
            Replies::demo().expect("replies"),
            Catalog::demo().expect("catalog"),
        )
    }

    #[test]
    fn every_template_is_filled_in_every_language() {
        let (replies, catalog) = setup();
        for market in &catalog.markets {
            for language in Language::ALL {
                for intent in Intent::DEFAULTS {
                    for inbound in ["hola", "quanto custa o curso de python do zero?"] {
                        let draft = compose(&replies, &catalog, language, intent, inbound, market);
                        assert!(!draft.body.contains('{'), "{intent} {language}: {}", draft.body);
                        assert!(!draft.body.is_empty());
                    }
                }
            }
        }
    }

    #[test]
    fn prices_come_from_the_catalog_in_the_market_currency() {
        let (replies, catalog) = setup();
        let brazil = catalog.market("BR").expect("BR");
        let draft = compose(
            &replies,
            &catalog,
            Language::Pt,
            Intent::Pricing,
            "quanto custa análise de dados?",
            brazil,
        );
        assert_eq!(draft.template, "pricing");
        assert!(draft.body.contains("R$ 5.988 ou 12x de R$ 499"), "{}", draft.body);
        let spain = catalog.market("ES").expect("ES");
        let draft = compose(
            &replies,
            &catalog,
            Language::Es,
            Intent::Pricing,
            "precio de python?",
            spain,
        );
        assert!(draft.body.contains("279 €"), "{}", draft.body);
        let us = catalog.market("US").expect("US");
        let draft = compose(
            &replies,
            &catalog,
            Language::En,
            Intent::CourseInfo,
            "when does UX start",
            us,
        );
        assert!(draft.body.contains("February 1, 2027"), "{}", draft.body);
    }

    #[test]
    fn no_course_named_lists_them_all() {
        let (replies, catalog) = setup();
        let mexico = catalog.market("MX").expect("MX");
        let draft = compose(
            &replies,
            &catalog,
            Language::Es,
            Intent::Pricing,
            "cuanto cuestan?",
            mexico,
        );
        assert_eq!(draft.template, "pricing_generic");
        assert_eq!(draft.courses.len(), catalog.courses.len());
        assert!(draft.body.contains("$5,390 MXN"), "{}", draft.body);
    }
}
