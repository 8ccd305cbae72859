//! `tuesday classify "text"`: runs one message through the classification cascade and prints
//! each routing decision, the model that answered and what it cost. Calls are real (and
//! counted against the budget) when models are configured.

use crate::config::Settings;
use crate::pipeline::classify::Classifier;
use crate::pipeline::language;
use crate::routing::{ModelRouter, RoutedClassification, Subject};
use crate::store::{NewEvent, Store};

#[derive(Debug, clap::Args)]
pub struct ClassifyArgs {
    /// The customer's message.
    pub text: String,
}

pub async fn run(args: &ClassifyArgs, settings: &Settings) -> anyhow::Result<()> {
    let store = Store::open(&settings.database_url).await?;
    let taxonomy = settings.taxonomy()?;
    let router = ModelRouter::new(&settings.routing)?.with_taxonomy(taxonomy.clone());
    let model = settings.pipeline.classifier_model.clone();
    let classifier =
        tokio::task::spawn_blocking(move || Classifier::configured(model.as_deref(), &taxonomy)).await??;
    let routed = classify(&store, &router, &classifier, &args.text).await?;
    let c = &routed.classification;
    println!("intent:     {} (confidence {:.2})", c.intent, c.confidence);
    println!("model:      {} ({})", routed.model, routed.tier);
    println!("cost:       US$ {}", routed.cost.normalize());
    Ok(())
}

/// Detects the language, classifies locally, runs the cascade and prints the route.
pub(super) async fn classify(
    store: &Store,
    router: &ModelRouter,
    classifier: &Classifier,
    text: &str,
) -> anyhow::Result<RoutedClassification> {
    let detected = language::detect(text, None, None);
    println!(
        "language:   {} ({})",
        detected.language,
        detected.method.describe()
    );
    if !router.has_models() {
        println!("models:     none configured: local tier only (see README, [routing])");
    }
    let local = classifier.classify(text);
    let routed = router
        .classify(store, Subject::default(), detected.language, text, local)
        .await?;
    store.record_free_calls(&routed.free_calls).await?;
    print_route(&routed.events);
    Ok(routed)
}

pub(super) fn print_route(events: &[NewEvent]) {
    for event in events {
        let label = if event.kind == "model_call" {
            "call"
        } else {
            "route"
        };
        println!("{label:<11} {}", event.summary);
    }
}
