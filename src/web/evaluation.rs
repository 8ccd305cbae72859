//! The Evaluation page: every stored `tuesday eval` run, the auto-send gate's state, and one
//! run's figures with its confusion matrix and coverage curve drawn as SVG on the server.

use crate::domain::Role;
use crate::eval::EvalReport;
use crate::state::AppState;
use crate::store::EvalRunSummary;
use crate::web::auth::CurrentUser;
use crate::web::error::{AppError, AppResult};
use crate::web::templates::{Layout, Page};
use crate::web::timestamp;
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::IntoResponse;
use axum::routing::get;
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new().route("/evaluation", get(show_evaluation))
}

fn percent(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

pub struct RunView {
    pub id: i64,
    pub at: String,
    pub datasets: String,
    pub classifier: String,
    pub messages: i64,
    pub accuracy: String,
    pub macro_f1: String,
    pub language: String,
    /// This run scored the classifier in use on the configured held-out set.
    pub counts_for_gate: bool,
    pub selected: bool,
}

/// One cell of the confusion matrix, placed on the SVG grid.
pub struct CellView {
    pub x: usize,
    pub y: usize,
    pub count: usize,
    /// 0–1: the share of the row's messages, for the shade.
    pub opacity: String,
    pub diagonal: bool,
    pub title: String,
}

pub struct ConfusionView {
    pub labels: Vec<String>,
    pub cells: Vec<CellView>,
    pub cell: usize,
    pub margin: usize,
    pub size: usize,
}

const CELL: usize = 34;
const MARGIN: usize = 110;

fn confusion_view(report: &EvalReport) -> ConfusionView {
    let labels: Vec<String> = report.confusion.labels.iter().map(|l| l.to_string()).collect();
    let mut cells = Vec::new();
    for (g, row) in report.confusion.counts.iter().enumerate() {
        let total: usize = row.iter().sum();
        for (p, &count) in row.iter().enumerate() {
            let share = if total == 0 {
                0.0
            } else {
                count as f64 / total as f64
            };
            cells.push(CellView {
                x: MARGIN + p * CELL,
                y: MARGIN + g * CELL,
                count,
                opacity: format!("{:.2}", 0.06 + 0.94 * share),
                diagonal: g == p,
                title: format!("{count} {} messages classified as {}", labels[g], labels[p]),
            });
        }
    }
    ConfusionView {
        size: MARGIN + labels.len() * CELL + 4,
        labels,
        cells,
        cell: CELL,
        margin: MARGIN,
    }
}

/// The coverage-versus-accuracy curve: x is the confidence threshold, y a share.
pub struct CurveView {
    pub width: usize,
    pub height: usize,
    pub left: usize,
    pub bottom: usize,
    pub accuracy: String,
    pub answered: String,
    pub ticks: Vec<(usize, String)>,
    pub levels: Vec<(usize, String)>,
    /// The calibrated τ0, as an x position and a label.
    pub tau0: Option<(usize, String)>,
}

fn curve_view(report: &EvalReport) -> CurveView {
    let (width, height, left, top, bottom) = (560usize, 260usize, 48usize, 12usize, 230usize);
    let plot_w = (width - left - 12) as f64;
    let plot_h = (bottom - top) as f64;
    let x = |t: f64| left + (t * plot_w).round() as usize;
    let y = |v: f64| bottom - (v * plot_h).round() as usize;
    let line = |pick: &dyn Fn(&crate::eval::metrics::CoveragePoint) -> Option<f64>| {
        report
            .coverage
            .iter()
            .filter_map(|p| pick(p).map(|v| format!("{},{}", x(p.threshold), y(v))))
            .collect::<Vec<_>>()
            .join(" ")
    };
    CurveView {
        width,
        height,
        left,
        bottom,
        accuracy: line(&|p| p.accuracy),
        answered: line(&|p| Some(p.share)),
        ticks: (0..=10)
            .map(|i| (x(i as f64 / 10.0), format!("{:.1}", i as f64 / 10.0)))
            .collect(),
        levels: (0..=4)
            .map(|i| (y(i as f64 / 4.0), format!("{}%", i * 25)))
            .collect(),
        tau0: report.calibration.threshold.map(|t| (x(t), format!("τ0 {t:.2}"))),
    }
}

pub struct LanguageView {
    pub code: String,
    pub messages: usize,
    pub accuracy: String,
    pub macro_f1: String,
    pub language: String,
}

pub struct DetailView {
    pub id: i64,
    pub accuracy: String,
    pub macro_f1: String,
    pub language: String,
    pub messages: usize,
    pub per_language: Vec<LanguageView>,
    pub confusion: ConfusionView,
    pub curve: CurveView,
    pub calibration: String,
}

fn detail_view(id: i64, report: &EvalReport) -> DetailView {
    let c = &report.calibration;
    let calibration = match (c.threshold, c.precision) {
        (Some(t), Some(p)) => format!(
            "τ0 for {} precision: {t:.2}. The local tier keeps {} of {} messages ({}) at {} precision; the rest escalate.",
            percent(c.target_precision),
            c.answered,
            c.messages,
            percent(c.answered as f64 / c.messages.max(1) as f64),
            percent(p)
        ),
        _ => format!(
            "No threshold reaches {} precision on this run: every message would escalate.",
            percent(c.target_precision)
        ),
    };
    DetailView {
        id,
        accuracy: percent(report.intent_accuracy),
        macro_f1: format!("{:.3}", report.macro_f1),
        language: percent(report.language_accuracy),
        messages: report.messages,
        per_language: report
            .per_language
            .iter()
            .map(|(code, s)| LanguageView {
                code: code.to_string(),
                messages: s.messages,
                accuracy: percent(s.intent_accuracy),
                macro_f1: format!("{:.3}", s.macro_f1),
                language: percent(s.language_accuracy),
            })
            .collect(),
        confusion: confusion_view(report),
        curve: curve_view(report),
        calibration,
    }
}

#[derive(Template)]
#[template(path = "evaluation.html")]
struct EvaluationPage {
    layout: Layout,
    gate: String,
    gate_open: bool,
    holdout: String,
    runs: Vec<RunView>,
    detail: Option<DetailView>,
}

#[derive(Deserialize)]
struct EvaluationQuery {
    run: Option<i64>,
}

fn run_view(run: EvalRunSummary, state: &AppState, selected: Option<i64>) -> RunView {
    let datasets: Vec<String> = serde_json::from_str(&run.datasets).unwrap_or_default();
    RunView {
        counts_for_gate: run.holdout == state.auto_send.holdout
            && run.classifier == state.auto_send.classifier,
        selected: Some(run.id) == selected,
        id: run.id,
        at: timestamp(run.at),
        datasets: datasets.join(", "),
        classifier: run.classifier_name,
        messages: run.messages,
        accuracy: percent(run.intent_accuracy),
        macro_f1: format!("{:.3}", run.macro_f1),
        language: percent(run.language_accuracy),
    }
}

async fn show_evaluation(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(query): Query<EvaluationQuery>,
) -> AppResult<impl IntoResponse> {
    user.require(Role::Manager)?;
    let gate = state.auto_send.status(&state.store).await?;
    let runs = state.store.eval_runs(100).await?;
    let selected = query.run.or_else(|| runs.first().map(|r| r.id));
    let detail = match selected {
        Some(id) => {
            let report = state.store.eval_report(id).await?.ok_or(AppError::NotFound)?;
            Some(detail_view(id, &report))
        }
        None => None,
    };
    Ok(Page(EvaluationPage {
        layout: Layout::new("Evaluation", &user.0, None),
        gate_open: gate.allows_auto_send(),
        gate: gate.describe(),
        holdout: state.auto_send.holdout_name.clone(),
        runs: runs.into_iter().map(|r| run_view(r, &state, selected)).collect(),
        detail,
    }))
}
