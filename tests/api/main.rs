//! Integration tests: the real app, a real SQLite file, a stand-in Graph API.

mod conversions;
mod evaluation;
mod guardrail_pages;
mod helpers;
mod inbox;
mod labels;
mod review;
mod routing;
mod webhook;
mod whole_path;
