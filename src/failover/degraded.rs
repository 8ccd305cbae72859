//! Degraded mode: a task whose whole chain of models is down is classified by the local model
//! and drafted from the templates. Such drafts are held for review unless their intent is in
//! `failover.degraded_auto_send_intents`; when providers come back, a held degraded draft
//! nobody has touched is drafted again by the models, without anyone having to act.
