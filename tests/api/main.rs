//! Integration tests: the real app, a real SQLite file, a stand-in Graph API.

mod evaluation;
mod guardrail_pages;
mod helpers;
mod labels;
mod observability;
mod review;
mod routing;
mod webhook;
mod whole_path;
