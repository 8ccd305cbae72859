//! The dashboard's model-spend panel: what the models cost, what the same work would have
//! cost on standard or flagship alone, and which tier answered how many tasks.

use crate::models::pricing;
use crate::routing::Tier;
use crate::state::AppState;
use rust_decimal::Decimal;

pub struct SpendView {
    pub total: String,
    pub baseline_standard: String,
    pub baseline_flagship: String,
    pub saved_vs_standard: String,
    pub saved_vs_flagship: String,
    pub standard_model: String,
    pub flagship_model: String,
    pub spent_today: String,
    pub daily_limit: String,
    pub spent_month: String,
    pub monthly_limit: String,
    /// Which tier answered each task how often.
    pub shares: Vec<TaskShare>,
    pub days: Vec<SpendDay>,
    pub models_configured: bool,
}

pub struct TaskShare {
    pub task: String,
    pub tiers: Vec<TierShare>,
}

pub struct TierShare {
    pub tier: String,
    pub answers: i64,
    pub percent: String,
}

pub struct SpendDay {
    pub day: String,
    /// Cost per tier, in [`Tier::ALL`] order.
    pub tiers: Vec<String>,
    pub calls: i64,
    pub total: String,
}

/// USD with enough places to show a fraction of a cent.
pub fn usd(amount: Decimal) -> String {
    format!("US$ {}", amount.round_dp(4).normalize())
}

fn percent_saved(spent: Decimal, baseline: Decimal) -> String {
    if baseline.is_zero() {
        return "–".to_owned();
    }
    let saved = (Decimal::ONE - spent / baseline) * Decimal::from(100);
    format!("{}%", saved.round_dp(1).normalize())
}

/// The panel for the last 30 days (UTC).
pub async fn spend_view(state: &AppState, since_day: &str) -> anyhow::Result<SpendView> {
    let store = &state.store;
    let settings = state.router.settings();
    let prices = state.router.prices();
    let days = store.spend_by_day(since_day).await?;
    let total: Decimal = days.iter().map(|d| d.cost_usd).sum();
    let tokens = store.baseline_tokens(since_day).await?;
    let price_of = |tier: Tier| {
        prices
            .get(settings.baseline_model(tier))
            .unwrap_or(pricing::Price {
                input: Decimal::ZERO,
                output: Decimal::ZERO,
                cache_write: Decimal::ZERO,
                cache_read: Decimal::ZERO,
            })
    };
    let standard = pricing::cost(&tokens.usage, &price_of(Tier::Standard));
    let flagship = pricing::cost(&tokens.usage, &price_of(Tier::Flagship));

    let mut rows: Vec<SpendDay> = Vec::new();
    for day in &days {
        if rows.last().map(|r| r.day.as_str()) != Some(day.day.as_str()) {
            rows.push(SpendDay {
                day: day.day.clone(),
                tiers: vec![String::new(); Tier::ALL.len()],
                calls: 0,
                total: String::new(),
            });
        }
        if let Some(row) = rows.last_mut() {
            if let Some(i) = Tier::ALL.iter().position(|t| t.as_str() == day.tier) {
                row.tiers[i] = format!("{} ({})", usd(day.cost_usd), day.calls);
            }
            row.calls += day.calls;
        }
    }
    for row in &mut rows {
        let sum: Decimal = days.iter().filter(|d| d.day == row.day).map(|d| d.cost_usd).sum();
        row.total = usd(sum);
    }

    let mut shares = Vec::new();
    let answers = store.answers_by_tier(since_day).await?;
    for task in ["classify", "draft", "redraft"] {
        let of_task: Vec<&(String, String, i64)> = answers.iter().filter(|a| a.0 == task).collect();
        let all: i64 = of_task.iter().map(|a| a.2).sum();
        if all == 0 {
            continue;
        }
        let per_tier = Tier::ALL
            .iter()
            .map(|tier| {
                let n = of_task
                    .iter()
                    .filter(|a| a.1 == tier.as_str())
                    .map(|a| a.2)
                    .sum::<i64>();
                TierShare {
                    tier: tier.to_string(),
                    answers: n,
                    percent: format!("{:.0}%", n as f64 * 100.0 / all as f64),
                }
            })
            .collect();
        shares.push(TaskShare {
            task: task.to_owned(),
            tiers: per_tier,
        });
    }

    let spent = store.spend_to_date().await?;
    Ok(SpendView {
        total: usd(total),
        baseline_standard: usd(standard),
        baseline_flagship: usd(flagship),
        saved_vs_standard: percent_saved(total, standard),
        saved_vs_flagship: percent_saved(total, flagship),
        standard_model: settings.baseline_model(Tier::Standard).to_owned(),
        flagship_model: settings.baseline_model(Tier::Flagship).to_owned(),
        spent_today: usd(spent.today),
        daily_limit: usd(settings.budget.daily_usd),
        spent_month: usd(spent.month),
        monthly_limit: usd(settings.budget.monthly_usd),
        shares,
        days: rows,
        models_configured: state.router.has_models(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn savings_are_a_share_of_the_baseline() {
        let d = |s: &str| s.parse::<Decimal>().expect("decimal");
        assert_eq!(percent_saved(d("1.5"), d("10")), "85%");
        assert_eq!(percent_saved(d("0"), d("0")), "–");
        assert_eq!(usd(d("0.000123456")), "US$ 0.0001");
    }
}
