//! The ceiling of the HTTP stack alone: an axum handler that reads the body and answers 200,
//! for comparison with Tuesday's ingest under the same load.
//!
//! cargo run --release --example echo_server -- 127.0.0.1:8090

use axum::Router;
use axum::body::Bytes;
use axum::routing::post;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let address = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8090".to_owned());
    let app = Router::new().route(
        "/webhooks/whatsapp",
        post(|body: Bytes| async move { drop(body) }),
    );
    let listener = tokio::net::TcpListener::bind(&address).await?;
    println!("echo server on http://{address}");
    axum::serve(listener, app).await?;
    Ok(())
}
