//! Every routing rule through the running app: the classification cascade, drafting tiers,
//! post-draft escalation, budgets, canaries and outages, the dashboard.

use super::standin::*;
use super::*;

/// Doubt escalates: local → fast below τ0, fast → standard below τ1; each call priced exactly.
#[tokio::test]
async fn classification_escalates_on_doubt_and_prices_every_call() {
    let (app, standin) = spawn_routed(|s| s.routing.tau0 = 1.0).await;
    standin.queue(HAIKU, vec![classified("greeting", 0.5)]);
    standin.queue(SONNET, vec![classified("greeting", 0.93)]);
    let id = send(&app, "wamid.R1", "34612345678", "hola!! 👋").await;

    assert_eq!(
        call_outcomes(&app, id).await,
        [
            "classify:fast:ok",
            "classify:standard:ok",
            "classify:local:ok",
            "draft:local:ok"
        ]
    );
    // Haiku: 400 × $1 + 12 × $5 = 460 µ$; Sonnet 5: 400 × $2 + 12 × $10 = 920 µ$.
    assert_eq!(
        app.text("SELECT cost_usd FROM model_calls WHERE tier = 'fast'")
            .await,
        "0.00046"
    );
    assert_eq!(
        app.text("SELECT cost_usd FROM model_calls WHERE tier = 'standard'")
            .await,
        "0.00092"
    );
    let store = &app.state.store;
    let message = store.spend_for(SpendScope::Message(id)).await.expect("spend");
    assert_eq!((message.calls, message.cost_usd), (2, d("0.00138")));
    let conversation_id = app.count("SELECT conversation_id FROM drafts").await;
    let contact_id = app.count("SELECT contact_id FROM conversations").await;
    assert_eq!(
        store
            .spend_for(SpendScope::Conversation(conversation_id))
            .await
            .expect("s")
            .cost_usd,
        d("0.00138")
    );
    assert_eq!(
        store
            .spend_for(SpendScope::Contact(contact_id))
            .await
            .expect("s")
            .cost_usd,
        d("0.00138")
    );
    assert_eq!(store.spend_to_date().await.expect("spend").today, d("0.00138"));

    // The answer kept is standard's; a greeting is drafted from its template and sent.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM model_calls WHERE used = TRUE AND tier = 'standard'")
            .await,
        1
    );
    assert_eq!(app.text("SELECT source FROM drafts").await, "template:greeting");
    assert_eq!(app.text("SELECT state FROM drafts").await, "auto_sent");
    let trace = trace_kinds(&app, id).await;
    let routes: Vec<&str> = trace
        .iter()
        .filter(|(k, _)| k == "route")
        .map(|(_, s)| s.as_str())
        .collect();
    assert!(
        routes[0].contains("escalates to fast") && routes[0].contains("below τ0"),
        "{routes:?}"
    );
    assert!(
        routes[1].contains("escalates to standard") && routes[1].contains("below τ1"),
        "{routes:?}"
    );
    assert!(
        trace
            .iter()
            .any(|(k, s)| k == "classified" && s.contains("standard: claude-sonnet-5")),
        "{trace:?}"
    );
    let rep = client();
    app.log_in(&rep, "rep").await;
    let (_, page) = app.get_page(&rep, &format!("/messages/{id}/trace")).await;
    assert!(
        page.contains("Model cost: US$ 0.0014 in 2 model call(s)"),
        "{page}"
    );
}

/// An answer that breaks the schema is that model's failure: it is paid for, and the task
/// escalates; the pipeline never sees it.
#[tokio::test]
async fn answers_that_break_the_schema_escalate() {
    let (app, standin) = spawn_routed(|s| s.routing.tau0 = 1.0).await;
    standin.queue(
        HAIKU,
        vec![answer(
            r#"{"intent":"refund","confidence":0.9}"#,
            Tokens {
                input: 400,
                output: 12,
                ..Tokens::default()
            },
        )],
    );
    standin.queue(SONNET, vec![classified("pricing", 0.9)]);
    let id = send(&app, "wamid.R2", "5511987654321", "quanto custa python?").await;
    assert_eq!(
        call_outcomes(&app, id).await,
        [
            "classify:fast:invalid_answer",
            "classify:standard:ok",
            "classify:local:ok",
            "draft:local:ok"
        ]
    );
    assert_eq!(
        app.text("SELECT cost_usd FROM model_calls WHERE outcome = 'invalid_answer'")
            .await,
        "0.00046"
    );
    assert_eq!(app.text("SELECT intent FROM drafts").await, "pricing");
}

/// Complaints go to flagship, the default to standard, simple intents to templates.
#[tokio::test]
async fn drafting_picks_the_tier_by_rule() {
    let (app, standin) = spawn_routed(|s| s.routing.tau0 = 0.0).await;
    standin.queue(
        OPUS,
        vec![drafted(
            "Lamentamos muito, Ana. Um consultor vai falar com você hoje.",
        )],
    );
    standin.queue(SONNET, vec![drafted("¡Claro! Un asesor te escribirá enseguida.")]);
    let complaint = send(
        &app,
        "wamid.C1",
        "5511987654321",
        "Quero cancelar, o curso é péssimo e quero meu dinheiro de volta!! 😡",
    )
    .await;
    let human = send(&app, "wamid.C2", "34612345678", "quiero hablar con un asesor").await;
    let greeting = send(&app, "wamid.C3", "16505551234", "hola 👋").await;

    let source = |id: i64| format!("SELECT source FROM drafts WHERE message_id = {id}");
    assert_eq!(app.text(&source(complaint)).await, "model:flagship:claude-opus-5");
    assert_eq!(app.text(&source(human)).await, "model:standard:claude-sonnet-5");
    assert_eq!(app.text(&source(greeting)).await, "template:greeting");
    assert_eq!(standin.requests().len(), 2, "the greeting cost nothing");
    let opus = &standin.requests_for(OPUS)[0];
    let user: Value =
        serde_json::from_str(opus.body["messages"][0]["content"].as_str().unwrap_or("")).expect("json");
    assert_eq!(user["conversation"][0]["from"], "customer");
    assert!(
        opus.body["system"][0]["text"]
            .as_str()
            .unwrap_or("")
            .contains("Brazilian Portuguese")
    );
    let trace = trace_kinds(&app, complaint).await;
    assert!(
        trace
            .iter()
            .any(|(k, s)| k == "route" && s.contains("Draft on flagship: complaints")),
        "{trace:?}"
    );
}

/// A standard draft that fails a guardrail is re-drafted once on flagship with the reason; if
/// flagship fails too, a person takes over.
#[tokio::test]
async fn a_standard_draft_that_fails_a_guardrail_is_redrafted_on_flagship() {
    let (app, standin) = spawn_routed(|s| s.routing.tau0 = 0.0).await;
    standin.queue(
        SONNET,
        vec![drafted("Un asesor te llama hoy. Python desde cero cuesta 199 €.")],
    );
    standin.queue(
        OPUS,
        vec![drafted("Un asesor te escribirá hoy mismo para ayudarte.")],
    );
    let id = send(&app, "wamid.P1", "34612345678", "quiero hablar con un asesor").await;
    assert_eq!(
        app.text("SELECT source FROM drafts").await,
        "model:flagship:claude-opus-5"
    );
    assert_eq!(
        app.text("SELECT body FROM drafts").await,
        "Un asesor te escribirá hoy mismo para ayudarte."
    );
    let redraft = &standin.requests_for(OPUS)[0];
    let user: Value =
        serde_json::from_str(redraft.body["messages"][0]["content"].as_str().unwrap_or("")).expect("json");
    let reasons = user["previous_draft_refused_because"].to_string();
    assert!(
        reasons.contains("price_not_in_catalog") && reasons.contains("199"),
        "{reasons}"
    );
    assert!(
        call_outcomes(&app, id)
            .await
            .contains(&"redraft:flagship:ok".to_owned())
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM model_calls WHERE used = TRUE AND task = 'redraft'")
            .await,
        1
    );

    standin.queue(SONNET, vec![drafted("Python desde cero cuesta 199 €.")]);
    standin.queue(OPUS, vec![drafted("Hoy Python desde cero cuesta solo 150 €.")]);
    let id = send(&app, "wamid.P2", "34698765432", "quiero hablar con un asesor").await;
    let state = app
        .text(&format!("SELECT state FROM drafts WHERE message_id = {id}"))
        .await;
    assert_eq!(state, "held");
    let trace = trace_kinds(&app, id).await;
    assert!(
        trace
            .iter()
            .any(|(k, s)| k == "route" && s.contains("held for a person")),
        "{trace:?}"
    );
    assert_eq!(
        standin.requests_for(OPUS).len(),
        2,
        "one re-draft per message, no more"
    );
}

/// Near the limit the tier steps down; a call whose worst case would cross the cap is never made.
#[tokio::test]
async fn the_budget_steps_tiers_down_and_never_crosses_the_cap() {
    let (app, standin) = spawn_routed(|s| {
        s.routing.tau0 = 0.0;
        s.routing.budget.daily_usd = d("1");
        s.routing.budget.monthly_usd = d("100");
    })
    .await;
    let spend = |amount: &str| NewModelCall {
        message_id: None,
        conversation_id: None,
        contact_id: None,
        task: "draft",
        tier: "standard",
        provider: "anthropic".to_owned(),
        model: SONNET.to_owned(),
        usage: Default::default(),
        estimated_input_tokens: 0,
        estimated_output_tokens: 0,
        cost_usd: d(amount),
        latency_ms: 1,
        outcome: "ok".to_owned(),
        error: None,
        used: false,
    };
    let complaint = "Quero cancelar, o curso é péssimo e quero meu dinheiro de volta!! 😡";
    app.state
        .store
        .settle_call(None, &spend("0.85"))
        .await
        .expect("spend");
    standin.queue(
        SONNET,
        vec![drafted("Lamentamos muito. Um consultor vai te ligar hoje.")],
    );
    let at_85 = send(&app, "wamid.B1", "5511987654321", complaint).await;
    assert_eq!(
        app.text(&format!("SELECT source FROM drafts WHERE message_id = {at_85}"))
            .await,
        "model:standard:claude-sonnet-5"
    );
    let trace = trace_kinds(&app, at_85).await;
    assert!(
        trace
            .iter()
            .any(|(k, s)| k == "route" && s.contains("standard at most")),
        "{trace:?}"
    );

    app.state
        .store
        .settle_call(None, &spend("0.08"))
        .await
        .expect("spend");
    standin.queue(
        HAIKU,
        vec![drafted("Lamentamos muito. Um consultor vai te ligar hoje.")],
    );
    let at_93 = send(&app, "wamid.B2", "5511912345678", complaint).await;
    assert_eq!(
        app.text(&format!("SELECT source FROM drafts WHERE message_id = {at_93}"))
            .await,
        "model:fast:claude-haiku-4-5"
    );

    // Past 97%: local only.
    app.state
        .store
        .settle_call(None, &spend("0.05"))
        .await
        .expect("spend");
    let before = standin.requests().len();
    let at_98 = send(&app, "wamid.B3", "5511955555555", complaint).await;
    assert!(
        app.text(&format!("SELECT source FROM drafts WHERE message_id = {at_98}"))
            .await
            .starts_with("template:")
    );
    assert_eq!(standin.requests().len(), before);
    let trace = trace_kinds(&app, at_98).await;
    assert!(
        trace
            .iter()
            .any(|(k, s)| k == "route" && s.contains("local only")),
        "{trace:?}"
    );
}

/// Whatever the share used, a call whose worst case does not fit under the cap is never made.
#[tokio::test]
async fn a_call_that_could_cross_the_hard_cap_is_never_made() {
    let (app, standin) = spawn_routed(|s| {
        s.routing.tau0 = 0.0;
        s.routing.budget.daily_usd = d("0.005");
    })
    .await;
    let id = send(
        &app,
        "wamid.H1",
        "5511987654321",
        "Quero cancelar, o curso é péssimo e quero meu dinheiro de volta!! 😡",
    )
    .await;
    assert!(
        app.text(&format!("SELECT source FROM drafts WHERE message_id = {id}"))
            .await
            .starts_with("template:")
    );
    assert!(standin.requests().is_empty(), "no call that could cross the cap");
    let trace = trace_kinds(&app, id).await;
    let skipped = trace
        .iter()
        .filter(|(k, s)| k == "route" && s.contains("would cross the budget"))
        .count();
    assert_eq!(skipped, 3, "flagship, then standard, then fast: {trace:?}");
    assert_eq!(
        app.state.store.spend_to_date().await.expect("spend").today,
        Decimal::ZERO
    );
}

/// A reply that repeats the canary is refused; outages fall through to the templates.
#[tokio::test]
async fn leaked_canaries_and_outages_fall_back_safely() {
    let (app, standin) = spawn_routed(|s| s.routing.tau0 = 0.0).await;
    standin.queue(SONNET, vec![Reply::LeakCanary]);
    standin.queue(OPUS, vec![drafted("Un asesor te escribirá hoy mismo.")]);
    let id = send(&app, "wamid.L1", "34612345678", "quiero hablar con un asesor").await;
    assert_eq!(
        app.text(&format!("SELECT source FROM drafts WHERE message_id = {id}"))
            .await,
        "model:flagship:claude-opus-5"
    );
    let refused = app
        .text("SELECT error FROM model_calls WHERE outcome = 'invalid_answer'")
        .await;
    assert!(refused.contains("canary"), "{refused}");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM drafts WHERE body LIKE '%TUE-CANARY%'")
            .await,
        0
    );

    standin.queue(SONNET, vec![error(529, "overloaded_error")]);
    standin.queue(
        OPUS,
        vec![Reply::Error {
            status: 429,
            kind: "rate_limit_error",
            headers: vec![("retry-after", "30".to_owned())],
        }],
    );
    let id = send(&app, "wamid.L2", "34698765432", "quiero hablar con un asesor").await;
    // Standard is overloaded and retried (the stand-in answers 500 once its queue is empty)
    // until its attempts run out; flagship asks for a 30 s wait, longer than the task allows
    // for one, so the task moves on at once.
    assert_eq!(
        call_outcomes(&app, id).await,
        [
            "classify:local:ok",
            "draft:standard:http_529",
            "draft:standard:http_500",
            "draft:standard:http_500",
            "draft:flagship:http_429",
            "draft:local:ok"
        ]
    );
    assert!(
        app.text(&format!("SELECT source FROM drafts WHERE message_id = {id}"))
            .await
            .starts_with("template:")
    );

    // Keys never reach the trace or the ledger.
    for key in [ANTHROPIC_KEY, OPENAI_KEY] {
        let leaks = app
            .count(&format!(
                "SELECT COUNT(*) FROM events WHERE summary LIKE '%{key}%' OR detail LIKE '%{key}%'"
            ))
            .await
            + app
                .count(&format!(
                    "SELECT COUNT(*) FROM model_calls WHERE error LIKE '%{key}%'"
                ))
                .await;
        assert_eq!(leaks, 0);
    }
    assert!(!format!("{:?}", app.state.settings).contains(ANTHROPIC_KEY));
}

/// The dashboard shows spend and what the same work would have cost on one tier.
#[tokio::test]
async fn the_dashboard_shows_spend_and_both_baselines() {
    let (app, standin) = spawn_routed(|s| s.routing.tau0 = 0.0).await;
    standin.queue(SONNET, vec![drafted("¡Claro! Un asesor te escribirá enseguida.")]);
    send(&app, "wamid.D1", "34612345678", "quiero hablar con un asesor").await;
    send(&app, "wamid.D2", "34612345679", "hola 👋").await;
    let manager = client();
    app.log_in(&manager, "manager").await;
    let (status, page) = app.get_page(&manager, "/dashboard").await;
    assert_eq!(status, 200);
    for text in [
        "Model spend",
        "all on standard (claude-sonnet-5)",
        "all on flagship (claude-opus-5)",
        "Saved against",
        "budget",
    ] {
        assert!(page.contains(text), "{text} missing from the dashboard");
    }
    // 900 × $2 + 80 × $10 = 2,600 µ$ for the one standard draft.
    assert!(page.contains("US$ 0.0026"), "{page}");
}

/// With no provider configured, nothing is called and nothing costs money.
#[tokio::test]
async fn without_providers_everything_stays_local_and_free() {
    let app = spawn_app().await;
    let id = send(&app, "wamid.N1", "34612345678", "quiero hablar con un asesor").await;
    assert_eq!(
        call_outcomes(&app, id).await,
        ["classify:local:ok", "draft:local:ok"]
    );
    assert_eq!(
        app.state.store.spend_to_date().await.expect("spend").today,
        Decimal::ZERO
    );
    let summary = app
        .text(&format!(
            "SELECT summary FROM events WHERE message_id = {id} AND kind = 'route' ORDER BY id DESC LIMIT 1"
        ))
        .await;
    assert!(summary.contains("no standard model is configured"), "{summary}");
}

/// A contact whose previous draft a person rejected, or rewrote, gets flagship next time.
#[tokio::test]
async fn after_a_rejected_or_rewritten_draft_the_contact_gets_flagship() {
    let (app, standin) = spawn_routed(|s| s.routing.tau0 = 0.0).await;
    let rep = app.count("SELECT id FROM users WHERE username = 'rep'").await;
    let source = |id: i64| format!("SELECT source FROM drafts WHERE message_id = {id}");
    let draft_of = |id: i64| format!("SELECT id FROM drafts WHERE message_id = {id}");

    standin.queue(SONNET, vec![drafted("¡Claro! Un asesor te escribirá enseguida.")]);
    let first = send(&app, "wamid.J1", "34612345678", "quiero hablar con un asesor").await;
    let draft_id = app.count(&draft_of(first)).await;
    let rejected = app.state.store.reject_draft(draft_id, 0, rep, "too pushy").await;
    assert!(rejected.expect("reject"));
    standin.queue(OPUS, vec![drafted("Perdona, Marta. Un asesor te llamará hoy.")]);
    let second = send(&app, "wamid.J2", "34612345678", "quiero hablar con un asesor").await;
    assert_eq!(app.text(&source(second)).await, "model:flagship:claude-opus-5");
    let trace = trace_kinds(&app, second).await;
    assert!(
        trace
            .iter()
            .any(|(k, s)| k == "route" && s.contains("previous draft was rejected")),
        "{trace:?}"
    );

    standin.queue(SONNET, vec![drafted("¡Claro! Un asesor te escribirá enseguida.")]);
    let third = send(&app, "wamid.J3", "525512345678", "quiero hablar con un asesor").await;
    let draft_id = app.count(&draft_of(third)).await;
    let rewritten = "Hola Luis, soy Carmen: te llamo mañana a las 10 para ver horarios y becas.";
    let event = tuesday::store::NewEvent::new("approved", "Draft edited and approved");
    app.state
        .store
        .approve_draft(draft_id, 0, rep, rewritten, None, event)
        .await
        .expect("approve");
    standin.queue(
        OPUS,
        vec![drafted("Gracias, Luis. Carmen te escribe en un momento.")],
    );
    let fourth = send(&app, "wamid.J4", "525512345678", "quiero hablar con un asesor").await;
    assert_eq!(app.text(&source(fourth)).await, "model:flagship:claude-opus-5");
    let trace = trace_kinds(&app, fourth).await;
    assert!(
        trace.iter().any(|(k, s)| k == "route" && s.contains("rewritten")),
        "{trace:?}"
    );
}

/// Workers reserving at the same moment never book more than the budget holds.
#[tokio::test]
async fn concurrent_reservations_never_overbook_the_budget() {
    let app = spawn_app().await;
    let attempts: Vec<_> = (0..20)
        .map(|_| {
            let store = app.state.store.clone();
            tokio::spawn(async move {
                store
                    .reserve_spend("standard", d("0.1"), d("1"), d("100"))
                    .await
                    .expect("reserve")
            })
        })
        .collect();
    let mut granted = Vec::new();
    for attempt in attempts {
        if let Some(reservation) = attempt.await.expect("task") {
            granted.push(reservation);
        }
    }
    assert_eq!(granted.len(), 10, "ten reservations of US$ 0.10 fit in US$ 1");
    let store = &app.state.store;
    assert_eq!(store.spend_to_date().await.expect("spend").today, d("1"));
    // Settling releases the reservation and books the real cost instead.
    let call = NewModelCall {
        message_id: None,
        conversation_id: None,
        contact_id: None,
        task: "draft",
        tier: "standard",
        provider: "anthropic".to_owned(),
        model: SONNET.to_owned(),
        usage: Default::default(),
        estimated_input_tokens: 0,
        estimated_output_tokens: 0,
        cost_usd: d("0.004"),
        latency_ms: 1,
        outcome: "ok".to_owned(),
        error: None,
        used: true,
    };
    store.settle_call(granted.pop(), &call).await.expect("settle");
    assert_eq!(store.spend_to_date().await.expect("spend").today, d("0.904"));
}
