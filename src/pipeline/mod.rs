//! What happens to an inbound message: language → classification → draft → guardrails →
//! decision. Each stage is pure and lives in its own module; this one runs them in order and
//! hands the result, with its trace, to the store in one transaction.

pub mod classify;
pub mod decide;
pub mod draft;
pub mod language;
pub mod route;

use crate::domain::{Intent, Language};
use crate::failover;
use crate::gate;
use crate::guardrails::{self, Verdict};
use crate::jobs::Outcome;
use crate::routing::{self, DraftTask, RoutedClassification, Subject, prompts::DraftInput};
use crate::state::AppState;
use crate::store::{InboundContext, NewDraft, NewEvent};
use anyhow::Context;
use serde_json::json;

/// Processes one inbound message. Idempotent: a message that already has a draft is left alone.
#[tracing::instrument(skip(state), fields(trace_id = %crate::observability::export::trace_id_hex(message_id)))]
pub async fn process_inbound(state: &AppState, message_id: i64) -> anyhow::Result<Outcome> {
    let store = &state.store;
    let Some(ctx) = store.inbound_context(message_id).await? else {
        return Ok(Outcome::Failed(format!(
            "inbound message {message_id} does not exist"
        )));
    };
    if ctx.has_draft {
        return Ok(Outcome::Done);
    }
    let catalog = &state.catalog;
    let clock = state.clock();
    let started = clock.now_millis();
    let (detected, market) = language_and_market(state, &ctx);
    let language_done = clock.now_millis();
    let subject = Subject {
        message_id: Some(message_id),
        conversation_id: Some(ctx.conversation_id),
        contact_id: Some(ctx.contact_id),
    };
    let local = state.classifier.classify(&ctx.body);
    let is_text = is_text(&ctx);
    let routed_class = if is_text {
        state
            .router
            .classify(store, subject, detected.language, &ctx.body, local)
            .await
            .context("while routing the classification")?
    } else {
        RoutedClassification::local(local)
    };
    let classification = &routed_class.classification;
    let classify_done = clock.now_millis();
    let intent = intent_of(is_text, classification.intent);
    let draft = draft::compose(
        &state.replies,
        catalog,
        detected.language,
        intent,
        &ctx.body,
        market,
    );
    let settings = &state.settings.pipeline;
    let routing_settings = state.router.settings();
    let (mut facts, thread) = routing::facts::gather(
        store,
        catalog,
        &ctx,
        intent,
        is_text,
        routing_settings.heavy_edit_ratio,
    )
    .await?;
    let thread: Vec<(&str, &str)> = thread.iter().map(|(who, text)| (*who, text.as_str())).collect();
    let gate = gate::prepare_with(state, ctx.clone(), Some(detected.language), state.clock().now()).await?;
    facts.window_closed = gate.window_closed(&state.policy);
    let task = DraftTask {
        subject,
        input: DraftInput {
            catalog,
            market,
            language: detected.language,
            intent,
            thread: &thread,
            reference: &draft.body,
            failures: &[],
        },
        facts,
        template_body: &draft.body,
        template_name: &draft.template,
    };
    let confidence = Some((classification.confidence, settings.confidence_threshold));
    // Each candidate is judged as it would go out: an email draft as a letter.
    let check = |body: &str, canary: Option<&str>| {
        gate.check(
            state,
            &gate.for_channel(body, detected.language),
            confidence,
            canary,
        )
    };
    let mut routed = state
        .router
        .draft(store, &task, check)
        .await
        .context("while routing the draft")?;
    routed.body = gate.for_channel(&routed.body, detected.language);
    let findings = &routed.findings;
    let draft_done = clock.now_millis();
    let opt_out = guardrails::opt_out::detect(&ctx.body, &state.policy).is_some();
    let gate_status = state.auto_send.status(store).await?;
    let mut decision = decide::decide(intent, findings, &settings.auto_send_intents, &gate_status);
    // Degraded mode: every model this task wanted was down, so the local tier stood in.
    let degraded = routed_class.degraded || routed.degraded;
    let held_degraded = degraded
        && failover::degraded::hold(
            &mut decision,
            intent,
            &state.settings.failover.degraded_auto_send_intents,
        );

    let on = |event: NewEvent| event.on(message_id, ctx.conversation_id);
    let mut events = vec![on(NewEvent::new(
        "language",
        format!("Language {} by {}", detected.language, detected.method.describe()),
    )
    .detail(json!({
        "language": detected.language,
        "method": detected.method.describe(),
        "whatlang_confidence": detected.confidence,
        "market": market.code,
    }))
    .timed(started, language_done))];
    events.extend(routed_class.events.iter().cloned().map(on));
    let classified_by = match routed_class.tier {
        routing::Tier::Local => "local classifier".to_owned(),
        tier => format!("{tier}: {}", routed_class.model),
    };
    events.push(on(NewEvent::new(
        "classified",
        format!("Intent {intent} with confidence {:.2} ({classified_by})", classification.confidence),
    )
    .detail(json!({
        "intent": intent,
        "confidence": classification.confidence,
        "tier": routed_class.tier,
        "model": routed_class.model,
        "cost_usd": routed_class.cost.normalize().to_string(),
        "ranked": classification.ranked.iter().take(3).map(|(i, p)| json!({"intent": i, "p": p})).collect::<Vec<_>>(),
    }))
    .timed(language_done, classify_done)));
    events.extend(routed.events.iter().cloned().map(on));
    let drafted = match routed.tier {
        routing::Tier::Local => format!("Draft from template {}", draft.template),
        tier => format!("Draft by {tier}: {}", routed.model),
    };
    events.push(on(NewEvent::new("drafted", drafted)
        .detail(json!({
            "template": draft.template,
            "source": routed.source,
            "tier": routed.tier,
            "cost_usd": routed.cost.normalize().to_string(),
            "courses": draft.courses,
            "body": routed.body,
        }))
        .timed(classify_done, draft_done)));
    if degraded {
        events.push(on(NewEvent::new(
            "degraded",
            "Degraded mode: every model for this task is down; the local classifier and the templates stand in",
        )
        .detail(json!({
            "classification": routed_class.degraded,
            "draft": routed.degraded,
            "held": held_degraded,
        }))));
    }
    for finding in findings {
        events.push(on(NewEvent::new(
            "guardrail",
            format!("{}: {:?} ({})", finding.rule, finding.verdict, finding.reason).to_lowercase(),
        )
        .detail(serde_json::to_value(finding)?)));
    }
    let (kind, summary) = if decision.auto_send {
        ("auto_sent", "Decision: send without review".to_owned())
    } else {
        let why: Vec<&str> = decision.reasons.iter().map(|r| r.reason.as_str()).collect();
        ("held", format!("Decision: hold for review ({})", why.join(", ")))
    };
    events.push(on(
        NewEvent::new(kind, summary).detail(serde_json::to_value(&decision)?)
    ));

    let blocked = findings.iter().any(|f| f.verdict == Verdict::Block);
    if blocked {
        tracing::warn!(message_id, "a guardrail blocked the draft; holding it for review");
    }
    let saved = store
        .save_draft(&NewDraft {
            body: routed.body.clone(),
            source: routed.source.clone(),
            auto_send: decision.auto_send,
            hold_reasons: serde_json::to_value(&decision.reasons)?,
            opt_out,
            degraded_check_at: held_degraded
                .then(|| clock.now_millis() + state.settings.failover.resume_check_secs as i64 * 1000),
            events,
            free_calls: [routed_class.free_calls.as_slice(), routed.free_calls.as_slice()].concat(),
            ..new_draft(&ctx, market, detected.language, intent, classification.confidence)
        })
        .await
        .context("while saving the draft")?;
    if saved {
        failover_bookkeeping(state, message_id, degraded, &routed_class, &routed).await?;
    }
    if decision.auto_send {
        state.jobs_ready.notify_waiters();
    }
    // One line per message for the logs; the span around it names the message and its trace.
    tracing::info!(
        language = %detected.language,
        %intent,
        classified_by = %routed_class.tier,
        drafted_by = %routed.tier,
        decision = kind,
        degraded,
        "message processed"
    );
    Ok(Outcome::Done)
}

/// Whether the message is text to classify (not an image, audio or a location).
fn is_text(ctx: &InboundContext) -> bool {
    matches!(ctx.kind.as_str(), "text" | "button" | "interactive" | "email")
}

/// The intent a message is handled as: what the classifier read, for text only.
fn intent_of(is_text: bool, classified: Intent) -> Intent {
    if is_text { classified } else { Intent::Other }
}

/// The message's language, from its text and what the conversation and the contact's number
/// say, and the market whose prices and hours apply.
fn language_and_market<'a>(
    state: &'a AppState,
    ctx: &InboundContext,
) -> (language::Detection, &'a crate::catalog::Market) {
    let catalog = &state.catalog;
    let market = gate::known_market(catalog, ctx);
    let earlier: Option<Language> = ctx.conversation_language.as_deref().and_then(|l| l.parse().ok());
    let detected = language::detect(&ctx.body, earlier, market.map(|m| m.language));
    let market = market.unwrap_or_else(|| catalog.default_market(detected.language));
    (detected, market)
}

/// A draft of `ctx`'s message with what the message itself decides; the caller fills in the
/// body, its source, the decision and the trace.
fn new_draft(
    ctx: &InboundContext,
    market: &crate::catalog::Market,
    language: Language,
    intent: Intent,
    confidence: f64,
) -> NewDraft {
    NewDraft {
        message_id: ctx.message_id,
        conversation_id: ctx.conversation_id,
        contact_id: ctx.contact_id,
        market: market.code.clone(),
        language: language.code().to_owned(),
        intent: intent.as_str().to_owned(),
        confidence,
        body: String::new(),
        source: String::new(),
        auto_send: false,
        hold_reasons: json!([]),
        opt_out: false,
        degraded_check_at: None,
        events: Vec::new(),
        free_calls: Vec::new(),
    }
}

/// The hold reason of a message handed to a person because processing it failed for good.
pub const PROCESSING_FAILED: &str = "processing_failed";

/// The last resort for a message whose processing failed for good (its job ran out of
/// attempts): it goes to the review inbox, held for a person, with a draft from the templates
/// and the error that stopped it, so no message is dropped. Nothing here calls a model.
pub async fn hand_over(state: &AppState, message_id: i64, error: &str) -> anyhow::Result<()> {
    let store = &state.store;
    let Some(ctx) = store
        .inbound_context(message_id)
        .await?
        .filter(|ctx| !ctx.has_draft)
    else {
        return Ok(());
    };
    let (detected, market) = language_and_market(state, &ctx);
    let classification = state.classifier.classify(&ctx.body);
    let intent = intent_of(is_text(&ctx), classification.intent);
    let draft = draft::compose(
        &state.replies,
        &state.catalog,
        detected.language,
        intent,
        &ctx.body,
        market,
    );
    let source = format!("template:{}", draft.template);
    let reason = decide::HoldReason {
        rule: "pipeline".to_owned(),
        reason: PROCESSING_FAILED.to_owned(),
        message: format!(
            "processing this message failed for good ({error}); the draft is from a template, \
             for a person to check"
        ),
        span: None,
    };
    let event = NewEvent::new(
        "handed_over",
        "Processing failed for good: handed to a person with a template draft",
    )
    .on(message_id, ctx.conversation_id)
    .detail(json!({ "error": error, "intent": intent, "language": detected.language, "template": draft.template }));
    store
        .save_draft(&NewDraft {
            body: draft.body,
            source,
            auto_send: false,
            hold_reasons: serde_json::to_value([reason])?,
            opt_out: guardrails::opt_out::detect(&ctx.body, &state.policy).is_some(),
            degraded_check_at: None,
            events: vec![event],
            ..new_draft(&ctx, market, detected.language, intent, classification.confidence)
        })
        .await
        .context("while handing the message to a person")?;
    tracing::warn!(
        message_id,
        error,
        "processing failed for good: the message waits for a person"
    );
    Ok(())
}

/// Enters degraded mode when this task found its models down, and leaves it when a model
/// answered. (The re-draft of a draft degraded mode held is stored with the draft.)
async fn failover_bookkeeping(
    state: &AppState,
    message_id: i64,
    degraded: bool,
    classification: &RoutedClassification,
    draft: &routing::RoutedDraft,
) -> anyhow::Result<()> {
    let store = &state.store;
    if degraded {
        if store
            .enter_degraded("every model of a task's chain is down")
            .await?
        {
            tracing::warn!(
                message_id,
                "degraded mode: models are down, the local tier stands in"
            );
        }
    } else if (classification.tier != routing::Tier::Local || draft.tier != routing::Tier::Local)
        && let Some(since) = store.leave_degraded().await?
    {
        tracing::info!(
            message_id,
            lasted_ms = state.clock().now_millis() - since,
            "degraded mode is over: a model answered"
        );
    }
    Ok(())
}
