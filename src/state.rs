//! The shared state every handler and worker gets: cheap to clone, all `Arc`s inside.

use crate::catalog::Catalog;
use crate::channels::email::EmailSender;
use crate::channels::twilio::TwilioClient;
use crate::channels::whatsapp::WhatsAppClient;
use crate::config::Settings;
use crate::domain::{Clock, Taxonomy};
use crate::eval::gate::AutoSendGate;
use crate::guardrails::Policy;
use crate::pipeline::classify::Classifier;
use crate::pipeline::draft::Replies;
use crate::routing::ModelRouter;
use crate::store::Store;
use std::sync::Arc;
use tokio::sync::Notify;

#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub store: Store,
    pub catalog: Arc<Catalog>,
    /// The guardrail policy, validated against the catalog at start-up.
    pub policy: Arc<Policy>,
    pub classifier: Arc<Classifier>,
    /// The intent labels in use (`[taxonomy]`).
    pub taxonomy: Arc<Taxonomy>,
    /// Auto-send waits for a good enough evaluation of this classifier (shadow mode).
    pub auto_send: Arc<AutoSendGate>,
    pub replies: Arc<Replies>,
    /// Picks the model tier for each task and calls the providers.
    pub router: Arc<ModelRouter>,
    /// One circuit breaker per provider and model, shared by every worker of this process
    /// (the router holds the same `Arc`).
    pub breakers: Arc<crate::failover::Breakers>,
    pub whatsapp: WhatsAppClient,
    /// SMTP for email replies (unconfigured without `email.smtp_host`).
    pub email: EmailSender,
    /// Twilio's Messages API for WhatsApp through Twilio.
    pub twilio: TwilioClient,
    /// Woken whenever a job is enqueued, so idle workers start at once instead of polling.
    pub jobs_ready: Arc<Notify>,
    /// The metrics registry and the workers' liveness, for `/metrics` and `/readyz`.
    pub observability: Arc<crate::observability::Observability>,
}

impl AppState {
    /// The clock every decision reads: the store's, so rows and rules agree on the time.
    pub fn clock(&self) -> Clock {
        self.store.clock()
    }
}
