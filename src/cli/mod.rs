//! The command line: `tuesday serve` (the default), `tuesday migrate`, and the tools: routing
//! (classify, draft), guardrails, language ID, evaluation and training. Each command beyond
//! serving lives in a file of its own.

mod classify;
mod draft;
mod eval;
mod export_labels;
mod guard;
mod guard_report;
mod langid;
mod langid_bench;
mod train;

use crate::config::Settings;
use crate::startup::{Application, ServeRole};
use crate::store::Store;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(name = "tuesday", version, about = "A production AI sales agent for WhatsApp")]
pub struct Cli {
    /// Settings file; missing is fine. TUESDAY_* environment variables override it.
    #[arg(long, global = true, env = "TUESDAY_CONFIG", default_value = "tuesday.toml")]
    pub config: PathBuf,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the web app and run the workers (the default).
    Serve {
        /// Run the web role, the worker role, or both.
        #[arg(long, value_enum, env = "TUESDAY_ROLE", default_value = "all")]
        role: ServeRole,
    },
    /// Create or upgrade the database schema, then exit.
    Migrate,
    /// Classify a message through the model cascade; print the route, model and cost.
    Classify(classify::ClassifyArgs),
    /// Classify and draft a reply to a message; print the route, model, cost and reply.
    Draft(draft::DraftArgs),
    /// Check one draft against every guardrail and print the findings as JSON.
    Guard(guard::GuardArgs),
    /// Precision and recall of the guardrails over the labelled corpus.
    GuardReport(guard_report::ReportArgs),
    /// Print the language (es, pt or en) of a message, or of each line of a file.
    Langid(langid::LangidArgs),
    /// Compare Tuesday's language detector with whatlang and lingua alone (use --release).
    LangidBench(langid_bench::LangidBenchArgs),
    /// Score the pipeline's stages offline on labelled messages (JSONL or CSV).
    Eval(eval::EvalArgs),
    /// Train the local intent classifier on labelled messages and write the model.
    Train(train::TrainArgs),
    /// Write reps' review decisions as labelled messages (JSONL) for the next training.
    ExportLabels(export_labels::ExportLabelsArgs),
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::load(&cli.config);
    crate::telemetry::init_with(
        settings
            .as_ref()
            .map_or(Default::default(), |s| s.observability.log_format),
    );
    let settings = settings?;
    match cli.command.unwrap_or(Command::Serve { role: ServeRole::All }) {
        Command::Serve { role } => serve(settings, role).await,
        Command::Migrate => {
            Store::open(&settings.database_url).await?;
            println!("database {} is up to date", settings.database_url);
            Ok(())
        }
        Command::Classify(args) => classify::run(&args, &settings).await,
        Command::Draft(args) => draft::run(&args, &settings).await,
        Command::Guard(args) => guard::run(args),
        Command::GuardReport(args) => guard_report::run(args),
        Command::Langid(args) => langid::run(&args),
        Command::LangidBench(args) => langid_bench::run(&args),
        Command::Eval(args) => eval::run(&args, &settings).await,
        Command::Train(args) => train::run(&args, &settings),
        Command::ExportLabels(args) => export_labels::run(&args, &settings).await,
    }
}

/// Prints a line to stdout; a reader that went away (`| head`) is no error.
fn print(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    match writeln!(std::io::stdout().lock(), "{text}") {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

async fn serve(settings: Settings, role: ServeRole) -> anyhow::Result<()> {
    let whatsapp_ready = settings.whatsapp.app_secret.is_some();
    let app = Application::build(settings).await?;
    if !app.created_users.is_empty() {
        println!("\nFirst start: created these users (passwords are shown this once):");
        for user in &app.created_users {
            let password = user
                .generated_password
                .as_deref()
                .unwrap_or("(from the environment)");
            println!("  {:<8} {:<8} {password}", user.username, user.role.as_str());
        }
        println!();
    }
    let address = format!("{}:{}", app.state.settings.server.host, app.port());
    println!("Tuesday is running on http://{address}  (role {role:?}, Ctrl-C to stop)");
    if !whatsapp_ready {
        println!("WhatsApp webhook is off until whatsapp.app_secret is set (see README).");
    }
    app.run_as(role).await
}
