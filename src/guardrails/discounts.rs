//! Discounts only while a promotion runs, and never deeper than the policy allows for the
//! course: "20% de descuento", "desconto de R$ 500", "$200 off", "15 por ciento menos".

use super::folded::{Folded, sentences};
use super::{Context, Finding, find_amounts};
use crate::catalog::Course;
use crate::domain::Money;
use regex::Regex;
use rust_decimal::Decimal;
use std::sync::LazyLock;

const RULE: &str = "discounts";

static DISCOUNT_WORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"\b(?:descuentos?|dto|desconto|descontos|off|discount(?:s|ed)?|rebaj\w*|promo\w*|bonifica\w*|ahorr(?:as|a|o)|economiz\w*|save|saving)\b",
    )
    .expect("the discount word pattern is valid")
});

static PERCENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(\d{1,3}(?:[.,]\d{1,2})?)\s?(?:%|por ?ciento\b|por ?cento\b|percent\b|pct\b)")
        .expect("the percent pattern is valid")
});

static NEGATION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:sin|sem|no|nao|not|without|ningun|ninguno|nenhum|nenhuma|any)\W+(?:\w+\W+)?$")
        .expect("the negation pattern is valid")
});

#[derive(Debug, Clone, PartialEq)]
pub enum Offer {
    Percent(Decimal),
    AmountOff(Money),
}

/// The discounts a draft offers, with their spans in the draft.
pub fn offers(draft: &str, context: &Context<'_>) -> Vec<(Offer, (usize, usize))> {
    let folded = Folded::new(draft);
    let exceptions: Vec<(usize, usize)> = context
        .policy
        .promise_exceptions
        .find_iter(&folded.text)
        .map(|m| (m.start(), m.end()))
        .collect();
    let amounts = find_amounts(draft, context.currency);
    let mut found = Vec::new();
    for (start, end) in sentences(&folded.text) {
        let sentence = &folded.text[start..end];
        let cues: Vec<(usize, usize)> = DISCOUNT_WORD
            .find_iter(sentence)
            .filter(|m| !NEGATION.is_match(&sentence[..m.start()]))
            .map(|m| (start + m.start(), start + m.end()))
            .collect();
        for caps in PERCENT.captures_iter(sentence) {
            let (Some(whole), Some(number)) = (caps.get(0), caps.get(1)) else {
                continue;
            };
            let at = (start + whole.start(), start + whole.end());
            let Ok(percent) = number.as_str().replace(',', ".").parse::<Decimal>() else {
                continue;
            };
            let excepted = exceptions.iter().any(|&(s, e)| s <= at.0 && at.1 <= e);
            // "20% menos", "20% less", "-20%"
            let rest = sentence[whole.end()..].trim_start();
            let minus = sentence[..whole.start()].ends_with(['-', '\u{2212}']);
            let less = minus || rest.starts_with("menos") || rest.starts_with("less");
            if !excepted && (less || cues.iter().any(|&cue| near(&folded.text, at, cue))) {
                found.push((Offer::Percent(percent), folded.span(at.0, at.1)));
            }
        }
        for amount in &amounts {
            let Some(at) = folded_range(&folded, amount.span) else {
                continue;
            };
            if at.0 < start || at.1 > end {
                continue;
            }
            if cues.iter().any(|&cue| near(&folded.text, at, cue)) {
                found.push((Offer::AmountOff(amount.money), amount.span));
            }
        }
    }
    // An amount next to "descuento" may be the discounted price itself; only amounts small
    // enough to be a saving are amounts off, and the prices rule judges the rest.
    let courses = courses_in_question(draft, context);
    found.retain(|(offer, _)| match offer {
        Offer::Percent(_) => true,
        Offer::AmountOff(money) => courses.iter().any(|c| {
            c.price(money.currency)
                .is_some_and(|p| money.amount * Decimal::TWO <= p.amount)
        }),
    });
    found
}

/// At most four words between the number and the discount word, either side.
fn near(text: &str, at: (usize, usize), cue: (usize, usize)) -> bool {
    let between = if cue.0 >= at.1 {
        &text[at.1..cue.0]
    } else if at.0 >= cue.1 {
        &text[cue.1..at.0]
    } else {
        return false;
    };
    between.split_whitespace().count() <= 4
}

fn folded_range(folded: &Folded, span: (usize, usize)) -> Option<(usize, usize)> {
    // Folding only shortens text, so scan for the folded bytes that map into the span.
    let mut start = None;
    let mut end = None;
    for i in 0..folded.text.len() {
        let (s, e) = folded.span(i, i + 1);
        if s >= span.0 && e <= span.1 {
            start.get_or_insert(i);
            end = Some(i + 1);
        }
    }
    Some((start?, end?))
}

/// The courses a discount is about: those in the draft, else those in the thread, else all.
pub fn courses_in_question<'c>(draft: &str, context: &Context<'c>) -> Vec<&'c Course> {
    let catalog = context.catalog;
    let mut courses = catalog.find_courses(draft);
    if courses.is_empty() {
        courses = catalog.find_courses(context.thread);
    }
    if courses.is_empty() {
        courses = catalog.courses.iter().collect();
    }
    courses
}

/// The largest discount in percent the active promotions allow on a course, if any does.
pub fn max_percent(context: &Context<'_>, course: &Course) -> Option<Decimal> {
    let today = context.now.with_timezone(&context.timezone()).date_naive();
    context
        .policy
        .active_promotions(today)
        .filter_map(|p| p.max_for(&course.code))
        .max()
}

pub fn check(draft: &str, context: &Context<'_>) -> Vec<Finding> {
    let offers = offers(draft, context);
    if offers.is_empty() {
        return vec![Finding::pass(RULE, "no_discount", "no discount offered")];
    }
    let named_none = context.catalog.find_courses(draft).is_empty()
        && context.catalog.find_courses(context.thread).is_empty();
    let courses = courses_in_question(draft, context);
    let limits: Vec<(&Course, Option<Decimal>)> =
        courses.iter().map(|c| (*c, max_percent(context, c))).collect();
    let today = context.now.with_timezone(&context.timezone()).date_naive();
    let promotion_running = context.policy.active_promotions(today).next().is_some();
    let mut findings = Vec::new();
    for (offer, span) in offers {
        let text = &draft[span.0..span.1];
        if !promotion_running {
            findings.push(
                Finding::block(
                    RULE,
                    "no_active_promotion",
                    format!("\"{text}\": no promotion is running for this course today"),
                )
                .at(span),
            );
            continue;
        }
        // With no course named, "up to 15%" is true if any course in a promotion gets 15%.
        let allowed = |course: &Course, max: Option<Decimal>| match &offer {
            Offer::Percent(p) => max.is_some_and(|m| *p <= m),
            Offer::AmountOff(money) => course.price(money.currency).is_some_and(|price| {
                max.is_some_and(|m| money.amount <= price.amount * m / Decimal::ONE_HUNDRED)
            }),
        };
        let ok = if named_none {
            limits.iter().any(|(c, max)| allowed(c, *max))
        } else {
            limits.iter().all(|(c, max)| allowed(c, *max))
        };
        if !ok {
            let uncovered: Vec<&str> = limits
                .iter()
                .filter(|(_, max)| max.is_none())
                .map(|(c, _)| c.code.as_str())
                .collect();
            let (reason, why) = if !named_none && !uncovered.is_empty() {
                (
                    "no_promotion_for_course",
                    format!("no promotion covers {}", uncovered.join(", ")),
                )
            } else {
                (
                    "discount_over_maximum",
                    "deeper than the promotion allows".to_owned(),
                )
            };
            findings.push(Finding::block(RULE, reason, format!("\"{text}\": {why}")).at(span));
        }
    }
    if findings.is_empty() {
        findings.push(Finding::pass(
            RULE,
            "discount_within_promotion",
            "every discount is within a running promotion",
        ));
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Language;
    use crate::guardrails::Verdict::Block;
    use crate::guardrails::testing::{context, problems};

    fn verdict(draft: &str, market: &str, now: &str) -> Vec<&'static str> {
        let mut ctx = context(market, Language::Es);
        ctx.now = now.parse().expect("instant");
        problems(&check(draft, &ctx))
            .into_iter()
            .map(|(v, r)| {
                assert_eq!(v, Block);
                r
            })
            .collect()
    }

    const PROMO: &str = "2027-01-12T17:00:00Z";
    const NO_PROMO: &str = "2026-12-15T12:00:00Z";

    #[test]
    fn discounts_within_a_running_promotion_pass() {
        for (draft, market) in [
            ("Análisis de Datos tiene un 15% de descuento este mes.", "ES"),
            ("Data Analytics: 10 % off until Sunday.", "US"),
            ("Desenvolvimento Web com desconto de 15 por cento.", "BR"),
            ("Tenemos hasta 15% de descuento en algunos cursos.", "MX"),
            ("Análisis de Datos con un descuento de 165 €.", "ES"),
            ("Las clases son 100% online y no hay descuentos ahora.", "ES"),
            ("Python desde cero cuesta 279 €, sin descuento.", "ES"),
            ("El 80% de los alumnos termina el curso.", "ES"),
        ] {
            assert!(
                verdict(draft, market, PROMO).is_empty(),
                "{draft}: {:?}",
                verdict(draft, market, PROMO)
            );
        }
    }

    #[test]
    fn discounts_beyond_the_policy_block() {
        let cases = [
            (
                "Análisis de Datos con 20% de descuento",
                "ES",
                PROMO,
                "discount_over_maximum",
            ),
            ("Diseño UX/UI: 15% off", "ES", PROMO, "discount_over_maximum"),
            (
                "Python desde cero con 10% de descuento",
                "ES",
                PROMO,
                "no_promotion_for_course",
            ),
            (
                "Análise de Dados com 10% de desconto",
                "BR",
                NO_PROMO,
                "no_active_promotion",
            ),
            (
                "Data Analytics: save $300 today",
                "US",
                PROMO,
                "discount_over_maximum",
            ),
            (
                "20% de descuento en todos los cursos",
                "MX",
                PROMO,
                "discount_over_maximum",
            ),
            (
                "Te hago un 12,5% menos en Marketing Digital",
                "ES",
                PROMO,
                "no_promotion_for_course",
            ),
            ("Análisis de Datos -20% 🔥", "ES", PROMO, "discount_over_maximum"),
        ];
        for (draft, market, now, want) in cases {
            assert_eq!(verdict(draft, market, now), [want], "{draft}");
        }
    }
}
