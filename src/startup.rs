//! Building the application and serving it are separate steps: `Application::build` opens the
//! store, seeds and binds (port 0 works in tests); `create_router` does no I/O; `run` serves
//! HTTP and the workers side by side until shutdown.

use crate::catalog::Catalog;
use crate::channels::{self, whatsapp::WhatsAppClient};
use crate::config::Settings;
use crate::domain::Clock;
use crate::pipeline::classify::Classifier;
use crate::pipeline::draft::Replies;
use crate::seed::{self, CreatedUser};
use crate::state::AppState;
use crate::store::Store;
use crate::{jobs, web};
use anyhow::Context;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue};
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

/// What a `serve` process does, so web and workers can be scaled apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ServeRole {
    /// Pages and webhooks; no background work.
    Web,
    /// Background jobs only; HTTP answers just `/healthz`, `/readyz` and `/metrics`.
    Worker,
    /// Both (the default).
    #[default]
    All,
}

pub struct Application {
    pub state: AppState,
    listener: TcpListener,
    /// Users created on this start, so `serve` can print their first-run passwords once.
    pub created_users: Vec<CreatedUser>,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        let (state, created_users) = build_state(settings).await?;
        let address = state.settings.address();
        let listener = TcpListener::bind(&address)
            .await
            .with_context(|| format!("while binding {address}: is another Tuesday already running?"))?;
        Ok(Application {
            state,
            listener,
            created_users,
        })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or_default()
    }

    /// Serves both roles until Ctrl-C or SIGTERM.
    pub async fn run(self) -> anyhow::Result<()> {
        self.run_as(ServeRole::All).await
    }

    /// Serves `role` until Ctrl-C or SIGTERM; in-flight requests and jobs finish first.
    pub async fn run_as(self, role: ServeRole) -> anyhow::Result<()> {
        let (stop, stopped) = watch::channel(false);
        let run_workers = role != ServeRole::Web && self.state.settings.worker.enabled;
        let workers = run_workers.then(|| {
            let (state, stopped) = (self.state.clone(), stopped.clone());
            state.observability.workers_started();
            tokio::spawn(async move {
                jobs::run_workers(state.clone(), stopped).await;
                state.observability.workers_stopped();
            })
        });
        let background = tokio::spawn(crate::observability::run_background(
            self.state.clone(),
            stopped.clone(),
        ));
        let router = match role {
            ServeRole::Worker => ops_router(self.state),
            ServeRole::Web | ServeRole::All => create_router(self.state),
        };
        let mut http_stopped = stopped.clone();
        let router = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
        let server = axum::serve(self.listener, router).with_graceful_shutdown(async move {
            let _ = http_stopped.wait_for(|s| *s).await;
        });
        tokio::spawn(async move {
            shutdown_signal().await;
            tracing::info!("shutting down: finishing requests and jobs in flight");
            let _ = stop.send(true);
        });
        server.await.context("while serving HTTP")?;
        if let Some(workers) = workers {
            workers.await.context("while stopping the workers")?;
        }
        background.await.context("while stopping the trace export")?;
        Ok(())
    }
}

/// Opens the store, seeds an empty one, loads the knowledge base and trains the classifier.
pub async fn build_state(settings: Settings) -> anyhow::Result<(AppState, Vec<CreatedUser>)> {
    let clock = settings
        .clock_start
        .map_or_else(Clock::system, Clock::starting_at);
    if let Some(start) = settings.clock_start {
        tracing::warn!(%start, "running on a clock started at a chosen instant, not the system's");
    }
    let store = Store::open(&settings.database_url)
        .await?
        .with_clock(clock)
        .with_trace_masking(settings.observability.redaction == crate::observability::Redaction::Everywhere);
    let created = seed::seed_if_empty(&store, &settings.users).await?;
    let catalog: Catalog = store.load_catalog().await?;
    let taxonomy = settings.taxonomy()?;
    let model = settings.pipeline.classifier_model.clone();
    let labels = taxonomy.clone();
    let classifier =
        tokio::task::spawn_blocking(move || Classifier::configured(model.as_deref(), &labels)).await??;
    // Read lingua's n-gram models into the detector's table now, not on the first message.
    tokio::task::spawn_blocking(crate::pipeline::language::Detector::shared).await?;
    let auto_send =
        crate::eval::gate::AutoSendGate::new(&settings.pipeline, &taxonomy, classifier.fingerprint())?;
    let policy = crate::guardrails::Policy::configured(settings.pipeline.policy_file.as_deref(), &catalog)?;
    let breakers = Arc::new(crate::failover::Breakers::new(
        settings.failover.breaker.clone(),
        Arc::new(crate::failover::SystemTicker::default()),
    ));
    let router = Arc::new(
        crate::routing::ModelRouter::with_failover(&settings.routing, &settings.failover, breakers.clone())?
            .with_taxonomy(taxonomy.clone()),
    );
    let taxonomy = Arc::new(taxonomy);
    let state = AppState {
        whatsapp: WhatsAppClient::new(&settings.whatsapp)?,
        email: channels::email::EmailSender::new(&settings.email)?,
        twilio: channels::twilio::TwilioClient::new(&settings.twilio)?,
        settings: Arc::new(settings),
        store,
        catalog: Arc::new(catalog),
        policy: Arc::new(policy),
        classifier: Arc::new(classifier),
        taxonomy,
        auto_send: Arc::new(auto_send),
        replies: Arc::new(Replies::demo()?),
        router,
        breakers,
        jobs_ready: Arc::new(Notify::new()),
        observability: crate::observability::Observability::new(),
    };
    Ok((state, created))
}

/// Every route, with the body limit, static files, security headers and request tracing.
pub fn create_router(state: AppState) -> Router {
    let limit = state.settings.server.body_limit_bytes;
    Router::new()
        .merge(channels::whatsapp::router())
        .merge(channels::email::router())
        .merge(channels::twilio::router())
        .merge(crate::conversions::router())
        .merge(web::router())
        .merge(web::ops::router())
        .nest_service("/static", ServeDir::new(static_dir()))
        .layer(DefaultBodyLimit::max(limit))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("x-content-type-options"),
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("content-security-policy"),
            HeaderValue::from_static("default-src 'self'; frame-ancestors 'none'; form-action 'self'"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("referrer-policy"),
            HeaderValue::from_static("same-origin"),
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// The worker role's HTTP side: health, readiness and metrics only.
fn ops_router(state: AppState) -> Router {
    web::ops::router()
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// `static/` next to the crate, so the binary finds it from any working directory.
fn static_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("static")
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
}
