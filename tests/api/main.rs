//! Integration tests: the real app, a real SQLite file, a stand-in Graph API.

mod helpers;
mod review;
mod webhook;
mod whole_path;
