//! Labelled datasets for `eval` and `train`: JSONL (one `{"text","language","intent"}` object a
//! line) or CSV with a header naming the same columns. Every problem names its line.

use crate::domain::{Language, Taxonomy};
use crate::pipeline::classify::Example;
use anyhow::Context;
use serde::Deserialize;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Jsonl,
    Csv,
}

impl Format {
    /// CSV for a `.csv` file, JSONL for anything else.
    pub fn of(path: &Path) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some(ext) if ext.eq_ignore_ascii_case("csv") => Format::Csv,
            _ => Format::Jsonl,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("line {line}: {problem}")]
pub struct BadLine {
    pub line: u64,
    pub problem: String,
}

/// The columns as written, before their values are checked.
#[derive(Deserialize)]
struct Raw {
    text: String,
    language: String,
    intent: String,
}

/// Reads a dataset file, choosing the format by its extension. Every intent must be one of
/// `taxonomy`'s.
pub fn read(path: &Path, taxonomy: &Taxonomy) -> anyhow::Result<Vec<Example>> {
    let source =
        std::fs::read_to_string(path).with_context(|| format!("while reading {}", path.display()))?;
    parse(&source, Format::of(path), taxonomy).with_context(|| format!("in {}", path.display()))
}

pub fn parse(source: &str, format: Format, taxonomy: &Taxonomy) -> Result<Vec<Example>, BadLine> {
    match format {
        Format::Jsonl => parse_jsonl(source, taxonomy),
        Format::Csv => parse_csv(source, taxonomy),
    }
}

fn parse_jsonl(source: &str, taxonomy: &Taxonomy) -> Result<Vec<Example>, BadLine> {
    let mut out = Vec::new();
    for (n, line) in source.lines().enumerate() {
        let line_no = n as u64 + 1;
        if line.trim().is_empty() {
            continue;
        }
        let raw: Raw = serde_json::from_str(line).map_err(|e| BadLine {
            line: line_no,
            problem: format!("not a {{\"text\", \"language\", \"intent\"}} object: {e}"),
        })?;
        out.push(check(raw, line_no, taxonomy)?);
    }
    Ok(out)
}

fn parse_csv(source: &str, taxonomy: &Taxonomy) -> Result<Vec<Example>, BadLine> {
    let bad_record = |e: csv::Error| BadLine {
        line: e.position().map_or(1, csv::Position::line),
        problem: format!("bad CSV record (columns text, language, intent): {e}"),
    };
    let mut reader = csv::ReaderBuilder::new().from_reader(source.as_bytes());
    let headers = reader.headers().map_err(bad_record)?.clone();
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(bad_record)?;
        // Where the record starts: a quoted field may span several lines.
        let line = record.position().map_or(0, csv::Position::line);
        let raw: Raw = record.deserialize(Some(&headers)).map_err(|e| BadLine {
            line,
            problem: format!("bad CSV record (columns text, language, intent): {e}"),
        })?;
        out.push(check(raw, line, taxonomy)?);
    }
    Ok(out)
}

fn check(raw: Raw, line: u64, taxonomy: &Taxonomy) -> Result<Example, BadLine> {
    let bad = |problem: String| BadLine { line, problem };
    let language: Language = raw.language.parse().map_err(|e| bad(format!("{e}")))?;
    let intent = taxonomy.parse(&raw.intent).map_err(|_| {
        bad(format!(
            "unknown intent {:?}: expected one of {}",
            raw.intent,
            taxonomy.listing()
        ))
    })?;
    if raw.text.trim().is_empty() {
        return Err(bad("empty text".to_owned()));
    }
    Ok(Example {
        text: raw.text,
        language,
        intent,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Intent;

    fn parse(source: &str, format: Format) -> Result<Vec<Example>, BadLine> {
        super::parse(source, format, &Taxonomy::default())
    }

    #[test]
    fn reads_jsonl_and_skips_blank_lines() {
        let source = "{\"text\": \"hola\", \"language\": \"es\", \"intent\": \"greeting\"}\n\n\
                      {\"text\": \"how much?\", \"language\": \"en\", \"intent\": \"pricing\"}\n";
        let got = parse(source, Format::Jsonl).expect("parses");
        assert_eq!(got.len(), 2);
        assert_eq!((got[1].language, got[1].intent), (Language::En, Intent::Pricing));
    }

    #[test]
    fn reads_csv_with_quoted_commas() {
        let source = "text,language,intent\n\"oi, tudo bem?\",pt,greeting\nstop,en,opt_out\n";
        let got = parse(source, Format::Csv).expect("parses");
        assert_eq!(got[0].text, "oi, tudo bem?");
        assert_eq!(got[1].intent, Intent::OptOut);
    }

    #[test]
    fn every_problem_names_its_line() {
        let cases = [
            (
                "{\"text\": \"a\", \"language\": \"es\", \"intent\": \"other\"}\nnot json\n",
                Format::Jsonl,
                2,
                "not a",
            ),
            (
                "\n{\"text\": \"a\", \"language\": \"fr\", \"intent\": \"other\"}\n",
                Format::Jsonl,
                2,
                "unknown language",
            ),
            (
                "{\"text\": \"a\", \"language\": \"es\", \"intent\": \"refund\"}\n",
                Format::Jsonl,
                1,
                "unknown intent \"refund\"",
            ),
            (
                "{\"text\": \" \", \"language\": \"es\", \"intent\": \"other\"}\n",
                Format::Jsonl,
                1,
                "empty text",
            ),
            (
                "text,language,intent\nhola,es,greeting\nhi,en,refund\n",
                Format::Csv,
                3,
                "unknown intent",
            ),
            (
                "text,language,intent\nhola,es\n",
                Format::Csv,
                2,
                "bad CSV record",
            ),
        ];
        for (source, format, line, problem) in cases {
            let err = parse(source, format).expect_err(source);
            assert_eq!(err.line, line, "{source}: {err}");
            assert!(err.problem.contains(problem), "{source}: {err}");
        }
    }

    #[test]
    fn labels_are_the_taxonomys() {
        let settings: crate::domain::taxonomy::TaxonomySettings = toml::from_str(
            r#"
            [[intents]]
            name = "scholarship"
            description = "asks about scholarships"
            examples = { es = ["hay becas?"], pt = ["tem bolsa?"], en = ["any scholarships?"] }
            [[intents]]
            name = "other"
            "#,
        )
        .expect("settings");
        let taxonomy = Taxonomy::from_settings(&settings).expect("taxonomy");
        let source = "text,language,intent\nhay becas??,es,scholarship\nqto custa,pt,pricing\n";
        let err = super::parse(source, Format::Csv, &taxonomy).expect_err("pricing was dropped");
        assert_eq!(err.line, 3);
        assert!(
            err.problem.contains("expected one of scholarship, other"),
            "{err}"
        );
        let got = super::parse(
            "text,language,intent\nbolsa? 🙏,pt,scholarship\n",
            Format::Csv,
            &taxonomy,
        )
        .expect("parses");
        assert_eq!(got[0].intent.as_str(), "scholarship");
        assert!(
            parse(source, Format::Csv).is_err(),
            "the defaults have no scholarship"
        );
    }

    #[test]
    fn chooses_the_format_by_extension() {
        assert_eq!(Format::of(Path::new("a/b.CSV")), Format::Csv);
        assert_eq!(Format::of(Path::new("b.jsonl")), Format::Jsonl);
    }
}
