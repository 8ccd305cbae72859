//! A draft that names a competitor is held for a person: comparisons are a sales call to make
//! by hand. The names live in the policy file.

use super::{Context, Finding};

const RULE: &str = "competitors";

pub fn check(draft: &str, context: &Context<'_>) -> Vec<Finding> {
    let found: Vec<Finding> = context
        .policy
        .competitors
        .find_iter(draft)
        .map(|m| {
            Finding::hold(
                RULE,
                "competitor_mentioned",
                format!("names the competitor {}", m.as_str()),
            )
            .at((m.start(), m.end()))
        })
        .collect();
    if found.is_empty() {
        vec![Finding::pass(RULE, "no_competitor", "names no competitor")]
    } else {
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Language;
    use crate::guardrails::testing::{context, problems};

    #[test]
    fn names_hold_on_whole_words_only() {
        let ctx = context("BR", Language::Pt);
        for (draft, held) in [
            ("Diferente da Alura, temos aulas ao vivo.", true),
            ("Mejor que PLATZI 😉", true),
            ("unlike coursera, we have live classes", true),
            ("Somos como la Digital House pero online", true),
            ("O curso terá certificado.", false),
            ("A altura do curso é ideal para iniciantes.", false),
            ("Platzis? no conozco", false),
            ("Nuestros cursos son de Aurora Academy.", false),
        ] {
            assert_eq!(!problems(&check(draft, &ctx)).is_empty(), held, "{draft}");
        }
    }
}
