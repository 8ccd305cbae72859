//! The knowledge base tables: seeded once from a workspace document, loaded whole at start-up.

use super::{Store, on_pool, on_tx};
use crate::catalog::{Brand, Catalog, Course, Hours, Localized, Market, Plan, Price};
use anyhow::Context;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

impl Store {
    pub async fn has_workspace(&self) -> anyhow::Result<bool> {
        let count: i64 = on_pool!(self, |pool| sqlx::query_scalar("SELECT COUNT(*) FROM brand")
            .fetch_one(pool)
            .await)?;
        Ok(count > 0)
    }

    /// Writes a whole workspace in one transaction. Several instances starting at once on one
    /// database seed it once: the first to insert the brand row wins, the others write nothing.
    pub async fn seed_workspace(&self, catalog: &Catalog) -> anyhow::Result<bool> {
        let mut tx = self.begin().await?;
        let claimed = on_tx!(&mut tx, |conn| sqlx::query(
            "INSERT INTO brand (id, name, website) VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING"
        )
        .bind(&catalog.brand.name)
        .bind(&catalog.brand.website)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
        if claimed == 0 {
            return Ok(false);
        }
        for market in &catalog.markets {
            on_tx!(&mut tx, |conn| sqlx::query(
                "INSERT INTO markets (code, name, currency, timezone, language, phone_prefixes)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&market.code)
            .bind(&market.name)
            .bind(market.currency.code())
            .bind(market.timezone.name())
            .bind(market.language.code())
            .bind(market.phone_prefixes.join(","))
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
            for hours in &market.hours {
                on_tx!(&mut tx, |conn| sqlx::query(
                    "INSERT INTO market_hours (market_code, days, open, close) VALUES ($1, $2, $3, $4)",
                )
                .bind(&market.code)
                .bind(hours.days.to_string())
                .bind(hours.open.format("%H:%M").to_string())
                .bind(hours.close.format("%H:%M").to_string())
                .execute(conn)
                .await
                .map(|r| r.rows_affected()))?;
            }
        }
        for (position, course) in catalog.courses.iter().enumerate() {
            on_tx!(&mut tx, |conn| sqlx::query(
                "INSERT INTO courses (code, position, name_en, name_es, name_pt, keywords, weeks,
                                      hours_per_week, modality, next_start)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(&course.code)
            .bind(position as i64)
            .bind(&course.name.en)
            .bind(&course.name.es)
            .bind(&course.name.pt)
            .bind(serde_json::to_string(&course.keywords)?)
            .bind(i64::from(course.weeks))
            .bind(i64::from(course.hours_per_week))
            .bind(serde_json::to_value(course.modality)?.as_str().unwrap_or("live"))
            .bind(course.next_start.to_string())
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
            for price in &course.prices {
                on_tx!(&mut tx, |conn| sqlx::query(
                    "INSERT INTO prices (course_code, currency, amount, instalment_count, instalment_amount)
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&course.code)
                .bind(price.currency.code())
                .bind(price.amount.to_string())
                .bind(price.instalments.as_ref().map(|p| i64::from(p.count)))
                .bind(price.instalments.as_ref().map(|p| p.amount.to_string()))
                .execute(conn)
                .await
                .map(|r| r.rows_affected()))?;
            }
        }
        for (topic, text) in &catalog.facts {
            on_tx!(&mut tx, |conn| sqlx::query(
                "INSERT INTO facts (topic, en, es, pt) VALUES ($1, $2, $3, $4)"
            )
            .bind(topic)
            .bind(&text.en)
            .bind(&text.es)
            .bind(&text.pt)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
        }
        tx.commit().await?;
        Ok(true)
    }

    pub async fn load_catalog(&self) -> anyhow::Result<Catalog> {
        let (name, website): (String, String) = on_pool!(self, |pool| sqlx::query_as(
            "SELECT name, website FROM brand WHERE id = 1"
        )
        .fetch_one(pool)
        .await)
        .context("while loading the brand: the workspace was never seeded")?;

        let mut markets = Vec::new();
        let market_rows: Vec<(String, String, String, String, String, String)> =
            on_pool!(self, |pool| sqlx::query_as(
                "SELECT code, name, currency, timezone, language, phone_prefixes FROM markets ORDER BY code",
            )
            .fetch_all(pool)
            .await)?;
        for (code, name, currency, timezone, language, prefixes) in market_rows {
            let hour_rows: Vec<(String, String, String)> = on_pool!(self, |pool| sqlx::query_as(
                "SELECT days, open, close FROM market_hours WHERE market_code = $1"
            )
            .bind(&code)
            .fetch_all(pool)
            .await)?;
            let hours = hour_rows
                .into_iter()
                .map(|(days, open, close)| {
                    Ok(Hours {
                        days: days.parse().map_err(anyhow::Error::msg)?,
                        open: chrono::NaiveTime::parse_from_str(&open, "%H:%M")?,
                        close: chrono::NaiveTime::parse_from_str(&close, "%H:%M")?,
                    })
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            markets.push(Market {
                code,
                name,
                currency: currency.parse()?,
                timezone: timezone
                    .parse()
                    .map_err(|e| anyhow::anyhow!("time zone {timezone}: {e}"))?,
                language: language.parse()?,
                phone_prefixes: prefixes.split(',').map(str::to_owned).collect(),
                hours,
            });
        }

        type CourseRow = (String, String, String, String, String, i64, i64, String, String);
        let course_rows: Vec<CourseRow> = on_pool!(self, |pool| {
            sqlx::query_as(
            "SELECT code, name_en, name_es, name_pt, keywords, weeks, hours_per_week, modality, next_start
             FROM courses ORDER BY position",
        )
        .fetch_all(pool)
        .await
        })?;
        let mut courses = Vec::new();
        for (code, en, es, pt, keywords, weeks, hours, modality, next_start) in course_rows {
            let price_rows: Vec<(String, String, Option<i64>, Option<String>)> =
                on_pool!(self, |pool| sqlx::query_as(
                    "SELECT currency, amount, instalment_count, instalment_amount
                 FROM prices WHERE course_code = $1 ORDER BY currency",
                )
                .bind(&code)
                .fetch_all(pool)
                .await)?;
            let prices = price_rows
                .into_iter()
                .map(|(currency, amount, count, instalment)| {
                    let instalments = match (count, instalment) {
                        (Some(count), Some(amount)) => Some(Plan {
                            count: u32::try_from(count)?,
                            amount: amount.parse::<Decimal>()?,
                        }),
                        _ => None,
                    };
                    Ok(Price {
                        currency: currency.parse()?,
                        amount: amount.parse()?,
                        instalments,
                    })
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            courses.push(Course {
                code,
                name: Localized { en, es, pt },
                keywords: serde_json::from_str(&keywords)?,
                weeks: u32::try_from(weeks)?,
                hours_per_week: u32::try_from(hours)?,
                modality: serde_json::from_value(serde_json::Value::String(modality))?,
                next_start: next_start.parse()?,
                prices,
                terms: Default::default(),
            });
        }

        let fact_rows: Vec<(String, String, String, String)> =
            on_pool!(self, |pool| sqlx::query_as("SELECT topic, en, es, pt FROM facts")
                .fetch_all(pool)
                .await)?;
        let facts: BTreeMap<_, _> = fact_rows
            .into_iter()
            .map(|(topic, en, es, pt)| (topic, Localized { en, es, pt }))
            .collect();

        Ok(Catalog {
            brand: Brand { name, website },
            markets,
            courses,
            facts,
        })
    }
}
