//! Opt-out: a detector for "STOP", "BAJA", "no me escriban más", "pare", "sair",
//! "descadastrar", "unsubscribe" and their variants in es/pt/en, and a rule that lets nothing
//! but one confirmation reach a contact who opted out.

use super::folded::Folded;
use super::{Context, Finding, Policy, find_amounts};

const RULE: &str = "opt_out";

/// Where `text` asks us to stop writing, if it does: a keyword that is a whole clause of the
/// message ("STOP", "Baja por favor 🙏", "No gracias, stop") or an opt-out phrase anywhere.
pub fn detect(text: &str, policy: &Policy) -> Option<(usize, usize)> {
    let folded = Folded::new(text);
    let opt_out = &policy.file.opt_out;
    let mut clause_start = 0;
    for (i, c) in folded
        .text
        .char_indices()
        .chain(std::iter::once((folded.text.len(), '.')))
    {
        if !matches!(c, ',' | '.' | ';' | '!' | '?' | '\n') {
            continue;
        }
        let clause = &folded.text[clause_start..i];
        let meaningful: Vec<&str> = clause
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty() && !opt_out.filler.iter().any(|f| f == w))
            .collect();
        // "BAJAAA", "stoppp": emphasis doesn't change the word.
        let joined = squeeze(&meaningful.join(" "));
        if !joined.is_empty() && opt_out.keywords.iter().any(|k| crate::text::fold(k) == joined) {
            let offset = clause.len() - clause.trim_start().len();
            return Some(folded.span(clause_start + offset, clause_start + clause.trim_end().len()));
        }
        clause_start = i + c.len_utf8();
    }
    let exceptions: Vec<(usize, usize)> = policy
        .opt_out_exceptions
        .find_iter(&folded.text)
        .map(|m| (m.start(), m.end()))
        .collect();
    policy
        .opt_out_phrases
        .find_iter(&folded.text)
        .find(|m| !exceptions.iter().any(|&(s, e)| m.start() < e && s < m.end()))
        .map(|m| folded.span(m.start(), m.end()))
}

/// Runs of three or more of the same letter become one.
fn squeeze(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let mut j = i;
        while j < chars.len() && chars[j] == chars[i] {
            j += 1;
        }
        let run = if j - i >= 3 { 1 } else { j - i };
        out.extend(std::iter::repeat_n(chars[i], run));
        i = j;
    }
    out
}

/// The one message allowed after an opt-out: it confirms, and sells nothing.
fn is_confirmation(draft: &str, context: &Context<'_>) -> bool {
    let folded = Folded::new(draft);
    context.policy.opt_out_confirmations.is_match(&folded.text)
        && find_amounts(draft, context.currency).is_empty()
        && context.catalog.find_courses(draft).is_empty()
}

pub fn check(draft: &str, context: &Context<'_>) -> Finding {
    let history = context.history.as_ref();
    let in_thread = detect(context.thread, context.policy);
    let opted_out = history.is_some_and(|h| h.opted_out) || in_thread.is_some();
    if !opted_out {
        return Finding::pass(RULE, "not_opted_out", "the contact has not opted out");
    }
    let confirmed = history.is_some_and(|h| h.opt_out_confirmed);
    let confirmation = is_confirmation(draft, context);
    let whole = (0, draft.len());
    match (confirmation, confirmed) {
        (true, false) => Finding::pass(
            RULE,
            "opt_out_confirmation",
            "the one confirmation after an opt-out",
        ),
        (true, true) => Finding::block(
            RULE,
            "confirmation_already_sent",
            "the contact opted out and was already told so",
        )
        .at(whole),
        (false, _) => Finding::block(
            RULE,
            "contact_opted_out",
            match in_thread {
                Some((s, e)) => format!(
                    "the contact opted out (\"{}\"): only a confirmation may be sent",
                    &context.thread[s..e]
                ),
                None => "the contact opted out: only a confirmation may be sent".to_owned(),
            },
        )
        .at(whole),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Language;
    use crate::guardrails::History;
    use crate::guardrails::testing::{POLICY, context};

    #[test]
    fn detects_opt_outs_in_three_languages() {
        for text in [
            "STOP",
            "stop!!! 😡",
            "Stop please",
            "BAJA",
            "baja por favor",
            "Dar de baja",
            "no me escriban más",
            "NO ME ESCRIBAN MAS!!",
            "Por favor dejen de enviarme mensajes",
            "quiero darme de baja de esta lista",
            "ya no quiero recibir información, gracias",
            "bórrenme de su lista de difusión",
            "PARE",
            "pare por favor",
            "parem de me mandar mensagem",
            "Sair",
            "quero sair dessa lista",
            "descadastrar",
            "me descadastra daí pfv",
            "não me mandem mais nada",
            "Não quero mais receber mensagens",
            "unsubscribe",
            "Please UNSUBSCRIBE me",
            "stop texting me",
            "Don’t message me again",
            "take me off your list",
            "opt-out",
            "Gracias pero no, stop",
            "BAJAAAA",
            "Ya no me manden nada",
            "no quiero q me escriban",
            "no me vuelvan a escribir",
            "chega de mensagem",
            "STOP ALL MESSAGES",
            "pls remove my number",
        ] {
            assert!(detect(text, &POLICY).is_some(), "{text}");
        }
    }

    #[test]
    fn does_not_mistake_ordinary_messages() {
        for text in [
            "¿Cómo me doy de baja del curso si no me gusta?",
            "posso sair do curso no meio?",
            "que horas sai o resultado?",
            "Não pare de me mandar conteúdo, amei!",
            "Don't stop sending me these tips",
            "no dejen de escribirme cuando abra el grupo",
            "¿para cuándo es la próxima fecha?",
            "pare de fumar é difícil kkk",
            "the bus stop is near the campus?",
            "baja el precio?",
            "¿Puedo pagar en cuotas?",
            "how do I unsubscribe from the course and get a refund?",
        ] {
            assert_eq!(detect(text, &POLICY), None, "{text}");
        }
    }

    #[test]
    fn after_an_opt_out_only_one_confirmation_goes_out() {
        let confirmation = "Entendido, no volveremos a escribirte. Si cambias de opinión, solo escríbenos.";
        let pitch = "¡Hola! Análisis de Datos cuesta 1.100 €. ¿Te envío el enlace?";
        let sneaky = "Entendido, no volveremos a escribirte. Pero Python desde cero está a 279 €.";
        let opted = |confirmed| History {
            opted_out: true,
            opt_out_confirmed: confirmed,
            ..History::default()
        };
        let cases = [
            ("BAJA", None, confirmation, "opt_out_confirmation"),
            ("BAJA", None, pitch, "contact_opted_out"),
            ("BAJA", None, sneaky, "contact_opted_out"),
            ("hola", Some(opted(false)), confirmation, "opt_out_confirmation"),
            (
                "hola",
                Some(opted(true)),
                confirmation,
                "confirmation_already_sent",
            ),
            ("hola", Some(opted(true)), pitch, "contact_opted_out"),
            ("hola", None, pitch, "not_opted_out"),
        ];
        for (thread, history, draft, want) in cases {
            let mut ctx = context("ES", Language::Es).with_thread(thread);
            if let Some(history) = history {
                ctx = ctx.with_history(history);
            }
            assert_eq!(check(draft, &ctx).reason, want, "{thread} / {draft}");
        }
    }
}
