//! No invented prices: every amount in a draft must be a catalog price, instalment or plan
//! total, in that currency, of a course named in the draft or the customer's messages. While
//! a promotion runs, the course's prices after a whole-percent discount up to its maximum
//! count too; a saving next to "descuento" is the discounts rule's to judge.

use super::discounts::{self, Offer};
use super::{Context, Finding, find_amounts};
use crate::catalog::Course;
use crate::domain::{Currency, Money};
use rust_decimal::Decimal;

const RULE: &str = "prices";

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

/// The catalog amounts of a course, plus its promotional prices while a promotion runs.
fn quotable(course: &Course, currency: Currency, context: &Context<'_>) -> Vec<Money> {
    let mut amounts = course.quotable_amounts(currency);
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
                .map(|m| Money::new((m.amount * factor).round_dp(2), currency)),
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
