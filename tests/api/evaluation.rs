//! The auto-send gate: drafts wait in shadow until `tuesday eval` (the real command, on the
//! test's own database) shows the classifier in use good enough on the held-out set.

use crate::helpers::{TestApp, client, spawn_app_with, text_delivery};

fn demo_test_split() -> Vec<String> {
    ["es", "pt", "en"]
        .iter()
        .map(|l| format!("{}/data/demo/{l}-test.jsonl", env!("CARGO_MANIFEST_DIR")))
        .collect()
}

/// Runs `tuesday eval` on the app's database; returns what it printed on stderr.
fn run_eval(app: &TestApp, datasets: &[String], min_accuracy: &str) -> String {
    let mut command = app.command("eval");
    command.env("TUESDAY_PIPELINE__AUTO_SEND_MIN_ACCURACY", min_accuracy);
    for d in datasets {
        command.arg("--dataset").arg(d);
    }
    let output = command.output().expect("run tuesday eval");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "tuesday eval failed: {stderr}");
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("Intent accuracy"),
        "the report is printed"
    );
    stderr
}

async fn draft_state(app: &TestApp, wamid: &str) -> (String, String) {
    let sql = format!(
        "SELECT d.state FROM drafts d JOIN messages m ON m.id = d.message_id WHERE m.external_id = '{wamid}'"
    );
    let state = app.text(&sql).await;
    let sql = format!(
        "SELECT d.hold_reasons FROM drafts d JOIN messages m ON m.id = d.message_id WHERE m.external_id = '{wamid}'"
    );
    (state, app.text(&sql).await)
}

#[tokio::test]
async fn auto_send_waits_for_a_good_enough_evaluation_of_the_model_in_use() {
    // The demo classifier scores below 0.93; 0.5 lets this test see the gate open.
    let app = spawn_app_with(|s| s.pipeline.auto_send_min_accuracy = 0.5).await;
    let greeting = text_delivery("wamid.gate.es", "5215511110000", "Lupe", "hola!! buenos dias 👋");
    assert_eq!(app.post_webhook(&greeting).await.status(), 200);
    app.drain().await;
    let (state, reasons) = draft_state(&app, "wamid.gate.es").await;
    assert_eq!(state, "held", "no evaluation yet: nothing goes out on its own");
    assert!(reasons.contains("shadow_mode"), "{reasons}");

    let manager = client();
    app.log_in(&manager, "manager").await;
    let (status, page) = app.get_page(&manager, "/evaluation").await;
    assert_eq!(status, 200);
    assert!(page.contains("has not been evaluated"), "{page}");
    assert!(
        app.get_page(&manager, "/dashboard")
            .await
            .1
            .contains("Auto-send is off")
    );

    // A run on only part of the held-out set does not count.
    let partial = run_eval(&app, &demo_test_split()[..1], "0.5");
    assert!(partial.contains("not the configured held-out set"), "{partial}");
    let (_, page) = app.get_page(&manager, "/evaluation").await;
    assert!(page.contains("Auto-send is off"), "{page}");

    let full = run_eval(&app, &demo_test_split(), "0.5");
    assert!(
        full.contains("Stored as evaluation run #") && full.contains("Auto-send is on"),
        "{full}"
    );
    let (_, page) = app.get_page(&manager, "/evaluation").await;
    assert!(page.contains("Auto-send is on"), "{page}");
    assert!(
        page.contains("Confusion matrix") && page.contains("<svg"),
        "charts are drawn"
    );
    assert!(
        page.contains("<polyline class=\"acc\" points=\"48,"),
        "the curve has points"
    );
    assert!(
        !app.get_page(&manager, "/dashboard")
            .await
            .1
            .contains("Auto-send is off")
    );

    let greeting = text_delivery("wamid.gate.pt", "5511911110000", "Bia", "oi, bom dia! tudo bem?");
    assert_eq!(app.post_webhook(&greeting).await.status(), 200);
    app.drain().await;
    assert_eq!(draft_state(&app, "wamid.gate.pt").await.0, "auto_sent");
}

#[tokio::test]
async fn a_model_below_the_bar_stays_in_shadow_and_reps_cannot_see_the_page() {
    let app = spawn_app_with(|s| s.pipeline.auto_send_min_accuracy = 0.93).await;
    let stderr = run_eval(&app, &demo_test_split(), "0.93");
    assert!(stderr.contains("below the 93.0% required"), "{stderr}");

    let greeting = text_delivery("wamid.gate.en", "14155550123", "Sam", "hi there, thanks!");
    assert_eq!(app.post_webhook(&greeting).await.status(), 200);
    app.drain().await;
    let (state, reasons) = draft_state(&app, "wamid.gate.en").await;
    assert_eq!(state, "held");
    assert!(reasons.contains("below the 93.0% required"), "{reasons}");

    let rep = client();
    app.log_in(&rep, "rep").await;
    assert_eq!(app.get_page(&rep, "/evaluation").await.0, 403);
}

/// With models configured, eval runs the live cascade: messages the local tier doubts go to
/// the fast tier (a stand-in speaking Anthropic's API), and the report counts that tier's share
/// and cost.
#[tokio::test]
async fn eval_runs_the_configured_cascade() {
    use crate::routing::standin::{classified, spawn_models};
    let app = spawn_app_with(|_| {}).await;
    let (models, standin) = spawn_models().await;
    let dir = tempfile::tempdir().expect("dir");
    let dataset = dir.path().join("pricing.jsonl");
    let lines = [
        r#"{"text": "cuanto sale el curso de python??", "language": "es", "intent": "pricing"}"#,
        r#"{"text": "qto custa o curso de dados? 💸", "language": "pt", "intent": "pricing"}"#,
        r#"{"text": "how much is the UX course in USD", "language": "en", "intent": "pricing"}"#,
    ];
    std::fs::write(&dataset, lines.join("\n")).expect("dataset");
    let config = dir.path().join("tuesday.toml");
    std::fs::write(
        &config,
        format!(
            "[routing]\ntau0 = 1.0\n[routing.providers.anthropic]\napi_key = \"sk-ant-standin\"\nbase_url = \"{models}\"\n[routing.tiers]\nfast = [{{ provider = \"anthropic\", model = \"claude-haiku-4-5\" }}]\n"
        ),
    )
    .expect("config");
    standin.queue(
        "claude-haiku-4-5",
        (0..3).map(|_| classified("pricing", 0.95)).collect(),
    );

    let mut eval = app.command("eval");
    eval.env("TUESDAY_CONFIG", &config)
        .arg("--json")
        .arg("--dataset")
        .arg(&dataset);
    // The stand-in answers on this test's runtime: wait for the child off it.
    let output = tokio::task::spawn_blocking(move || eval.output())
        .await
        .expect("join")
        .expect("run tuesday eval");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON report");
    assert_eq!(report["intent_accuracy"], 1.0);
    let fast = report["tiers"]
        .as_array()
        .expect("tiers")
        .iter()
        .find(|t| t["tier"] == "fast")
        .expect("a fast tier row");
    assert_eq!(fast["messages"], 3);
    assert_ne!(fast["cost"]["amount"], "0", "the calls cost something: {fast}");
    assert_eq!(standin.requests_for("claude-haiku-4-5").len(), 3);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM model_calls WHERE tier = 'fast' AND outcome = 'ok'")
            .await,
        3,
        "the cascade's calls are recorded like any others"
    );
}
