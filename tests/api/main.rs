//! Integration tests: the real app, a real SQLite file, a stand-in Graph API.

mod evaluation;
mod failover;
mod guardrail_pages;
mod helpers;
mod labels;
mod review;
mod routing;
mod webhook;
mod whole_path;
