//! Tiered-routing benchmark (not a timed test): runs the labelled held-out set
//! (data/demo/*-test.jsonl, 360 messages) through the real router and provider client against
//! stand-in models on a local port, then runs the same messages "everything on standard" and
//! "everything on flagship", and prints tier shares, accuracy and cost.
//!
//!     cargo run --release --example route_bench [-- --tau0 0.75 --tau1 0.7]
//!
//! The stand-ins speak Anthropic's Messages API and answer with this fixed profile (the
//! `PROFILES` table below), decided per message by a hash, so every run gives the same figures:
//!
//! | tier     | model            | right | confidence right | confidence wrong                  |
//! |----------|------------------|-------|------------------|-----------------------------------|
//! | fast     | claude-haiku-4-5 | 85%   | 0.92             | 0.55, but 0.90 for 1 wrong in 4   |
//! | standard | claude-sonnet-5  | 92%   | 0.93             | 0.55, but 0.90 for 1 wrong in 4   |
//! | flagship | claude-opus-5    | 95%   | 0.95             | 0.55, but 0.90 for 1 wrong in 4   |
//!
//! Tokens: every stand-in reports the prompt it received and the answer it wrote at four
//! characters a token, with no cache hits (the classification prompt is below the providers'
//! minimum cacheable length; cache arithmetic is covered by the test suite). A draft answer is
//! the template reply the prompt carries as its reference, so the guardrails judge real text.
//! Prices are the built-in table (src/models/pricing.rs).

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use tuesday::catalog::Catalog;
use tuesday::domain::{Currency, Intent, Taxonomy};
use tuesday::guardrails;
use tuesday::models::{Models, PriceTable, ProviderSettings, pricing};
use tuesday::pipeline::classify::{Classifier, DEMO_TEST, read_jsonl};
use tuesday::pipeline::draft::{self, Replies};
use tuesday::pipeline::language;
use tuesday::routing::policy::{DraftFacts, PreviousDraft};
use tuesday::routing::prompts::{self, DraftInput};
use tuesday::routing::{DraftTask, ModelEntry, ModelRouter, RoutingSettings, Subject, Tier};
use tuesday::store::Store;

struct Profile {
    model: &'static str,
    accuracy: f64,
    confidence_right: f64,
}

const PROFILES: [Profile; 3] = [
    Profile {
        model: "claude-haiku-4-5",
        accuracy: 0.85,
        confidence_right: 0.92,
    },
    Profile {
        model: "claude-sonnet-5",
        accuracy: 0.92,
        confidence_right: 0.93,
    },
    Profile {
        model: "claude-opus-5",
        accuracy: 0.95,
        confidence_right: 0.95,
    },
];
const CONFIDENCE_WRONG: f64 = 0.55;
const CONFIDENTLY_WRONG: f64 = 0.25;
const CONFIDENCE_CONFIDENTLY_WRONG: f64 = 0.90;

/// A fraction in [0, 1) from a message and a salt: FNV-1a, so runs repeat exactly.
fn fraction(parts: &[&str]) -> f64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.bytes().chain([0x1f]) {
            h ^= u64::from(byte);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    (h >> 11) as f64 / (1u64 << 53) as f64
}

fn tokens(text: &str) -> u64 {
    prompts::estimate_tokens(text)
}

#[derive(Clone)]
struct StandIn {
    labels: Arc<HashMap<String, Intent>>,
}

async fn messages(State(standin): State<StandIn>, Json(body): Json<Value>) -> Json<Value> {
    let model = body["model"].as_str().unwrap_or("").to_owned();
    let system: String = body["system"]
        .as_array()
        .map(|blocks| {
            blocks
                .iter()
                .filter_map(|b| b["text"].as_str())
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default();
    let user_text = body["messages"][0]["content"].as_str().unwrap_or("").to_owned();
    let user: Value = serde_json::from_str(&user_text).unwrap_or(Value::Null);
    let text = if let Some(message) = user["customer_message"].as_str() {
        let profile = PROFILES.iter().find(|p| p.model == model).unwrap_or(&PROFILES[1]);
        let label = standin.labels.get(message).copied().unwrap_or(Intent::Other);
        let (intent, confidence) = if fraction(&[&model, message]) < profile.accuracy {
            (label, profile.confidence_right)
        } else {
            let step = 1 + (fraction(&[message, &model, "which"]) * 9.0) as usize;
            let at = Intent::DEFAULTS.iter().position(|i| *i == label).unwrap_or(0);
            let wrong = Intent::DEFAULTS[(at + step) % Intent::DEFAULTS.len()];
            let confident = fraction(&[message, &model, "sure"]) < CONFIDENTLY_WRONG;
            (
                wrong,
                if confident {
                    CONFIDENCE_CONFIDENTLY_WRONG
                } else {
                    CONFIDENCE_WRONG
                },
            )
        };
        json!({"intent": intent, "confidence": confidence}).to_string()
    } else {
        json!({"reply": user["reference_answer"].as_str().unwrap_or("")}).to_string()
    };
    Json(json!({
        "id": "msg_bench", "type": "message", "role": "assistant", "model": model,
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn", "stop_sequence": null,
        "usage": {"input_tokens": tokens(&system) + tokens(&user_text), "output_tokens": tokens(&text),
                  "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0},
    }))
}

#[derive(Default)]
struct Tally {
    messages: usize,
    correct: usize,
    cost: Decimal,
    classify_cost: Decimal,
    classify_tiers: BTreeMap<Tier, usize>,
    /// Right intents among the answers each tier kept.
    classify_right: BTreeMap<Tier, usize>,
    draft_tiers: BTreeMap<Tier, usize>,
}

impl Tally {
    fn accuracy(&self) -> f64 {
        self.correct as f64 / self.messages.max(1) as f64
    }
}

fn arg(name: &str) -> Option<f64> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut examples = Vec::new();
    for source in DEMO_TEST {
        examples.extend(read_jsonl(source)?);
    }
    let labels: HashMap<String, Intent> = examples.iter().map(|e| (e.text.clone(), e.intent)).collect();
    let standin = StandIn {
        labels: Arc::new(labels),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let app = Router::new()
        .route("/v1/messages", post(messages))
        .with_state(standin);
    tokio::spawn(async move { axum::serve(listener, app).await });

    let mut settings = RoutingSettings::default();
    settings.tau0 = arg("--tau0").unwrap_or(settings.tau0);
    settings.tau1 = arg("--tau1").unwrap_or(settings.tau1);
    settings.providers.insert(
        "anthropic".to_owned(),
        ProviderSettings {
            base_url: Some(base),
            api_key: Some("bench-key".into()),
            ..ProviderSettings::default()
        },
    );
    let entry = |model: &str| {
        vec![ModelEntry {
            provider: "anthropic".to_owned(),
            model: model.to_owned(),
        }]
    };
    settings.tiers.fast = entry(PROFILES[0].model);
    settings.tiers.standard = entry(PROFILES[1].model);
    settings.tiers.flagship = entry(PROFILES[2].model);
    settings.budget.daily_usd = Decimal::from(1_000);
    settings.budget.monthly_usd = Decimal::from(10_000);

    let dir = tempfile::tempdir()?;
    let store = Store::open(&format!("sqlite://{}", dir.path().join("bench.db").display())).await?;
    let router = ModelRouter::new(&settings)?;
    let models = Models::new(&settings.providers)?;
    let prices = PriceTable::default();
    let classifier = Classifier::demo()?;
    let catalog = Catalog::demo()?;
    let replies = Replies::demo()?;
    let threshold = tuesday::config::Settings::default().pipeline.confidence_threshold;
    let policy = guardrails::Policy::demo(&catalog)?;
    // A weekday afternoon when every market is open: the figures must not depend on the hour.
    let open = chrono::DateTime::parse_from_rfc3339("2026-12-09T16:30:00Z")?.to_utc();

    let mut routed = Tally::default();
    let mut all_standard = Tally::default();
    let mut all_flagship = Tally::default();
    for example in &examples {
        let text = example.text.as_str();
        let detected = language::detect(text, None, None);
        let market = catalog.default_market(detected.language);
        let courses = catalog.find_courses(text);

        // The router, as the pipeline runs it.
        let local = classifier.classify(text);
        let class = router
            .classify(&store, Subject::default(), detected.language, text, local)
            .await?;
        let intent = class.classification.intent;
        let template = draft::compose(&replies, &catalog, detected.language, intent, text, market);
        let thread = [("customer", text)];
        let input = DraftInput {
            catalog: &catalog,
            market,
            language: detected.language,
            intent,
            thread: &thread,
            reference: &template.body,
            failures: &[],
        };
        let task = DraftTask {
            subject: Subject::default(),
            input,
            facts: DraftFacts {
                intent,
                is_text: true,
                message_chars: text.chars().count(),
                courses_named: courses.len(),
                thread_messages: 1,
                lead_value_usd: courses
                    .iter()
                    .filter_map(|c| c.price(Currency::Usd).map(|p| p.amount))
                    .max(),
                previous: PreviousDraft::Fine,
                window_closed: false,
            },
            template_body: &template.body,
            template_name: &template.template,
        };
        let check = |body: &str, canary: Option<&str>| {
            let mut context = guardrails::Context::new(&catalog, &policy, market, detected.language, open)
                .with_thread(text)
                .with_confidence(class.classification.confidence, threshold);
            if let Some(canary) = canary {
                context = context.with_canary(canary);
            }
            guardrails::check(body, &context)
        };
        let drafted = router.draft(&store, &task, check).await?;
        routed.messages += 1;
        routed.correct += usize::from(intent == example.intent);
        routed.cost += class.cost + drafted.cost;
        routed.classify_cost += class.cost;
        *routed.classify_tiers.entry(class.tier).or_default() += 1;
        *routed.classify_right.entry(class.tier).or_default() += usize::from(intent == example.intent);
        *routed.draft_tiers.entry(drafted.tier).or_default() += 1;

        // One tier for everything: one classification call and one drafting call per message.
        for (tally, profile, tier) in [
            (&mut all_standard, &PROFILES[1], Tier::Standard),
            (&mut all_flagship, &PROFILES[2], Tier::Flagship),
        ] {
            let price = prices
                .get(profile.model)
                .ok_or_else(|| anyhow::anyhow!("no price"))?;
            let request = prompts::classification(
                &Taxonomy::default(),
                detected.language,
                text,
                &prompts::canary(),
                settings.classify_max_tokens,
            );
            let answer = models.complete("anthropic", profile.model, &request).await?;
            let predicted = prompts::parse_classification(&answer.text, &Taxonomy::default())
                .map_err(anyhow::Error::msg)?
                .intent;
            let template = draft::compose(&replies, &catalog, detected.language, predicted, text, market);
            let input = DraftInput {
                intent: predicted,
                reference: &template.body,
                ..input
            };
            let request = prompts::draft(&input, &prompts::canary(), settings.draft_max_tokens);
            let reply = models.complete("anthropic", profile.model, &request).await?;
            tally.messages += 1;
            tally.correct += usize::from(predicted == example.intent);
            let classify_cost = pricing::cost(&answer.usage, &price);
            tally.cost += classify_cost + pricing::cost(&reply.usage, &price);
            tally.classify_cost += classify_cost;
            *tally.classify_tiers.entry(tier).or_default() += 1;
            *tally.draft_tiers.entry(tier).or_default() += 1;
        }
    }

    let ledger = store.baseline_tokens("0000-00-00").await?;
    let reprice = |model: &str| {
        prices
            .get(model)
            .map(|p| pricing::cost(&ledger.usage, &p))
            .unwrap_or_default()
    };
    let share = |map: &BTreeMap<Tier, usize>, n: usize| {
        Tier::ALL
            .iter()
            .map(|t| format!("{t} {:.1}%", *map.get(t).unwrap_or(&0) as f64 * 100.0 / n as f64))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let ratio = |a: Decimal, b: Decimal| {
        if b.is_zero() {
            0.0
        } else {
            (a / b).to_string().parse::<f64>().unwrap_or(0.0) * 100.0
        }
    };
    println!(
        "Tiered routing benchmark: {} labelled messages (es, pt, en), τ0 {}, τ1 {}",
        routed.messages, settings.tau0, settings.tau1
    );
    println!();
    println!(
        "| run | intent accuracy | classification cost | share of all-standard | \
         classification + drafting cost | share of all-standard |"
    );
    println!("|---|---|---|---|---|---|");
    for (name, tally) in [
        ("routed", &routed),
        ("all on standard", &all_standard),
        ("all on flagship", &all_flagship),
    ] {
        println!(
            "| {name} | {:.1}% | {} | {:.1}% | {} | {:.1}% |",
            tally.accuracy() * 100.0,
            tally.classify_cost.round_dp(6),
            ratio(tally.classify_cost, all_standard.classify_cost),
            tally.cost.round_dp(6),
            ratio(tally.cost, all_standard.cost)
        );
    }
    println!();
    println!(
        "routed, classification answered by: {}",
        share(&routed.classify_tiers, routed.messages)
    );
    println!(
        "routed, drafts written by:           {}",
        share(&routed.draft_tiers, routed.messages)
    );
    let kept: Vec<String> = Tier::ALL
        .iter()
        .filter_map(|t| {
            let n = *routed.classify_tiers.get(t)?;
            let right = *routed.classify_right.get(t).unwrap_or(&0);
            Some(format!(
                "{t} {right}/{n} ({:.1}%)",
                right as f64 * 100.0 / n as f64
            ))
        })
        .collect();
    println!("routed, intents right per tier kept:  {}", kept.join(", "));
    println!(
        "dashboard baselines (the routed run's kept answers repriced): all-standard {} USD, all-flagship {} USD",
        reprice(settings.baseline_model(Tier::Standard)).round_dp(6),
        reprice(settings.baseline_model(Tier::Flagship)).round_dp(6)
    );
    Ok(())
}
