//! `tuesday langid`: the language of one message, or of each line of a file.

use crate::domain::Language;
use crate::pipeline::language::Detector;
use anyhow::Context;
use std::io::{BufRead, Write};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct LangidArgs {
    /// The message. Omit it when using --file.
    #[arg(required_unless_present = "file", conflicts_with = "file")]
    pub text: Option<String>,
    /// Read one message a line from this file (`-` for standard input) and print one language
    /// code a line, in the same order.
    #[arg(long)]
    pub file: Option<PathBuf>,
    /// The conversation's language so far, used as a prior for one- or two-word messages.
    #[arg(long)]
    pub earlier: Option<Language>,
    /// Also print how the language was decided and with what confidence.
    #[arg(long)]
    pub explain: bool,
}

pub fn run(args: &LangidArgs) -> anyhow::Result<()> {
    let detector = Detector::new();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut answer = |message: &str| -> anyhow::Result<()> {
        let found = detector.detect(message, args.earlier, None);
        if args.explain {
            writeln!(
                out,
                "{}\t{}\t{:.3}",
                found.language,
                found.method.describe(),
                found.confidence
            )?;
        } else {
            writeln!(out, "{}", found.language)?;
        }
        Ok(())
    };
    match (&args.text, &args.file) {
        (Some(text), _) => answer(text)?,
        (None, Some(path)) => {
            let reader: Box<dyn BufRead> = if path.as_os_str() == "-" {
                Box::new(std::io::stdin().lock())
            } else {
                let file =
                    std::fs::File::open(path).with_context(|| format!("while opening {}", path.display()))?;
                Box::new(std::io::BufReader::new(file))
            };
            for (n, line) in reader.lines().enumerate() {
                let line = line.with_context(|| format!("while reading line {}", n + 1))?;
                answer(&line)?;
            }
        }
        (None, None) => anyhow::bail!("give a message or --file"),
    }
    out.flush()?;
    Ok(())
}
