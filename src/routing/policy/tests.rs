use super::*;
use crate::routing::ModelEntry;

fn settings() -> RoutingSettings {
    RoutingSettings::default()
}

fn d(s: &str) -> Decimal {
    s.parse().expect("decimal")
}

#[test]
fn classification_escalates_on_doubt_only() {
    let s = settings(); // τ0 0.39, τ1 0.70
    let cases = [
        (Tier::Local, 0.90, None),
        (Tier::Local, 0.39, None),
        (Tier::Local, 0.38, Some((Tier::Fast, "below_tau0"))),
        (Tier::Fast, 0.70, None),
        (Tier::Fast, 0.69, Some((Tier::Standard, "below_tau1"))),
        (Tier::Standard, 0.10, None),
    ];
    for (tier, confidence, want) in cases {
        let got = classification_next(tier, confidence, &s).map(|c| (c.tier, c.reason));
        assert_eq!(got, want, "{tier} at {confidence}");
    }
}

fn facts(intent: Intent) -> DraftFacts {
    DraftFacts {
        intent,
        is_text: true,
        message_chars: 40,
        courses_named: 1,
        thread_messages: 1,
        lead_value_usd: Some(d("279")),
        previous: PreviousDraft::Fine,
        window_closed: false,
    }
}

#[test]
fn drafting_rules_pick_the_tier_in_order() {
    let s = settings();
    let long = DraftFacts {
        thread_messages: 12,
        ..facts(Intent::Enrollment)
    };
    let cases: Vec<(&str, DraftFacts, Tier, &str)> = vec![
        ("greeting", facts(Intent::Greeting), Tier::Local, "simple_intent"),
        ("opt-out", facts(Intent::OptOut), Tier::Local, "simple_intent"),
        (
            "plain price question",
            facts(Intent::Pricing),
            Tier::Local,
            "simple_intent",
        ),
        (
            "price question naming two courses",
            DraftFacts {
                courses_named: 2,
                ..facts(Intent::Pricing)
            },
            Tier::Standard,
            "default",
        ),
        (
            "long price question",
            DraftFacts {
                message_chars: 400,
                ..facts(Intent::Pricing)
            },
            Tier::Standard,
            "default",
        ),
        ("objection", facts(Intent::Objection), Tier::Standard, "default"),
        ("complaint", facts(Intent::Complaint), Tier::Flagship, "complaint"),
        (
            "opt-out in a long thread stays a template",
            DraftFacts {
                thread_messages: 40,
                ..facts(Intent::OptOut)
            },
            Tier::Local,
            "simple_intent",
        ),
        ("long thread", long, Tier::Flagship, "long_thread"),
        (
            "greeting in a long thread",
            DraftFacts {
                thread_messages: 30,
                ..facts(Intent::Greeting)
            },
            Tier::Local,
            "simple_intent",
        ),
        (
            "high-value lead",
            DraftFacts {
                lead_value_usd: Some(d("1200")),
                ..facts(Intent::CourseInfo)
            },
            Tier::Flagship,
            "high_value_lead",
        ),
        (
            "previous draft rejected, even for a greeting",
            DraftFacts {
                previous: PreviousDraft::Rejected,
                ..facts(Intent::Greeting)
            },
            Tier::Flagship,
            "previous_rejected",
        ),
        (
            "previous draft heavily edited",
            DraftFacts {
                previous: PreviousDraft::HeavilyEdited(0.6),
                ..facts(Intent::Support)
            },
            Tier::Flagship,
            "previous_heavily_edited",
        ),
        (
            "an image",
            DraftFacts {
                is_text: false,
                ..facts(Intent::Other)
            },
            Tier::Local,
            "not_text",
        ),
    ];
    for (name, facts, tier, reason) in cases {
        let got = draft_tier(&facts, &s);
        assert_eq!((got.tier, got.reason), (tier, reason), "{name}: {}", got.why);
    }
    let fast = RoutingSettings {
        simple_drafts: SimpleDrafts::Fast,
        ..settings()
    };
    assert_eq!(draft_tier(&facts(Intent::Greeting), &fast).tier, Tier::Fast);
}

fn budget(today: &str, month: &str) -> BudgetState {
    BudgetState {
        spent_today: d(today),
        spent_month: d(month),
        daily_limit: d("10"),
        monthly_limit: d("100"),
    }
}

#[test]
fn the_budget_steps_the_ceiling_down_near_its_limits() {
    let s = settings(); // steps at 80%, 90%, 97%
    let cases = [
        (budget("0", "0"), Tier::Flagship),
        (budget("7.99", "10"), Tier::Flagship),
        (budget("8", "10"), Tier::Standard),
        (budget("1", "85"), Tier::Standard),
        (budget("9", "10"), Tier::Fast),
        (budget("1", "96.9"), Tier::Fast),
        (budget("9.7", "10"), Tier::Local),
        (budget("12", "12"), Tier::Local),
    ];
    for (state, want) in cases {
        assert_eq!(budget_ceiling(&state, &s).tier, want, "{state:?}");
    }
    let no_money = BudgetState {
        daily_limit: Decimal::ZERO,
        ..budget("0", "0")
    };
    assert_eq!(budget_ceiling(&no_money, &s).tier, Tier::Local);
}

#[test]
fn a_call_fits_only_under_both_hard_caps() {
    assert!(budget("9.99", "50").fits(d("0.01")));
    assert!(!budget("9.99", "50").fits(d("0.011")));
    assert!(!budget("1", "99.999").fits(d("0.002")));
}

#[test]
fn fitting_applies_the_ceiling_then_availability() {
    let choice = |tier| Choice::new(tier, "rule", "rule");
    let ceiling = |tier| Choice::new(tier, "budget", "budget");
    let all = [Tier::Fast, Tier::Standard, Tier::Flagship];
    let cases = [
        // wanted, ceiling, configured, fallback → tier, reason
        (
            Tier::Flagship,
            Tier::Flagship,
            &all[..],
            Fallback::Down,
            Tier::Flagship,
            "rule",
        ),
        (
            Tier::Flagship,
            Tier::Standard,
            &all[..],
            Fallback::Down,
            Tier::Standard,
            "budget",
        ),
        (
            Tier::Flagship,
            Tier::Local,
            &all[..],
            Fallback::Down,
            Tier::Local,
            "budget",
        ),
        (
            Tier::Standard,
            Tier::Flagship,
            &[Tier::Fast][..],
            Fallback::Down,
            Tier::Fast,
            "not_configured",
        ),
        (
            Tier::Standard,
            Tier::Flagship,
            &[][..],
            Fallback::Down,
            Tier::Local,
            "not_configured",
        ),
        (
            Tier::Fast,
            Tier::Flagship,
            &[Tier::Standard][..],
            Fallback::Up,
            Tier::Standard,
            "not_configured",
        ),
        (
            Tier::Fast,
            Tier::Fast,
            &[Tier::Standard][..],
            Fallback::Up,
            Tier::Local,
            "not_configured",
        ),
        (
            Tier::Local,
            Tier::Flagship,
            &all[..],
            Fallback::Down,
            Tier::Local,
            "rule",
        ),
    ];
    for (wanted, cap, configured, fallback, tier, reason) in cases {
        let got = fit(&choice(wanted), &ceiling(cap), configured, fallback);
        assert_eq!(
            (got.tier, got.reason),
            (tier, reason),
            "{wanted} under {cap} with {configured:?}"
        );
    }
}

#[test]
fn steps_down_one_tier_at_a_time() {
    assert_eq!(step_down(Tier::Flagship), Tier::Standard);
    assert_eq!(step_down(Tier::Standard), Tier::Fast);
    assert_eq!(step_down(Tier::Fast), Tier::Local);
    assert_eq!(step_down(Tier::Local), Tier::Local);
}

fn finding(rule: &'static str, verdict: Verdict) -> Finding {
    Finding::new(rule, verdict, "r", "m")
}

#[test]
fn a_failing_standard_draft_is_redrafted_once_on_flagship() {
    let clean = [
        finding("prices", Verdict::Pass),
        finding("confidence", Verdict::Hold),
    ];
    let bad = [
        finding("prices", Verdict::Block),
        finding("confidence", Verdict::Pass),
    ];
    assert_eq!(
        after_guardrails(Tier::Standard, &clean, false),
        AfterGuardrails::Keep
    );
    assert!(matches!(
        after_guardrails(Tier::Standard, &bad, false),
        AfterGuardrails::Redraft { tier: Tier::Flagship, ref failures } if failures.len() == 1
    ));
    assert!(matches!(
        after_guardrails(Tier::Flagship, &bad, true),
        AfterGuardrails::HoldForPerson { .. }
    ));
    // Only standard drafts escalate; a template or a flagship draft that fails is held as is.
    assert_eq!(after_guardrails(Tier::Local, &bad, false), AfterGuardrails::Keep);
    assert_eq!(
        after_guardrails(Tier::Flagship, &bad, false),
        AfterGuardrails::Keep
    );
}

#[test]
fn settings_reject_unknown_providers_and_unpriced_models() {
    let mut s = settings();
    s.tiers.fast.push(ModelEntry {
        provider: "anthropic".to_owned(),
        model: "claude-haiku-4-5".to_owned(),
    });
    assert!(s.validate().is_err(), "no such provider");
    s.providers.insert("anthropic".to_owned(), Default::default());
    assert!(s.validate().is_ok());
    s.tiers.fast[0].model = "mystery-model".to_owned();
    assert!(s.validate().is_err(), "no price");
}
