//! Integration tests: the real app, a real SQLite file, a stand-in Graph API.

mod authz;
mod conversions;
mod email;
mod email_fixtures;
mod email_smtp;
mod email_support;
mod email_tls;
mod evaluation;
mod failover;
mod guardrail_pages;
mod helpers;
mod hostile;
mod inbox;
mod labels;
mod login_security;
mod observability;
mod review;
mod routing;
mod taxonomy;
mod twilio;
mod twilio_template;
mod webhook;
mod whole_path;
