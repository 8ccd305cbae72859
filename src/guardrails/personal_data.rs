//! No personal data in drafts: emails, phone numbers and ID numbers (DNI/NIE, CPF, RG, CURP,
//! RFC, SSN) hold the draft, unless they are the business's own or the contact's: their phone,
//! or anything they wrote themselves in the thread.

use super::dates::find_dates;
use super::{Context, Finding, find_amounts};
use regex::Regex;
use std::sync::LazyLock;

const RULE: &str = "personal_data";

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}\b")
        .expect("the email pattern is valid")
});

static PHONE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\+?\(?\d[\d \u{a0}().-]{6,}\d").expect("the phone pattern is valid"));

/// One kind of ID number: its pattern, and its checksum where it has one.
struct IdKind {
    name: &'static str,
    pattern: Regex,
    valid: fn(&str) -> bool,
}

/// The ID numbers of our markets.
static IDS: LazyLock<Vec<IdKind>> = LazyLock::new(|| {
    let id = |name, pattern: &str, valid| IdKind {
        name,
        pattern: Regex::new(pattern).expect("the ID patterns are valid"),
        valid,
    };
    let any = |_: &str| true;
    vec![
        id("CPF", r"\b\d{3}\.\d{3}\.\d{3}-\d{2}\b", any),
        id("CPF", r"\b\d{11}\b", valid_cpf),
        id("RG", r"\b\d{2}\.\d{3}\.\d{3}-[\dXx]\b", any),
        id("DNI", r"(?i)\b\d{8}-?[a-z]\b", valid_dni),
        id("NIE", r"(?i)\b[xyz]-?\d{7}-?[a-z]\b", valid_dni),
        id("CURP", r"\b[A-Z]{4}\d{6}[HM][A-Z]{5}[A-Z0-9]\d\b", any),
        id("RFC", r"\b[A-ZÑ&]{4}\d{6}[A-Z0-9]{3}\b", any),
        id("SSN", r"\b\d{3}-\d{2}-\d{4}\b", any),
    ]
});

/// Spain's DNI and NIE end in a check letter.
fn valid_dni(raw: &str) -> bool {
    const LETTERS: &[u8] = b"TRWAGMYFPDXBNJZSQVHLCKE";
    let clean: String = raw
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_uppercase();
    let (body, letter) = clean.split_at(clean.len().saturating_sub(1));
    let digits = body
        .replacen('X', "0", 1)
        .replacen('Y', "1", 1)
        .replacen('Z', "2", 1);
    let Ok(number) = digits.parse::<u64>() else {
        return false;
    };
    let index = usize::try_from(number % 23).unwrap_or(0);
    letter.as_bytes().first() == LETTERS.get(index)
}

/// Brazil's CPF has two check digits.
fn valid_cpf(raw: &str) -> bool {
    let digits: Vec<u32> = raw.chars().filter_map(|c| c.to_digit(10)).collect();
    if digits.len() != 11 || digits.iter().all(|d| *d == digits[0]) {
        return false;
    }
    let check = |len: usize| {
        let sum: u32 = digits[..len]
            .iter()
            .enumerate()
            .map(|(i, d)| d * (len as u32 + 1 - i as u32))
            .sum();
        let rest = (sum * 10) % 11;
        if rest == 10 { 0 } else { rest }
    };
    check(9) == digits[9] && check(10) == digits[10]
}

fn digits(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).collect()
}

/// A phone number's comparable form: E.164 when it parses, else its digits.
fn phone_key(raw: &str, region: Option<phonenumber::country::Id>) -> Option<String> {
    let count = digits(raw).len();
    if !(8..=15).contains(&count) {
        return None;
    }
    match phonenumber::parse(region, raw) {
        Ok(number) => Some(number.format().mode(phonenumber::Mode::E164).to_string()),
        Err(_) if count >= 10 => Some(format!("+{}", digits(raw))),
        Err(_) => None,
    }
}

/// Every phone number in a text, with its span and comparable form. Prices, dates and ID
/// numbers that look like phone numbers are left out.
fn phones(text: &str, context: &Context<'_>) -> Vec<((usize, usize), String)> {
    let region = context.market.code.parse().ok();
    let amounts: Vec<(usize, usize)> = find_amounts(text, context.currency)
        .iter()
        .map(|a| a.span)
        .collect();
    let ids: Vec<(usize, usize)> = ids(text).into_iter().map(|(_, span)| span).collect();
    PHONE
        .find_iter(text)
        .filter_map(|m| {
            let span = (m.start(), m.end());
            let overlaps = |spans: &[(usize, usize)]| spans.iter().any(|&(s, e)| s < span.1 && span.0 < e);
            if overlaps(&amounts) || overlaps(&ids) {
                return None;
            }
            let folded = crate::text::fold(m.as_str());
            if find_dates(&folded).iter().any(|d| d.span == (0, folded.len())) {
                return None;
            }
            phone_key(m.as_str(), region).map(|key| (span, key))
        })
        .collect()
}

fn ids(text: &str) -> Vec<(&'static str, (usize, usize))> {
    let mut found: Vec<(&'static str, (usize, usize))> = Vec::new();
    for kind in IDS.iter() {
        for m in kind.pattern.find_iter(text) {
            let span = (m.start(), m.end());
            if (kind.valid)(m.as_str()) && !found.iter().any(|(_, (s, e))| *s < span.1 && span.0 < *e) {
                found.push((kind.name, span));
            }
        }
    }
    found
}

fn alphanumeric(text: &str) -> String {
    text.chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_uppercase()
}

/// Every email, phone number and ID number in `text`, as sorted byte spans with what each is,
/// for masking (observability's redaction). Nothing is exempt: there is no thread to compare.
pub fn find_all(text: &str) -> Vec<(usize, usize, &'static str)> {
    let mut spans: Vec<(usize, usize, &'static str)> = EMAIL
        .find_iter(text)
        .map(|m| (m.start(), m.end(), "email"))
        .collect();
    let overlaps =
        |spans: &[(usize, usize, &str)], s: usize, e: usize| spans.iter().any(|&(a, b, _)| a < e && s < b);
    for (kind, (s, e)) in ids(text) {
        if !overlaps(&spans, s, e) {
            spans.push((s, e, kind));
        }
    }
    for m in PHONE.find_iter(text) {
        let (s, e) = (m.start(), m.end());
        let folded = crate::text::fold(m.as_str());
        let is_date = find_dates(&folded).iter().any(|d| d.span == (0, folded.len()));
        if !is_date && !overlaps(&spans, s, e) && phone_key(m.as_str(), None).is_some() {
            spans.push((s, e, "phone"));
        }
    }
    spans.sort_unstable();
    spans
}

pub fn check(draft: &str, context: &Context<'_>) -> Vec<Finding> {
    let policy = &context.policy.file.personal_data;
    let thread = context.thread;
    let mut findings = Vec::new();

    let thread_emails: Vec<String> = EMAIL
        .find_iter(thread)
        .map(|m| m.as_str().to_lowercase())
        .collect();
    for m in EMAIL.find_iter(draft) {
        let email = m.as_str().to_lowercase();
        let domain = email.rsplit('@').next().unwrap_or_default();
        let known = policy.business.iter().any(|b| b.eq_ignore_ascii_case(&email))
            || policy
                .business_domains
                .iter()
                .any(|d| d.eq_ignore_ascii_case(domain))
            || thread_emails.contains(&email);
        if !known {
            findings.push(
                Finding::hold(
                    RULE,
                    "email_address",
                    format!("{} is neither the business's nor the contact's", m.as_str()),
                )
                .at((m.start(), m.end())),
            );
        }
    }

    let mut known_phones: Vec<String> = phones(thread, context).into_iter().map(|(_, key)| key).collect();
    known_phones.extend(
        policy
            .business
            .iter()
            .filter(|b| !b.contains('@'))
            .filter_map(|b| phone_key(b, None)),
    );
    if let Some(phone) = context.contact_phone {
        known_phones.extend(phone_key(&format!("+{}", digits(phone)), None));
    }
    for (span, key) in phones(draft, context) {
        if !known_phones.contains(&key) {
            findings.push(
                Finding::hold(
                    RULE,
                    "phone_number",
                    format!(
                        "{} is neither the business's nor the contact's number",
                        &draft[span.0..span.1]
                    ),
                )
                .at(span),
            );
        }
    }

    let thread_ids: Vec<String> = ids(thread)
        .into_iter()
        .map(|(_, (s, e))| alphanumeric(&thread[s..e]))
        .collect();
    for (kind, (s, e)) in ids(draft) {
        if !thread_ids.contains(&alphanumeric(&draft[s..e])) {
            findings.push(
                Finding::hold(
                    RULE,
                    "id_number",
                    format!("a {kind} number the contact didn't give us"),
                )
                .at((s, e)),
            );
        }
    }

    if findings.is_empty() {
        findings.push(Finding::pass(
            RULE,
            "no_personal_data",
            "no one else's email, phone or ID number",
        ));
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Language;
    use crate::guardrails::testing::{context, problems};

    fn reasons(draft: &str, thread: &str, market: &str) -> Vec<&'static str> {
        let ctx = context(market, Language::Es)
            .with_thread(thread)
            .with_phone(match market {
                "BR" => "5511987654321",
                "MX" => "5215512345678",
                "US" => "16505551234",
                _ => "34612345678",
            });
        problems(&check(draft, &ctx))
            .into_iter()
            .map(|(_, r)| r)
            .collect()
    }

    #[test]
    fn someone_elses_data_holds() {
        let cases = [
            (
                "Escríbele a marta.lopez@gmail.com, ella te ayuda.",
                "hola",
                "ES",
                "email_address",
            ),
            ("Llama a Juan al +34 699 111 222.", "hola", "ES", "phone_number"),
            ("Fala com a Ana no (11) 91234-5678", "oi", "BR", "phone_number"),
            ("O CPF do titular é 529.982.247-25", "oi", "BR", "id_number"),
            (
                "Tu compañero con DNI 12345678Z ya pagó",
                "hola",
                "ES",
                "id_number",
            ),
            ("Su CURP es GODE561231HDFRRN09", "hola", "MX", "id_number"),
            ("Your SSN 123-45-6789 is on file", "hi", "US", "id_number"),
            ("Call our partner at (212) 555-0199", "hi", "US", "phone_number"),
        ];
        for (draft, thread, market, want) in cases {
            assert_eq!(reasons(draft, thread, market), [want], "{draft}");
        }
    }

    #[test]
    fn the_business_and_the_contact_may_be_quoted() {
        let cases = [
            ("Escríbenos a hola@aurora.academy.example", "hola", "ES"),
            (
                "Tu correo es ana@gmail.com, ¿verdad?",
                "mi correo es ANA@gmail.com",
                "ES",
            ),
            ("Llámanos al +34 910 555 010.", "hola", "ES"),
            ("Te llamamos al 612 345 678 a las 17h.", "hola", "ES"),
            ("Vamos te ligar no (11) 98765-4321.", "oi", "BR"),
            (
                "Confirmamos o CPF 529.982.247-25 que você enviou.",
                "meu cpf é 529.982.247-25",
                "BR",
            ),
            ("Análise de Dados custa R$ 5.988 ou 12x de R$ 499.", "oi", "BR"),
            ("Empieza el 18.01.2027 a las 18:30.", "hola", "ES"),
            ("El código del curso es DA-101 y dura 16 semanas.", "hola", "ES"),
            ("Cuesta $21,600 MXN o 6 pagos de $3,600.", "hola", "MX"),
            ("Your order 1234567 is confirmed.", "hi", "US"),
        ];
        for (draft, thread, market) in cases {
            assert!(
                reasons(draft, thread, market).is_empty(),
                "{draft}: {:?}",
                reasons(draft, thread, market)
            );
        }
    }

    #[test]
    fn checksums() {
        assert!(valid_dni("12345678Z"));
        assert!(!valid_dni("12345678A"));
        assert!(valid_dni("X1234567L"));
        assert!(valid_cpf("52998224725"));
        assert!(!valid_cpf("52998224724"));
        assert!(!valid_cpf("11111111111"));
    }
}
