//! The HTTP client every provider API is called with: Tuesday's user agent and a deadline per
//! request, so a provider that hangs never holds a worker.

use std::time::Duration;

pub fn client(timeout_ms: u64) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(Duration::from_millis(timeout_ms))
        .user_agent(concat!("tuesday/", env!("CARGO_PKG_VERSION")))
        .build()
}
