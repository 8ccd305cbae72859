//! `tuesday export-labels`: reps' decisions as a labelled dataset for the next `tuesday train`.
//! Each line is `{"text", "language", "intent"}` plus what the rep did: approved as written,
//! edited (with the edit distance), or rejected (with the reason). Rejected drafts say only that
//! the reply was wrong, not the intent, so they are left out unless asked for.

use crate::config::Settings;
use crate::store::{ReviewedMessage, Store};
use anyhow::Context;
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct ExportLabelsArgs {
    /// Where to write the JSONL; `-` (the default) is standard output.
    #[arg(long, default_value = "-")]
    pub out: PathBuf,
    /// Only decisions on or after this UTC date (YYYY-MM-DD).
    #[arg(long)]
    pub since: Option<chrono::NaiveDate>,
    /// Also write rejected drafts (their intent is the classifier's, unconfirmed).
    #[arg(long)]
    pub include_rejected: bool,
}

/// One line of the export. `text`, `language` and `intent` are what `tuesday train` reads.
#[derive(Debug, Serialize, PartialEq)]
pub struct Label {
    pub text: String,
    pub language: String,
    pub intent: String,
    /// `approved`, `edited` or `rejected`.
    pub label_source: &'static str,
    pub message_id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edit_distance: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edit_share: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reject_reason: Option<String>,
}

impl Label {
    pub fn from_review(r: ReviewedMessage) -> Label {
        let edited = r.final_body.as_deref().filter(|f| *f != r.draft);
        let label_source = match (r.state.as_str(), edited) {
            ("rejected", _) => "rejected",
            (_, Some(_)) => "edited",
            _ => "approved",
        };
        Label {
            edit_distance: edited.map(|f| strsim::levenshtein(&r.draft, f)),
            edit_share: edited.map(|f| (crate::text::edit_share(&r.draft, f) * 1000.0).round() / 1000.0),
            text: r.text,
            language: r.language,
            intent: r.intent,
            label_source,
            message_id: r.message_id,
            reject_reason: r.reject_reason.filter(|_| label_source == "rejected"),
        }
    }
}

pub async fn run(args: &ExportLabelsArgs, settings: &Settings) -> anyhow::Result<()> {
    let store = Store::open(&settings.database_url).await?;
    let since = args
        .since
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map_or(0, |t| t.and_utc().timestamp_millis());
    let labels: Vec<Label> = store
        .reviewed_messages(since)
        .await?
        .into_iter()
        .map(Label::from_review)
        .filter(|l| args.include_rejected || l.label_source != "rejected")
        .collect();
    let mut out: Box<dyn Write> = if args.out.as_os_str() == "-" {
        Box::new(std::io::stdout().lock())
    } else {
        let file = std::fs::File::create(&args.out)
            .with_context(|| format!("while creating {}", args.out.display()))?;
        Box::new(std::io::BufWriter::new(file))
    };
    for label in &labels {
        serde_json::to_writer(&mut out, label)?;
        writeln!(out)?;
    }
    out.flush()?;
    let count = |source: &str| labels.iter().filter(|l| l.label_source == source).count();
    eprintln!(
        "Wrote {} labels ({} approved as written, {} edited, {} rejected).",
        labels.len(),
        count("approved"),
        count("edited"),
        count("rejected")
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reviewed(state: &str, draft: &str, final_body: Option<&str>) -> ReviewedMessage {
        ReviewedMessage {
            message_id: 7,
            text: "quanto custa o curso?".into(),
            language: "pt".into(),
            intent: "pricing".into(),
            state: state.into(),
            draft: draft.into(),
            final_body: final_body.map(str::to_owned),
            reject_reason: Some("tom errado".into()),
            decided_at: 0,
        }
    }

    #[test]
    fn each_decision_becomes_its_kind_of_label() {
        let as_written = Label::from_review(reviewed(
            "approved",
            "Olá! Custa R$ 990.",
            Some("Olá! Custa R$ 990."),
        ));
        assert_eq!(as_written.label_source, "approved");
        assert_eq!(
            (as_written.edit_distance, as_written.reject_reason.as_deref()),
            (None, None)
        );

        let edited = Label::from_review(reviewed(
            "approved",
            "Olá! Custa R$ 990.",
            Some("Oi! Custa R$ 990."),
        ));
        assert_eq!(edited.label_source, "edited");
        // "Olá" → "Oi": one letter changed, one removed; distance counts characters, not bytes.
        assert_eq!(edited.edit_distance, Some(2));
        assert!(edited.edit_share.is_some_and(|s| s > 0.0 && s < 0.5));

        let rejected = Label::from_review(reviewed("rejected", "Olá! Custa R$ 990.", None));
        assert_eq!(rejected.label_source, "rejected");
        assert_eq!(rejected.reject_reason.as_deref(), Some("tom errado"));
        let line = serde_json::to_string(&rejected).expect("json");
        assert!(
            line.contains("\"intent\":\"pricing\"") && !line.contains("edit_distance"),
            "{line}"
        );
    }
}
