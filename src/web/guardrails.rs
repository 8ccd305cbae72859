//! Guardrail pages: the policy as written (admins), and the suppression list of contacts who
//! asked not to be contacted (managers). Both read only: the policy changes through its file,
//! and a contact leaves the list only by their own explicit action.

use crate::domain::Role;
use crate::guardrails::Policy;
use crate::state::AppState;
use crate::web::auth::CurrentUser;
use crate::web::error::AppResult;
use crate::web::templates::{Layout, Page};
use crate::web::timestamp;
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/policy", get(show_policy))
        .route("/suppression", get(show_suppression_list))
}

/// One line of the policy's summary: a setting and its value, in words.
pub struct SettingView {
    pub name: &'static str,
    pub value: String,
}

pub struct PromotionView {
    pub id: String,
    pub dates: String,
    pub limits: String,
}

#[derive(Template)]
#[template(path = "policy.html")]
struct PolicyPage {
    layout: Layout,
    origin: String,
    settings: Vec<SettingView>,
    promotions: Vec<PromotionView>,
    source: String,
}

fn policy_settings(policy: &Policy) -> Vec<SettingView> {
    let file = &policy.file;
    let count = |lists: [&Vec<String>; 3]| {
        format!(
            "{} es · {} pt · {} en",
            lists[0].len(),
            lists[1].len(),
            lists[2].len()
        )
    };
    vec![
        SettingView {
            name: "Messages per contact per day",
            value: file.rate.max_per_day.to_string(),
        },
        SettingView {
            name: "WhatsApp free-text window",
            value: format!(
                "{} h after the contact's last message",
                file.whatsapp_window.hours
            ),
        },
        SettingView {
            name: "Refunds",
            value: format!("within {} days of the course start", file.refunds.days),
        },
        SettingView {
            name: "Markets with quiet hours or holidays",
            value: file
                .sending_hours
                .markets
                .iter()
                .map(|(code, c)| format!("{code} ({} quiet, {} holidays)", c.quiet.len(), c.holidays.len()))
                .collect::<Vec<_>>()
                .join(", "),
        },
        SettingView {
            name: "Promise categories",
            value: file
                .promises
                .categories
                .keys()
                .cloned()
                .collect::<Vec<_>>()
                .join(", "),
        },
        SettingView {
            name: "Prompt-injection phrases",
            value: count([&file.injection.es, &file.injection.pt, &file.injection.en]),
        },
        SettingView {
            name: "Opt-out phrases",
            value: format!(
                "{} keywords; {}",
                file.opt_out.keywords.len(),
                count([
                    &file.opt_out.phrases.es,
                    &file.opt_out.phrases.pt,
                    &file.opt_out.phrases.en
                ])
            ),
        },
        SettingView {
            name: "Competitors",
            value: file.competitors.names.join(", "),
        },
        SettingView {
            name: "Business contact details drafts may quote",
            value: file.personal_data.business.join(", "),
        },
    ]
}

async fn show_policy(State(state): State<AppState>, user: CurrentUser) -> AppResult<impl IntoResponse> {
    user.require(Role::Admin)?;
    let policy = &state.policy;
    let origin = match &state.settings.pipeline.policy_file {
        Some(path) => format!("Loaded from {} at start-up.", path.display()),
        None => "The demo policy built into Tuesday (set pipeline.policy_file to use your own).".to_owned(),
    };
    let promotions = policy
        .file
        .promotions
        .iter()
        .map(|p| PromotionView {
            id: p.id.clone(),
            dates: format!("{} to {}", p.starts, p.ends),
            limits: p
                .max_percent
                .iter()
                .map(|(course, percent)| {
                    let course = if course == "*" {
                        "every course"
                    } else {
                        course.as_str()
                    };
                    format!("{course} up to {percent}%")
                })
                .collect::<Vec<_>>()
                .join(", "),
        })
        .collect();
    Ok(Page(PolicyPage {
        layout: Layout::new("Guardrail policy", &user.0, None),
        origin,
        settings: policy_settings(policy),
        promotions,
        source: policy.source.clone(),
    }))
}

pub struct SuppressedView {
    pub name: String,
    pub channel: String,
    pub address: String,
    pub since: String,
}

#[derive(Template)]
#[template(path = "suppression.html")]
struct SuppressionPage {
    layout: Layout,
    contacts: Vec<SuppressedView>,
}

async fn show_suppression_list(
    State(state): State<AppState>,
    user: CurrentUser,
) -> AppResult<impl IntoResponse> {
    user.require(Role::Manager)?;
    let contacts = state
        .store
        .suppressed_contacts(500)
        .await?
        .into_iter()
        .map(|c| SuppressedView {
            name: c.name.unwrap_or_default(),
            channel: c.channel,
            address: c.address,
            since: timestamp(c.opted_out_at),
        })
        .collect();
    Ok(Page(SuppressionPage {
        layout: Layout::new("Suppression list", &user.0, None),
        contacts,
    }))
}
