//! `tuesday guard-report`: precision and recall of every guardrail, and per language, over the
//! labelled corpus.

use super::guard::load_policy;
use crate::catalog::Catalog;
use crate::guardrails::corpus;
use anyhow::Context as _;
use clap::Args;
use std::path::PathBuf;

pub const DEFAULT_CORPUS: &str = "tests/data/guardrails/corpus.jsonl";

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The labelled corpus, one JSON case per line.
    #[arg(long, default_value = DEFAULT_CORPUS)]
    pub corpus: PathBuf,
    /// Print the report as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Also list the cases the engine got wrong.
    #[arg(long)]
    pub misses: bool,
    /// A policy file to measure instead of the built-in data/demo/policy.toml.
    #[arg(long)]
    pub policy: Option<PathBuf>,
}

pub fn run(args: ReportArgs) -> anyhow::Result<()> {
    let catalog = Catalog::demo()?;
    let policy = load_policy(args.policy.as_ref(), &catalog)?;
    let text = std::fs::read_to_string(&args.corpus)
        .with_context(|| format!("while reading {}", args.corpus.display()))?;
    let cases = corpus::parse(&text)?;
    let report = corpus::evaluate(&cases, &catalog, &policy)?;
    if args.json {
        return super::print(&serde_json::to_string_pretty(&report)?);
    }
    let mut out = report.table();
    if args.misses {
        out.push('\n');
        for miss in &report.misses {
            out.push_str(&format!(
                "case {} [{}] expected {:?}, flagged {:?}: {}\n",
                miss.case, miss.language, miss.expected, miss.flagged, miss.draft
            ));
        }
    } else if !report.misses.is_empty() {
        out.push_str(&format!(
            "\n{} case(s) where the flagged rules or the verdict differ from the label (--misses lists them).\n",
            report.misses.len()
        ));
    }
    super::print(out.trim_end())
}
