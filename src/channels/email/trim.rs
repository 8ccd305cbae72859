//! The reply trimmer: cuts quoted history, forwarded headers and signatures off an email so the
//! pipeline classifies only what the customer just wrote. Pure; the full body is kept elsewhere.
//!
//! It knows the quote headers of Gmail, Outlook, Apple Mail and Thunderbird in Spanish,
//! Portuguese and English, with or without accents.

use regex::Regex;
use std::sync::LazyLock;

/// Why a line ends the customer's own text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cut {
    /// "On … wrote:", "-----Original Message-----", "De: … Enviado:", a `>` block.
    Quote,
    /// "---------- Forwarded message ---------", "Begin forwarded message:".
    Forward,
    /// `-- `, "Sent from my iPhone", "Enviado desde mi iPhone".
    Signature,
}

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("a valid trimmer pattern")
}

/// "On … wrote:" and its Spanish and Portuguese forms, on one line once joined.
static WROTE: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?i)^(on|el|em|am|le)\b.{0,300}\b(wrote|escribi[oó]|escreveu|schrieb|a [ée]crit)\s*:$")
});
static ORIGINAL: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?i)^-{2,}\s*(original message|mensaje original|mensagem original|mensaje de origen)\s*-{2,}$")
});
static FORWARD: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)^(-{2,}\s*(forwarded message|mensaje reenviado|mensagem encaminhada|mensagem reencaminhada)\s*-{2,}|begin forwarded message:|inicio del mensaje reenviado:|in[ií]cio da mensagem (reencaminhada|encaminhada):)$",
    )
});
/// The first line of an Outlook header block: "From:", "De:".
static FROM_HEADER: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)^(from|de)\s*:\s*\S"));
/// The "sent" line that makes a "From:" line an Outlook header rather than prose.
static SENT_HEADER: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)(^|\s)(sent|enviado|enviada|enviado el|enviada em|date|fecha|data)\s*:"));
static DEVICE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)^(sent from my|sent from outlook|sent from mail|sent via|get outlook for|enviado desde (mi|el|outlook)|enviado de (mi|meu)|enviado do (meu|outlook|email)|enviado a trav[eé]s de|obtener outlook para|obter o outlook para)\b",
    )
});
/// Header lines inside a forwarded block, skipped to reach the forwarded text.
static FORWARD_FIELD: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?i)^(from|de|date|fecha|data|subject|asunto|assunto|to|para|cc|sent|enviado|enviada em)\s*:")
});

/// The customer's own words in `body`: everything above the first quote header, forwarded
/// block or signature. A forward with nothing written above it keeps the forwarded text; a
/// reply written under a `>` quote keeps what follows the quote.
pub fn trim_reply(body: &str) -> String {
    let normalised = body.replace("\r\n", "\n").replace('\r', "\n");
    let lines: Vec<&str> = normalised.lines().collect();
    trim_lines(&lines, 0)
}

fn trim_lines(lines: &[&str], depth: u8) -> String {
    let Some((at, cut)) = first_cut(lines) else {
        return join(lines);
    };
    let above = join(&lines[..at]);
    if !above.is_empty() || depth > 2 {
        return above;
    }
    match cut {
        Cut::Signature => above,
        Cut::Forward => {
            // Nothing written above a forward: what was forwarded is the message.
            let mut rest = at + 1;
            while rest < lines.len()
                && (FORWARD_FIELD.is_match(clean(lines[rest])) || clean(lines[rest]).is_empty())
            {
                rest += 1;
            }
            trim_lines(&lines[rest..], depth + 1)
        }
        Cut::Quote => {
            // Bottom-posted: the answer is under the quote.
            let after: Vec<&str> = lines[at..]
                .iter()
                .copied()
                .filter(|l| !clean(l).starts_with('>') && !is_quote_header(lines, l))
                .collect();
            trim_lines(&after, depth + 1)
        }
    }
}

fn is_quote_header(lines: &[&str], line: &str) -> bool {
    let c = clean(line);
    let _ = lines;
    WROTE.is_match(c) || ORIGINAL.is_match(c)
}

/// A line without the decoration HTML conversion leaves (`**De:**`, leading spaces).
fn clean(line: &str) -> &str {
    line.trim().trim_matches('*').trim()
}

fn first_cut(lines: &[&str]) -> Option<(usize, Cut)> {
    for (i, raw) in lines.iter().enumerate() {
        let line = clean(raw);
        if raw.trim_end() == "--" || *raw == "-- " {
            return Some((i, Cut::Signature));
        }
        if line.starts_with('>') {
            // A quote is cut at its header when the header sits just above it.
            return Some((i, Cut::Quote));
        }
        if FORWARD.is_match(line) {
            return Some((i, Cut::Forward));
        }
        if ORIGINAL.is_match(line) || (line.len() >= 20 && line.chars().all(|c| c == '_')) {
            return Some((i, Cut::Quote));
        }
        if WROTE.is_match(line) {
            return Some((i, Cut::Quote));
        }
        // Gmail wraps long headers: "On Tue, … Ana <" / "ana@example.com> wrote:".
        if let Some(next) = lines.get(i + 1) {
            let joined = format!("{line} {}", clean(next));
            if WROTE.is_match(&joined) && !line.is_empty() {
                return Some((i, Cut::Quote));
            }
        }
        if FROM_HEADER.is_match(line) {
            let sent_here = SENT_HEADER.is_match(&line[line.find(':').map_or(0, |p| p + 1)..]);
            let sent_below = lines
                .iter()
                .skip(i + 1)
                .take(4)
                .any(|l| SENT_HEADER.is_match(clean(l)) && FORWARD_FIELD.is_match(clean(l)));
            if sent_here || sent_below {
                return Some((i, Cut::Quote));
            }
        }
        if line.chars().count() <= 60 && DEVICE.is_match(line) {
            return Some((i, Cut::Signature));
        }
    }
    None
}

/// The lines joined, without trailing spaces or blank lines at either end.
fn join(lines: &[&str]) -> String {
    let text: Vec<&str> = lines.iter().map(|l| l.trim_end()).collect();
    text.join("\n").trim_matches('\n').trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::trim_reply;

    #[test]
    fn cuts_at_every_known_header() {
        let cases: &[(&str, &str)] = &[
            // Gmail, three languages, with and without accents, wrapped or not.
            (
                "Sí, me interesa.\n\nOn Tue, Dec 1, 2026 at 10:00 AM Ana <ana@example.com> wrote:\n> Hola",
                "Sí, me interesa.",
            ),
            (
                "Quiero el precio.\n\nEl mar, 1 dic 2026 a las 10:00, Tuesday (<hola@example.com>) escribió:\n> Hola",
                "Quiero el precio.",
            ),
            (
                "quiero el precio\n\nEl mar, 1 dic 2026 a las 10:00, Tuesday <hola@example.com> escribio:\n> Hola",
                "quiero el precio",
            ),
            (
                "Quero saber o preço.\n\nEm ter., 1 de dez. de 2026 às 10:00, Tuesday <\nola@example.com> escreveu:\n> Olá",
                "Quero saber o preço.",
            ),
            (
                "Thanks! 👍\n\nOn Tue, Dec 1, 2026 at 10:00 AM Tuesday <\nhello@example.com> wrote:\n\n> Hi",
                "Thanks! 👍",
            ),
            // Outlook: separator and header blocks.
            (
                "Ok.\n\n-----Original Message-----\nFrom: Tuesday\nSent: Tuesday",
                "Ok.",
            ),
            ("Vale.\n\n-----Mensaje original-----\nDe: Tuesday", "Vale."),
            ("Certo.\n\n-----Mensagem original-----\nDe: Tuesday", "Certo."),
            (
                "Gracias\n\nDe: Tuesday <hola@example.com>\nEnviado: martes, 1 de diciembre de 2026 10:00\nPara: Ana",
                "Gracias",
            ),
            (
                "Obrigado\n\nDe: Tuesday <ola@example.com>\nEnviada em: terça-feira, 1 de dezembro de 2026 10:00\nPara: Ana",
                "Obrigado",
            ),
            (
                "Thanks\n________________________________\nFrom: Tuesday <hello@example.com>\nSent: Tuesday, December 1, 2026 10:00 AM",
                "Thanks",
            ),
            (
                "Gracias\n\nDe: Tuesday <hola@example.com> Enviado: martes, 1 de diciembre",
                "Gracias",
            ),
            // Signatures and devices.
            (
                "Send me the syllabus\n-- \nJohn Smith\nACME",
                "Send me the syllabus",
            ),
            ("¿Cuánto cuesta?\n\nEnviado desde mi iPhone", "¿Cuánto cuesta?"),
            ("Quanto custa?\n\nEnviado do meu iPhone", "Quanto custa?"),
            ("How much?\n\nSent from my iPhone", "How much?"),
            (
                "cuanto cuesta??\n\nEnviado de mi Samsung Galaxy",
                "cuanto cuesta??",
            ),
            // Prose that merely looks like a header is kept.
            (
                "De: mi parte, gracias.\nEl curso me gusta.",
                "De: mi parte, gracias.\nEl curso me gusta.",
            ),
            (
                "On Monday I wrote to you twice.",
                "On Monday I wrote to you twice.",
            ),
            // A quote with the answer underneath.
            ("> ¿Te interesa?\n\nSí, mucho.", "Sí, mucho."),
            // No history at all.
            ("Olá, tudo bem?", "Olá, tudo bem?"),
        ];
        for (body, want) in cases {
            assert_eq!(trim_reply(body), *want, "{body:?}");
        }
    }

    #[test]
    fn forwards_keep_the_note_or_the_forwarded_text() {
        assert_eq!(
            trim_reply("Mira esto\n\n---------- Forwarded message ---------\nFrom: Ana\n\nHola"),
            "Mira esto"
        );
        assert_eq!(
            trim_reply(
                "---------- Mensagem encaminhada ---------\nDe: Ana <ana@example.com>\nData: 1 dez\nAssunto: curso\nPara: nos\n\nQuanto custa o curso?\n\nEnviado do meu iPhone"
            ),
            "Quanto custa o curso?"
        );
        assert_eq!(
            trim_reply("Begin forwarded message:\n\nFrom: Ana\nSubject: price\n\nHow much is it?"),
            "How much is it?"
        );
    }
}
