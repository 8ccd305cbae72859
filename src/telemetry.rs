//! Log output: `RUST_LOG` filters, `info` by default; human-readable text, or one JSON object a
//! line (`observability.log_format = "json"`) carrying the current spans' fields, so every line
//! of a job names its message and trace ids.

use crate::observability::LogFormat;
use tracing_subscriber::EnvFilter;

fn filter() -> EnvFilter {
    EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"))
}

/// Text logs, before the settings are read.
pub fn init() {
    init_with(LogFormat::Text);
}

/// Logs in `format`. The first call in a process wins.
pub fn init_with(format: LogFormat) {
    let _ = match format {
        LogFormat::Text => tracing_subscriber::fmt()
            .with_env_filter(filter())
            .with_target(false)
            .try_init(),
        LogFormat::Json => tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter())
            .with_current_span(true)
            .with_span_list(true)
            .flatten_event(true)
            .try_init(),
    };
}
