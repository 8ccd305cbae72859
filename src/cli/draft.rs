//! `tuesday draft "text"`: classifies a message and drafts the reply the way the pipeline
//! would for a new contact, then prints the route, the model, the cost, the guardrails'
//! verdicts and the reply.

use super::classify::{classify, print_route};
use crate::catalog::Catalog;
use crate::config::Settings;
use crate::guardrails;
use crate::pipeline::classify::Classifier;
use crate::pipeline::draft::{self, Replies};
use crate::pipeline::language;
use crate::routing::policy::{DraftFacts, PreviousDraft};
use crate::routing::prompts::DraftInput;
use crate::routing::{DraftTask, ModelRouter, Subject};
use crate::store::Store;
use anyhow::Context;

#[derive(Debug, clap::Args)]
pub struct DraftArgs {
    /// The customer's message.
    pub text: String,
    /// The contact's market (ES, BR, MX, US); default: the one of the message's language.
    #[arg(long)]
    pub market: Option<String>,
}

pub async fn run(args: &DraftArgs, settings: &Settings) -> anyhow::Result<()> {
    let store = Store::open(&settings.database_url).await?;
    let catalog = if store.has_workspace().await? {
        store.load_catalog().await?
    } else {
        Catalog::demo()?
    };
    let taxonomy = settings.taxonomy()?;
    let router = ModelRouter::new(&settings.routing)?.with_taxonomy(taxonomy.clone());
    let classifier = {
        let model = settings.pipeline.classifier_model.clone();
        tokio::task::spawn_blocking(move || Classifier::configured(model.as_deref(), &taxonomy)).await??
    };
    let replies = Replies::demo()?;
    let text = args.text.as_str();

    let routed_class = classify(&store, &router, &classifier, text).await?;
    let classification = &routed_class.classification;
    let detected = language::detect(text, None, None);
    let market = match &args.market {
        Some(code) => catalog
            .market(&code.to_uppercase())
            .with_context(|| format!("no market {code:?} in the catalog"))?,
        None => catalog.default_market(detected.language),
    };
    let template = draft::compose(
        &replies,
        &catalog,
        detected.language,
        classification.intent,
        text,
        market,
    );
    let thread = [("customer", text)];
    let task = DraftTask {
        subject: Subject::default(),
        input: DraftInput {
            catalog: &catalog,
            market,
            language: detected.language,
            intent: classification.intent,
            thread: &thread,
            reference: &template.body,
            failures: &[],
        },
        facts: DraftFacts {
            intent: classification.intent,
            is_text: true,
            message_chars: text.chars().count(),
            courses_named: catalog.find_courses(text).len(),
            thread_messages: 1,
            lead_value_usd: catalog
                .find_courses(text)
                .iter()
                .filter_map(|c| c.price(crate::domain::Currency::Usd).map(|p| p.amount))
                .max(),
            previous: PreviousDraft::Fine,
            window_closed: false,
        },
        template_body: &template.body,
        template_name: &template.template,
    };
    let threshold = settings.pipeline.confidence_threshold;
    let policy = guardrails::Policy::demo(&catalog)?;
    let now = chrono::Utc::now();
    let check = |body: &str, canary: Option<&str>| {
        let mut context = guardrails::Context::new(&catalog, &policy, market, detected.language, now)
            .with_thread(text)
            .with_confidence(classification.confidence, threshold);
        if let Some(canary) = canary {
            context = context.with_canary(canary);
        }
        guardrails::check(body, &context)
    };
    let routed = router.draft(&store, &task, check).await?;
    store.record_free_calls(&routed.free_calls).await?;
    print_route(&routed.events);
    println!(
        "intent:     {} (confidence {:.2}, {})",
        classification.intent, classification.confidence, routed_class.model
    );
    println!("draft by:   {} ({})", routed.model, routed.tier);
    println!(
        "cost:       US$ {} (classify US$ {}, draft US$ {})",
        (routed_class.cost + routed.cost).normalize(),
        routed_class.cost.normalize(),
        routed.cost.normalize()
    );
    for finding in &routed.findings {
        println!(
            "guardrail:  {} {:?} ({})",
            finding.rule, finding.verdict, finding.message
        );
    }
    println!("\n{}", routed.body);
    Ok(())
}
