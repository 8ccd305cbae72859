//! A workspace's own taxonomy: a label added in `[taxonomy]` is learned from its examples,
//! offered to the models, held for review unless the workspace lets it auto-send, and scored
//! by `tuesday eval`.

use crate::helpers::{spawn_app_with, text_delivery};
use tuesday::domain::taxonomy::TaxonomySettings;

const TAXONOMY: &str = r#"
[[intents]]
name = "pricing"
[[intents]]
name = "course_info"
[[intents]]
name = "greeting"
[[intents]]
name = "scholarship"
description = "asks about scholarships, grants or financial aid"
examples.es = ["hay becas?", "tienen becas para el curso de ux", "ofrecen ayuda financiera", "beca 🙏", "me dan una beca para el bootcamp de datos?", "becas para desempleados?"]
examples.pt = ["tem bolsa de estudos?", "vcs dao bolsa?", "existe bolsa pro curso de marketing", "bolsa 🙏", "consigo bolsa no curso de dados?", "bolsa integral ou parcial?"]
examples.en = ["any scholarships??", "do you offer financial aid", "is there a grant for the data course", "scholarship 🙏", "can i get a scholarship for the ux bootcamp", "need-based aid?"]
[[intents]]
name = "other"
"#;

fn taxonomy() -> TaxonomySettings {
    toml::from_str(TAXONOMY).expect("taxonomy settings")
}

#[tokio::test]
async fn a_label_the_workspace_added_is_classified_and_held_for_review() {
    let app = spawn_app_with(|s| s.taxonomy = taxonomy()).await;
    let cases = [
        ("wamid.tax.es", "34612345678", "hola!! hay becas disponibles? 🙏"),
        ("wamid.tax.pt", "5511987654321", "oi, vcs tem bolsa de estudo? 😅"),
        ("wamid.tax.en", "14155550123", "hi!! do u have scholarships?"),
    ];
    for (wamid, from, text) in cases {
        app.post_webhook(&text_delivery(wamid, from, "Sam", text)).await;
    }
    app.drain().await;
    for (wamid, _, text) in cases {
        let sql = format!(
            "SELECT d.intent || ' ' || d.state FROM drafts d JOIN messages m ON m.id = d.message_id \
             WHERE m.external_id = '{wamid}'"
        );
        assert_eq!(app.text(&sql).await, "scholarship held", "{text}");
        let sql = format!(
            "SELECT d.hold_reasons FROM drafts d JOIN messages m ON m.id = d.message_id \
             WHERE m.external_id = '{wamid}'"
        );
        assert!(app.text(&sql).await.contains("intent_needs_review"), "{text}");
    }
}

#[tokio::test]
async fn eval_scores_the_workspace_labels_and_names_labels_it_does_not_have() {
    let app = spawn_app_with(|_| {}).await;
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("tuesday.toml");
    std::fs::write(
        &config,
        format!(
            "[pipeline]\nauto_send_intents = [\"greeting\"]\n[taxonomy]\n{}",
            TAXONOMY.replace("[[intents]]", "[[taxonomy.intents]]")
        ),
    )
    .expect("config");
    let dataset = dir.path().join("held-out.csv");
    std::fs::write(
        &dataset,
        "text,language,intent\n\
         \"quiero una beca, es posible?\",es,scholarship\n\
         \"vcs tem bolsa de estudo pro curso de ux?\",pt,scholarship\n\
         \"is there any financial aid for the bootcamp\",en,scholarship\n\
         cuanto cuesta el curso de python,es,pricing\n\
         \"oi, tudo bem? 👋\",pt,greeting\n",
    )
    .expect("dataset");
    let output = app
        .command("eval")
        .env("TUESDAY_CONFIG", &config)
        .args(["--json", "--no-store", "--dataset"])
        .arg(&dataset)
        .output()
        .expect("run tuesday eval");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON report");
    let labels = report["confusion"]["labels"].to_string();
    assert!(labels.contains("scholarship"), "{labels}");
    let scholarship = report["per_intent"]
        .as_array()
        .expect("per intent")
        .iter()
        .find(|c| c["label"] == "scholarship")
        .expect("a scholarship row");
    assert_eq!(scholarship["support"], 3);
    assert!(
        report["intent_accuracy"].as_f64().expect("accuracy") >= 0.8,
        "{report}"
    );

    // A label the workspace dropped is named, with its line and the labels it has.
    std::fs::write(
        &dataset,
        "text,language,intent\nquiero darme de baja,es,opt_out\n",
    )
    .expect("dataset");
    let output = app
        .command("eval")
        .env("TUESDAY_CONFIG", &config)
        .args(["--no-store", "--dataset"])
        .arg(&dataset)
        .output()
        .expect("run tuesday eval");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("line 2")
            && stderr.contains("unknown intent \"opt_out\"")
            && stderr.contains("scholarship"),
        "{stderr}"
    );
}
