//! No invented prices: every amount in a draft must be a catalog price, instalment or plan
//! total, in that currency, of a course named in the draft or the customer's messages.

use super::{Context, Finding, Verdict, find_amounts};

pub fn check(draft: &str, context: &Context<'_>) -> Vec<Finding> {
    let mut named = context.catalog.find_courses(draft);
    for course in context.catalog.find_courses(context.thread) {
        if !named.iter().any(|c| c.code == course.code) {
            named.push(course);
        }
    }
    let amounts = find_amounts(draft, context.currency);
    let mut findings = Vec::new();
    for found in &amounts {
        let allowed = named
            .iter()
            .any(|c| c.quotable_amounts(found.money.currency).contains(&found.money));
        if !allowed {
            findings.push(Finding {
                rule: "prices",
                verdict: Verdict::Block,
                reason: "price_not_in_catalog",
                message: format!(
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
                span: Some(found.span),
            });
        }
    }
    if findings.is_empty() {
        findings.push(Finding {
            rule: "prices",
            verdict: Verdict::Pass,
            reason: "prices_match_catalog",
            message: format!("{} amount(s), all in the catalog", amounts.len()),
            span: None,
        });
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use crate::domain::Currency;

    fn verdicts(draft: &str, thread: &str, currency: Currency) -> Vec<(Verdict, &'static str)> {
        let catalog = Catalog::demo().expect("catalog");
        let context = Context {
            catalog: &catalog,
            currency,
            thread,
            confidence: 0.9,
            confidence_threshold: 0.6,
        };
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
}
