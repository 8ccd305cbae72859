//! No invented prices: every amount in a draft must be a catalog price, instalment or plan
//! total, in that currency, of a course named in the draft or the customer's messages. While
//! a promotion runs, the course's prices after a whole-percent discount up to its maximum
//! count too; a saving next to "descuento" is the discounts rule's to judge.

use super::discounts::{self, Offer};
use super::{Context, Finding, find_amounts};
use crate::catalog::Course;
use crate::domain::{Currency, Money};
use regex::Regex;
use rust_decimal::Decimal;
use std::sync::LazyLock;

const RULE: &str = "prices";

/// "12x de", "6 pagos de", "12 payments of" right before an amount: an instalment plan, whose
/// count must match the catalog's too.
static PLAN_COUNT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(\d{1,2})\s?(?:x|vezes|veces|pagos|cuotas|parcelas|mensualidades|mensalidades|payments|installments|instalments)(?:\s+(?:sin intereses|sem juros|mensuales|mensais|monthly|fijos|fixos|iguales|iguais))?\s*(?:de|of)?\s*$",
    )
    .expect("the plan count pattern is valid")
});

pub fn check(draft: &str, context: &Context<'_>) -> Vec<Finding> {
    let mut named = context.catalog.find_courses(draft);
    for course in context.catalog.find_courses(context.thread) {
        if !named.iter().any(|c| c.code == course.code) {
            named.push(course);
        }
    }
    let savings: Vec<(usize, usize)> = discounts::offers(draft, context)
        .into_iter()
        .filter(|(offer, _)| matches!(offer, Offer::AmountOff(_)))
        .map(|(_, span)| span)
        .collect();
    let amounts = find_amounts(draft, context.currency);
    let mut findings = Vec::new();
    for found in amounts.iter().filter(|a| !savings.contains(&a.span)) {
        let allowed = named
            .iter()
            .any(|c| quotable(c, found.money.currency, context).contains(&found.money));
        let count = PLAN_COUNT
            .captures(&draft[..found.span.0])
            .and_then(|caps| caps.get(1))
            .and_then(|n| n.as_str().parse::<u32>().ok());
        if allowed
            && let Some(count) = count
            && !named.iter().any(|c| is_plan(c, count, found.money, context))
        {
            findings.push(
                Finding::block(
                    RULE,
                    "plan_not_in_catalog",
                    format!("{count} payments of {} is not a catalog plan", found.money),
                )
                .at(found.span),
            );
        }
        if !allowed {
            findings.push(
                Finding::block(
                    RULE,
                    "price_not_in_catalog",
                    format!(
                        "{} is not a catalog price of {}",
                        found.money,
                        if named.is_empty() {
                            "any course named in the conversation".to_owned()
                        } else {
                            named
                                .iter()
                                .map(|c| c.code.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        }
                    ),
                )
                .at(found.span),
            );
        }
    }
    if findings.is_empty() {
        findings.push(Finding::pass(
            RULE,
            "prices_match_catalog",
            format!("{} amount(s), all in the catalog", amounts.len()),
        ));
    }
    findings
}

/// Whether `count` payments of `amount` is the course's plan, at its catalog or promotional
/// instalment.
fn is_plan(course: &Course, count: u32, amount: Money, context: &Context<'_>) -> bool {
    let Some(plan) = course.price(amount.currency).and_then(|p| p.instalments.as_ref()) else {
        return false;
    };
    plan.count == count
        && with_promotions(vec![Money::new(plan.amount, amount.currency)], course, context).contains(&amount)
}

/// The catalog amounts of a course, plus its promotional prices while a promotion runs.
fn quotable(course: &Course, currency: Currency, context: &Context<'_>) -> Vec<Money> {
    with_promotions(course.quotable_amounts(currency), course, context)
}

/// `amounts`, plus each after every whole-percent discount the running promotions allow.
fn with_promotions(mut amounts: Vec<Money>, course: &Course, context: &Context<'_>) -> Vec<Money> {
    let Some(max) = discounts::max_percent(context, course) else {
        return amounts;
    };
    let regular = amounts.clone();
    let mut percent = Decimal::ONE;
    while percent <= max {
        let factor = (Decimal::ONE_HUNDRED - percent) / Decimal::ONE_HUNDRED;
        amounts.extend(
            regular
                .iter()
                .map(|m| Money::new((m.amount * factor).round_dp(2), m.currency)),
        );
        percent += Decimal::ONE;
    }
    amounts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Language;
    use crate::guardrails::{Verdict, testing};

    fn verdicts(draft: &str, thread: &str, currency: Currency) -> Vec<(Verdict, &'static str)> {
        let market = match currency {
            Currency::Eur => "ES",
            Currency::Brl => "BR",
            Currency::Mxn => "MX",
            Currency::Usd => "US",
        };
        // Mid-December: no promotion runs.
        let mut context = testing::context(market, Language::Es).with_thread(thread);
        context.now = "2026-12-15T15:00:00Z".parse().expect("instant");
        check(draft, &context)
            .into_iter()
            .map(|f| (f.verdict, f.reason))
            .collect()
    }

    #[test]
    fn catalog_prices_pass_in_three_languages() {
        let pass = vec![(Verdict::Pass, "prices_match_catalog")];
        assert_eq!(
            verdicts("Análisis de Datos cuesta 1.100 €.", "", Currency::Eur),
            pass
        );
        assert_eq!(
            verdicts(
                "Análise de Dados custa R$ 5.988 ou 12x de R$ 499.",
                "",
                Currency::Brl
            ),
            pass
        );
        assert_eq!(
            verdicts(
                "It costs US$ 1,200.",
                "how much is data analytics?",
                Currency::Usd
            ),
            pass
        );
        assert_eq!(
            verdicts(
                "Cuesta $21,600 MXN o 6 pagos de $3,600",
                "analisis de datos",
                Currency::Mxn
            ),
            pass
        );
        assert_eq!(
            verdicts("Hola, ¿en qué te ayudo? 😊", "hola", Currency::Eur),
            pass
        );
    }

    #[test]
    fn invented_or_misplaced_prices_block() {
        let block = vec![(Verdict::Block, "price_not_in_catalog")];
        // Wrong amount.
        assert_eq!(
            verdicts("Python desde cero cuesta 199 €", "", Currency::Eur),
            block
        );
        // Right amount, wrong currency.
        assert_eq!(verdicts("Python do zero custa R$ 279", "", Currency::Brl), block);
        // A price with no course named anywhere.
        assert_eq!(verdicts("Our courses start at $99!", "hi", Currency::Usd), block);
        // A discount nobody approved.
        assert_eq!(
            verdicts(
                "Data Analytics is US$ 1,200, today only US$ 999",
                "",
                Currency::Usd
            ),
            block
        );
    }

    #[test]
    fn amounts_in_words_and_shorthand_are_checked_too() {
        let pass = vec![(Verdict::Pass, "prices_match_catalog")];
        let block = vec![(Verdict::Block, "price_not_in_catalog")];
        let cases = [
            ("Análisis de Datos cuesta mil cien euros.", Currency::Eur, &pass),
            ("Análise de Dados: 12x de 499 no cartão.", Currency::Brl, &pass),
            ("Data Analytics is 1.2k dollars.", Currency::Usd, &pass),
            (
                "Python do zero custa mil e quinhentos reais.",
                Currency::Brl,
                &block,
            ),
            ("Análisis de Datos cuesta 1.200 €.", Currency::Eur, &block),
            ("Python desde cero cuesta 299", Currency::Eur, &block),
            ("Data Analytics is twelve hundred bucks.", Currency::Usd, &pass),
        ];
        for (draft, currency, want) in cases {
            assert_eq!(verdicts(draft, "", currency), *want, "{draft}");
        }
    }

    #[test]
    fn instalment_counts_must_match_the_plan() {
        let pass = vec![(Verdict::Pass, "prices_match_catalog")];
        let wrong_plan = vec![(Verdict::Block, "plan_not_in_catalog")];
        let cases = [
            ("Design UX/UI: 12x de R$ 399.", Currency::Brl, &pass),
            ("Design UX/UI: 10 x R$ 399.", Currency::Brl, &wrong_plan),
            ("Análisis de Datos: 6 pagos de $3,600.", Currency::Mxn, &pass),
            (
                "Análisis de Datos: 12 pagos de $3,600.",
                Currency::Mxn,
                &wrong_plan,
            ),
            ("Full-Stack: 12 payments of $200.", Currency::Usd, &pass),
            (
                "Python do zero em 12 parcelas de R$ 1.490",
                Currency::Brl,
                &wrong_plan,
            ),
        ];
        for (draft, currency, want) in cases {
            assert_eq!(verdicts(draft, "", currency), *want, "{draft}");
        }
    }

    #[test]
    fn promotional_prices_pass_only_while_the_promotion_runs() {
        let during = testing::context("ES", Language::Es);
        let draft = "Análisis de Datos: 935 € hasta el domingo (15% de descuento).";
        let problems = testing::problems(&check(draft, &during));
        assert!(problems.is_empty(), "{problems:?}");
        let mut after = testing::context("ES", Language::Es);
        after.now = "2027-02-01T12:00:00Z".parse().expect("instant");
        assert_eq!(
            testing::problems(&check(draft, &after)),
            [(Verdict::Block, "price_not_in_catalog")]
        );
    }
}
