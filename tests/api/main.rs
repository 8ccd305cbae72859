//! Integration tests: the real app, a real SQLite file, a stand-in Graph API.

mod evaluation;
mod guardrail_pages;
mod helpers;
mod labels;
mod review;
mod routing;
mod taxonomy;
mod webhook;
mod whole_path;
