//! Entry points for the fuzzers (`fuzz/`, run with `cargo fuzz`), one per parser or engine that
//! reads outside input, each going as deep as the real path goes. The same functions replay the
//! kept corpus and every crash reproducer in `tests/fuzz_corpus.rs`, so a fixed crash stays fixed
//! on stable Rust. None of them may panic, whatever the bytes: a panic is the finding.

use crate::catalog::Catalog;
use crate::channels::email::{self, ParsedEmail};
use crate::channels::{twilio, whatsapp};
use crate::domain::{Currency, Language};
use crate::guardrails::{self, Context, History, Policy};
use std::sync::LazyLock;

/// The targets, by the name their fuzzer and corpus folder carry.
/// A fuzz target: its name and what it runs on one input.
pub type Target = (&'static str, fn(&[u8]));

pub const TARGETS: [Target; 10] = [
    ("whatsapp", whatsapp_delivery),
    ("twilio", twilio_form),
    ("postmark", postmark),
    ("sendgrid", sendgrid),
    ("mailgun", mailgun),
    ("mime", raw_mime),
    ("trim", trim_reply),
    ("money", money),
    ("langid", langid),
    ("guardrails", guardrail_engine),
];

/// The boundary of the multipart bodies the SendGrid and Mailgun targets read.
pub const BOUNDARY: &str = "tuesday-fuzz";

fn text(data: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(data)
}

/// What the webhook does with a parsed email: the reply without quotes and signature.
fn follow(parsed: Result<ParsedEmail, email::EmailError>) {
    if let Ok(parsed) = parsed {
        let _ = email::trim_reply(&parsed.text);
        let _ = email::normalise_address(&parsed.from_address);
    }
}

pub fn whatsapp_delivery(data: &[u8]) {
    let _ = whatsapp::parse_delivery(data, &["106540352242922".to_owned()]);
}

pub fn twilio_form(data: &[u8]) {
    let Ok(params) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(data) else {
        return;
    };
    let _ = twilio::parse_message(&params, 1_765_000_000_000);
    let _ = twilio::parse_status(&params, 1_765_000_000_000);
    let _ = twilio::verify_signature(
        b"token",
        "https://tuesday.example/webhooks/twilio",
        &params,
        "c2ln",
    );
}

pub fn postmark(data: &[u8]) {
    follow(email::parse_postmark(data));
}

static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime")
});

fn form_fields(content_type: &str, data: &[u8]) -> Option<Vec<email::Field>> {
    let body = axum::body::Bytes::copy_from_slice(data);
    RUNTIME.block_on(email::read_fields(content_type, body)).ok()
}

pub fn sendgrid(data: &[u8]) {
    let content_type = format!("multipart/form-data; boundary={BOUNDARY}");
    if let Some(fields) = form_fields(&content_type, data) {
        follow(email::parse_sendgrid(&fields));
    }
}

/// Mailgun posts urlencoded forms, or multipart ones when there are attachments: the first
/// byte picks which.
pub fn mailgun(data: &[u8]) {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let content_type = if first % 2 == 0 {
        "application/x-www-form-urlencoded".to_owned()
    } else {
        format!("multipart/form-data; boundary={BOUNDARY}")
    };
    if let Some(fields) = form_fields(&content_type, rest) {
        follow(email::parse_mailgun(&fields));
    }
}

pub fn raw_mime(data: &[u8]) {
    follow(email::parse_mime(data));
}

pub fn trim_reply(data: &[u8]) {
    let _ = email::trim_reply(&text(data));
}

pub fn money(data: &[u8]) {
    let text = text(data);
    for currency in Currency::ALL {
        let _ = guardrails::find_amounts(&text, currency);
    }
}

pub fn langid(data: &[u8]) {
    let text = text(data);
    let _ = crate::pipeline::language::detect(&text, None, None);
    let _ = crate::pipeline::language::detect(&text, Some(Language::Pt), Some(Language::Es));
}

static DEMO: LazyLock<(Catalog, Policy)> = LazyLock::new(|| {
    let catalog = Catalog::demo().expect("the demo catalog loads");
    let policy = Policy::demo(&catalog).expect("the demo policy loads");
    (catalog, policy)
});

/// Every guardrail on a draft, with the customer's thread after the first NUL byte; the first
/// byte picks the market, language, channel and history.
pub fn guardrail_engine(data: &[u8]) {
    let Some((&knobs, rest)) = data.split_first() else {
        return;
    };
    let (catalog, policy) = &*DEMO;
    let text = text(rest);
    let (draft, thread) = text.split_once('\0').unwrap_or((&text, ""));
    let market_code = ["ES", "BR", "MX", "US"][usize::from(knobs % 4)];
    let Some(market) = catalog.market(market_code) else {
        return;
    };
    let language = [Language::Es, Language::Pt, Language::En][usize::from(knobs / 4 % 3)];
    let channel = [crate::channels::WHATSAPP, crate::channels::EMAIL][usize::from(knobs / 12 % 2)];
    let now = chrono::DateTime::from_timestamp(1_765_290_600, 0).unwrap_or_default();
    let history = History {
        last_inbound: Some(now - chrono::Duration::hours(i64::from(knobs / 24))),
        outbound_today: u32::from(knobs % 5),
        previous_outbound: Some(thread),
        opted_out: knobs & 0x80 != 0,
        opt_out_confirmed: false,
    };
    let mut context = Context::new(catalog, policy, market, language, now)
        .with_thread(thread)
        .with_confidence(f64::from(knobs) / 255.0, 0.6)
        .with_history(history)
        .with_canary("c4n4ry-7f3a");
    context.channel = channel;
    let findings = guardrails::check(draft, &context);
    let _ = guardrails::overall(&findings);
}
