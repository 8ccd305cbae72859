//! Promises the business can't keep hold the draft: guarantees of jobs, results or approval,
//! refunds outside the policy, accreditations that don't exist, "100%", and start dates that
//! are not in the catalog. The phrase lists live in the policy file.

use super::dates::find_dates;
use super::folded::{Folded, sentences};
use super::{Context, Finding};
use chrono::Datelike;
use regex::Regex;
use std::sync::LazyLock;

const RULE: &str = "promises";

/// "no garantizamos", "we can't guarantee", "não prometemos": an honest disclaimer. Only
/// within the clause, so "Se não gostar, devolvemos…" is still a promise.
static NEGATED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?:^|\W)(?:no|nao|not|can't|cannot|cant|don't|dont|won't|never|nunca|jamas|ni|nem)\s+(?:\w+\s+){0,2}$",
    )
    .expect("the negation pattern is valid")
});

static REFUND_PERIOD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(\d{1,3})\s*(dias|dia|days|day|semanas|semana|weeks|week|meses|mes|months|month)\b")
        .expect("the refund period pattern is valid")
});

/// The policy's categories are open-ended; the common ones get their own reason code.
fn reason(category: &str) -> &'static str {
    match category {
        "job_guarantee" => "job_guarantee",
        "result_guarantee" => "result_guarantee",
        "approval_guarantee" => "approval_guarantee",
        "refund_outside_policy" => "refund_outside_policy",
        "false_accreditation" => "false_accreditation",
        "absolute_claim" => "absolute_claim",
        _ => "promise_not_allowed",
    }
}

pub fn check(draft: &str, context: &Context<'_>) -> Vec<Finding> {
    let policy = context.policy;
    let folded = Folded::new(draft);
    let exceptions: Vec<(usize, usize)> = policy
        .promise_exceptions
        .find_iter(&folded.text)
        .map(|m| (m.start(), m.end()))
        .collect();
    let mut findings = Vec::new();
    for (category, phrases) in &policy.promises {
        for m in phrases.find_iter(&folded.text) {
            let excepted = exceptions.iter().any(|&(s, e)| s <= m.start() && m.end() <= e);
            if excepted || NEGATED.is_match(&folded.text[..m.start()]) {
                continue;
            }
            let span = folded.span(m.start(), m.end());
            findings.push(
                Finding::hold(
                    RULE,
                    reason(category),
                    format!("{category}: \"{}\"", &draft[span.0..span.1]),
                )
                .at(span),
            );
        }
    }
    findings.extend(refund_periods(draft, &folded, context));
    findings.extend(start_dates(draft, &folded, context));
    if findings.is_empty() {
        findings.push(Finding::pass(
            RULE,
            "no_promises",
            "no promise the business can't keep",
        ));
    }
    findings
}

/// "Reembolso dentro de 30 días" when the policy refunds within 14.
fn refund_periods(draft: &str, folded: &Folded, context: &Context<'_>) -> Vec<Finding> {
    let allowed = context.policy.file.refunds.days;
    let mut findings = Vec::new();
    for (start, end) in sentences(&folded.text) {
        let sentence = &folded.text[start..end];
        if !context.policy.refund_words.is_match(sentence) {
            continue;
        }
        for caps in REFUND_PERIOD.captures_iter(sentence) {
            let (Some(whole), Some(n), Some(unit)) = (
                caps.get(0),
                caps.get(1).and_then(|n| n.as_str().parse::<u32>().ok()),
                caps.get(2),
            ) else {
                continue;
            };
            let days = match unit.as_str() {
                "semanas" | "semana" | "weeks" | "week" => n * 7,
                "meses" | "mes" | "months" | "month" => n * 30,
                _ => n,
            };
            if days > allowed {
                let span = folded.span(start + whole.start(), start + whole.end());
                findings.push(
                    Finding::hold(
                        RULE,
                        "refund_outside_policy",
                        format!(
                            "a refund within \"{}\" is longer than the policy's {allowed} days",
                            &draft[span.0..span.1]
                        ),
                    )
                    .at(span),
                );
            }
        }
    }
    findings
}

/// A start date must be the next start of a course named in the draft or the thread, or of
/// any course when none is named.
fn start_dates(draft: &str, folded: &Folded, context: &Context<'_>) -> Vec<Finding> {
    let catalog = context.catalog;
    let mut courses = catalog.find_courses(draft);
    courses.extend(catalog.find_courses(context.thread));
    if courses.is_empty() {
        courses = catalog.courses.iter().collect();
    }
    let starts: Vec<_> = courses.iter().map(|c| c.next_start).collect();
    let mut findings = Vec::new();
    for (start, end) in sentences(&folded.text) {
        let sentence = &folded.text[start..end];
        if !context.policy.start_words.is_match(sentence) {
            continue;
        }
        for date in find_dates(sentence) {
            let known = starts.iter().any(|s| {
                date.readings.contains(&(s.month(), s.day())) && date.year.is_none_or(|y| y == s.year())
            });
            if !known {
                let span = folded.span(start + date.span.0, start + date.span.1);
                findings.push(
                    Finding::hold(
                        RULE,
                        "date_not_in_catalog",
                        format!(
                            "\"{}\" is not the start date of any course in the conversation",
                            &draft[span.0..span.1]
                        ),
                    )
                    .at(span),
                );
            }
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Language;
    use crate::guardrails::Verdict::Hold;
    use crate::guardrails::testing::{context, problems};

    fn reasons(draft: &str, language: Language) -> Vec<&'static str> {
        let ctx = context("ES", language);
        problems(&check(draft, &ctx))
            .into_iter()
            .map(|(v, r)| {
                assert_eq!(v, Hold);
                r
            })
            .collect()
    }

    #[test]
    fn catches_promises_in_three_languages() {
        use Language::*;
        let cases: &[(&str, Language, &str)] = &[
            (
                "Con este curso te GARANTIZAMOS un empleo en 3 meses.",
                Es,
                "job_guarantee",
            ),
            ("Terminas el bootcamp y sales con trabajo 😉", Es, "job_guarantee"),
            ("Garantimos sua recolocação no mercado!", Pt, "job_guarantee"),
            ("Vc vai ser contratado antes de terminar", Pt, "job_guarantee"),
            ("We guarantee you'll land a job", En, "job_guarantee"),
            ("You’ll get a job within six months, promise", En, "job_guarantee"),
            ("Vas a duplicar tu sueldo", Es, "result_guarantee"),
            ("É sem risco nenhum: sucesso garantido", Pt, "result_guarantee"),
            ("It's completely risk-free", En, "result_guarantee"),
            ("Aprobación asegurada, nadie suspende", Es, "approval_guarantee"),
            ("Aprovação garantida na certificação", Pt, "approval_guarantee"),
            ("Pass guaranteed!", En, "approval_guarantee"),
            (
                "Te devolvemos el dinero en cualquier momento",
                Es,
                "refund_outside_policy",
            ),
            ("Reembolso dentro de 30 días", Es, "refund_outside_policy"),
            ("Estorno em até 2 meses", Pt, "refund_outside_policy"),
            (
                "Money-back guarantee, no questions asked",
                En,
                "refund_outside_policy",
            ),
            (
                "Obtienes un título oficial avalado por la SEP",
                Es,
                "false_accreditation",
            ),
            ("Diploma reconhecido pelo MEC", Pt, "false_accreditation"),
            ("An officially accredited certificate", En, "false_accreditation"),
            ("Éxito 100% seguro", Es, "absolute_claim"),
            ("Cem por cento de aproveitamento", Pt, "absolute_claim"),
            (
                "The next cohort starts on February 3rd",
                En,
                "date_not_in_catalog",
            ),
            (
                "Análisis de Datos empieza el 25 de enero",
                Es,
                "date_not_in_catalog",
            ),
            (
                "A próxima turma de Python do zero começa em 04/01/2028",
                Pt,
                "date_not_in_catalog",
            ),
        ];
        for (draft, language, want) in cases {
            assert!(
                reasons(draft, *language).contains(want),
                "{draft}: {:?}",
                reasons(draft, *language)
            );
        }
    }

    #[test]
    fn leaves_true_statements_alone() {
        use Language::*;
        for (draft, language) in [
            ("Las clases son 100% online y quedan grabadas.", Es),
            ("As aulas são 100 % online.", Pt),
            ("Classes are 100% online.", En),
            (
                "Todos los cursos terminan con un certificado digital verificable.",
                Es,
            ),
            ("Puedes pedir el reembolso dentro de los primeros 14 días.", Es),
            ("Reembolso integral em até 7 dias após o início.", Pt),
            ("Análisis de Datos empieza el 18 de enero de 2027.", Es),
            ("Data Analytics starts on January 18, 2027.", En),
            ("A turma de Python do zero começa em 04/01.", Pt),
            ("La promoción termina el 17 de enero.", Es),
            ("Te llamamos el 14/01 a las 10h.", Es),
            ("Muchos alumnos consiguieron trabajo después del curso.", Es),
            ("Our career team helps you prepare for interviews.", En),
            ("Garantizamos que las clases quedan grabadas.", Es),
            ("No garantizamos empleo, pero te ayudamos con tu CV.", Es),
            ("Não garantimos emprego, mas ajudamos com seu portfólio.", Pt),
            (
                "We can't guarantee a job, but our career team reviews your portfolio.",
                En,
            ),
        ] {
            assert!(
                reasons(draft, language).is_empty(),
                "{draft}: {:?}",
                reasons(draft, language)
            );
        }
    }
}
