//! Reps' decisions become labels: `tuesday export-labels` (the real command, on the test's
//! database) writes approved, edited and rejected drafts with the message they answered.

use crate::helpers::{TestApp, client, spawn_app, text_delivery};
use serde_json::Value;

fn export(app: &TestApp, extra: &[&str]) -> Vec<Value> {
    let dir = tempfile::tempdir().expect("dir");
    let out = dir.path().join("labels.jsonl");
    let output = app
        .command("export-labels")
        .arg("--out")
        .arg(&out)
        .args(extra)
        .output()
        .expect("run tuesday export-labels");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    std::fs::read_to_string(&out)
        .expect("labels file")
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect()
}

#[tokio::test]
async fn approvals_edits_and_rejections_are_exported_as_labels() {
    let app = spawn_app().await;
    let messages = [
        (
            "wamid.lab.es",
            "34600000001",
            "Quiero hablar con un asesor x favor",
        ),
        (
            "wamid.lab.pt",
            "5511900000002",
            "quero falar com um atendente humano 🙏",
        ),
        ("wamid.lab.en", "14155550003", "can i talk to a real person?"),
    ];
    for (wamid, from, body) in messages {
        assert_eq!(
            app.post_webhook(&text_delivery(wamid, from, "X", body))
                .await
                .status(),
            200
        );
    }
    app.drain().await;
    let conversation =
        |wamid: &str| format!("SELECT conversation_id FROM messages WHERE external_id = '{wamid}'");
    let draft = |wamid: &str| {
        format!(
            "SELECT d.id FROM drafts d JOIN messages m ON m.id = d.message_id WHERE m.external_id = '{wamid}'"
        )
    };
    let rep = client();
    app.log_in(&rep, "rep").await;
    let mut edited_body = String::new();
    for (i, (wamid, _, _)) in messages.iter().enumerate() {
        let conversation_id = app.count(&conversation(wamid)).await;
        let draft_id = app.count(&draft(wamid)).await;
        let (csrf, version) = app.form_tokens(&rep, conversation_id).await;
        let base = format!("{}/drafts/{draft_id}", app.address);
        let response = match i {
            0 => rep
                .post(format!("{base}/approve"))
                .form(&[("csrf", csrf.as_str()), ("version", version.as_str())]),
            1 => {
                let original = app
                    .text(&format!("SELECT body FROM drafts WHERE id = {draft_id}"))
                    .await;
                edited_body = format!("{original} Um consultor vai te ligar hoje.");
                rep.post(format!("{base}/approve")).form(&[
                    ("csrf", csrf.as_str()),
                    ("version", version.as_str()),
                    ("body", edited_body.as_str()),
                ])
            }
            _ => rep.post(format!("{base}/reject")).form(&[
                ("csrf", csrf.as_str()),
                ("version", version.as_str()),
                ("reason", "wrong tone"),
            ]),
        }
        .send()
        .await
        .expect("review");
        assert_eq!(response.status(), 303);
    }

    let labels = export(&app, &[]);
    assert_eq!(labels.len(), 2, "rejections are left out by default: {labels:?}");
    assert_eq!(labels[0]["label_source"], "approved");
    assert_eq!(labels[0]["text"], messages[0].2);
    assert_eq!(labels[0]["language"], "es");
    assert!(labels[0].get("edit_distance").is_none());
    assert_eq!(labels[1]["label_source"], "edited");
    assert_eq!(labels[1]["language"], "pt");
    let distance = labels[1]["edit_distance"].as_u64().expect("distance");
    assert_eq!(
        distance as usize,
        " Um consultor vai te ligar hoje.".chars().count()
    );
    assert!(!edited_body.is_empty());
    let recorded = app
        .text("SELECT detail FROM events WHERE kind = 'approved' AND detail LIKE '%\"edited\":true%'")
        .await;
    assert!(
        recorded.contains(&format!("\"edit_distance\":{distance}")),
        "the approval records the edit distance: {recorded}"
    );
    for label in &labels {
        assert!(label["intent"].is_string(), "trainable: {label}");
    }

    let all = export(&app, &["--include-rejected"]);
    assert_eq!(all.len(), 3);
    assert_eq!(all[2]["label_source"], "rejected");
    assert_eq!(all[2]["reject_reason"], "wrong tone");
    assert_eq!(all[2]["language"], "en");
}
