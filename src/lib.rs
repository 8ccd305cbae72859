//! Tuesday: an AI sales agent that answers prospects on WhatsApp in Spanish, Portuguese and
//! English, holds risky drafts for review, and traces every action.
//!
//! A message's path: `channels` (webhook in) → `store` (raw + parsed, one transaction) → `jobs`
//! → `pipeline` (language, classify, draft; `routing` picks the model tier) → `guardrails` → `review` (people) → `outbox` →
//! `channels` (send out). `web` is the browser side.

pub mod catalog;
pub mod channels;
pub mod cli;
pub mod config;
pub mod conversions;
pub mod domain;
pub mod eval;
pub mod failover;
#[doc(hidden)]
pub mod fuzz;
pub mod gate;
pub mod guardrails;
pub mod jobs;
pub mod models;
pub mod observability;
pub mod outbox;
pub mod pipeline;
pub mod review;
pub mod routing;
pub mod seed;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod text;
pub mod web;
