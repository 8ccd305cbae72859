//! Stored evaluation runs: what `tuesday eval` found, for the Evaluation page and the
//! auto-send gate.

use super::{Store, on_pool};
use crate::domain::Millis;
use crate::eval::EvalReport;
use anyhow::Context;

/// A run as the lists show it; the whole report is read only for one run.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EvalRunSummary {
    pub id: i64,
    pub at: Millis,
    pub datasets: String,
    pub holdout: String,
    pub classifier: String,
    pub classifier_name: String,
    pub messages: i64,
    pub intent_accuracy: f64,
    pub macro_f1: f64,
    pub language_accuracy: f64,
}

/// The summary columns; a macro so that `concat!` can make each query a `&'static str`.
macro_rules! summary {
    () => {
        "SELECT id, at, datasets, holdout, classifier, classifier_name, messages,
            intent_accuracy, macro_f1, language_accuracy FROM eval_runs"
    };
}

impl Store {
    /// Stores a run; `holdout` and `classifier` are the fingerprints of its data and model.
    pub async fn record_eval_run(
        &self,
        report: &EvalReport,
        holdout: &str,
        classifier: &str,
    ) -> anyhow::Result<i64> {
        let datasets = serde_json::to_string(&report.datasets)?;
        let json = serde_json::to_string(report)?;
        let at = self.clock().now_millis();
        let id: i64 = on_pool!(self, |pool| sqlx::query_scalar(
            "INSERT INTO eval_runs (at, datasets, holdout, classifier, classifier_name, messages,
                 intent_accuracy, macro_f1, language_accuracy, report)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id"
        )
        .bind(at)
        .bind(&datasets)
        .bind(holdout)
        .bind(classifier)
        .bind(&report.classifier)
        .bind(report.messages as i64)
        .bind(report.intent_accuracy)
        .bind(report.macro_f1)
        .bind(report.language_accuracy)
        .bind(&json)
        .fetch_one(pool)
        .await)
        .context("while storing the evaluation run")?;
        Ok(id)
    }

    /// Runs, newest first.
    pub async fn eval_runs(&self, limit: i64) -> anyhow::Result<Vec<EvalRunSummary>> {
        const SQL: &str = concat!(summary!(), " ORDER BY id DESC LIMIT $1");
        Ok(on_pool!(self, |pool| sqlx::query_as(SQL)
            .bind(limit)
            .fetch_all(pool)
            .await)?)
    }

    /// The newest run of `classifier` on the labelled set `holdout`.
    pub async fn latest_eval_run(
        &self,
        holdout: &str,
        classifier: &str,
    ) -> anyhow::Result<Option<EvalRunSummary>> {
        const SQL: &str = concat!(
            summary!(),
            " WHERE holdout = $1 AND classifier = $2 ORDER BY id DESC LIMIT 1"
        );
        Ok(on_pool!(self, |pool| sqlx::query_as(SQL)
            .bind(holdout)
            .bind(classifier)
            .fetch_optional(pool)
            .await)?)
    }

    /// One run's whole report.
    pub async fn eval_report(&self, id: i64) -> anyhow::Result<Option<EvalReport>> {
        let json: Option<String> = on_pool!(self, |pool| sqlx::query_scalar(
            "SELECT report FROM eval_runs WHERE id = $1"
        )
        .bind(id)
        .fetch_optional(pool)
        .await)?;
        json.map(|j| serde_json::from_str(&j).with_context(|| format!("while reading evaluation run {id}")))
            .transpose()
    }
}
