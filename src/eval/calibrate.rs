//! Calibrating the escalation threshold τ0: the lowest confidence at which the local tier's
//! answers reach a target precision. Messages below τ0 go to review (or, later, to a model
//! tier); the coverage says how many the local tier keeps.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    pub target_precision: f64,
    /// The lowest threshold whose answered messages reach the target; `None` when even the
    /// most confident answers miss it.
    pub threshold: Option<f64>,
    /// Precision on the messages at or above the threshold.
    pub precision: Option<f64>,
    /// Messages at or above the threshold.
    pub answered: usize,
    /// Messages the calibration saw (those the local tier answered).
    pub messages: usize,
    /// `answered` over `messages`: the share the local tier keeps at τ0.
    pub coverage: f64,
}

/// Finds τ0 over `outcomes` (confidence, correct). The candidates are the confidences that
/// occur, so the threshold is one a message actually had; a message is answered when its
/// confidence is at or above the threshold.
pub fn calibrate(outcomes: &[(f64, bool)], target_precision: f64) -> Calibration {
    let mut sorted: Vec<(f64, bool)> = outcomes.to_vec();
    sorted.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut best: Option<(f64, usize, usize)> = None;
    let (mut answered, mut correct) = (0, 0);
    let mut i = 0;
    while i < sorted.len() {
        let confidence = sorted[i].0;
        // Take every message with this same confidence: a threshold cannot split them.
        while i < sorted.len() && sorted[i].0 == confidence {
            answered += 1;
            correct += usize::from(sorted[i].1);
            i += 1;
        }
        if correct as f64 >= target_precision * answered as f64 {
            best = Some((confidence, answered, correct));
        }
    }
    let messages = outcomes.len();
    match best {
        Some((threshold, answered, correct)) => Calibration {
            target_precision,
            threshold: Some(threshold),
            precision: Some(correct as f64 / answered as f64),
            answered,
            messages,
            coverage: answered as f64 / messages as f64,
        },
        None => Calibration {
            target_precision,
            threshold: None,
            precision: None,
            answered: 0,
            messages,
            coverage: 0.0,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_lowest_threshold_that_reaches_the_target() {
        // Descending: 0.9 ✓ (1/1), 0.8 ✓ (2/2), 0.7 ✗ (2/3), 0.6 ✓ (3/4), 0.5 ✗ (3/5).
        let outcomes = [(0.5, false), (0.9, true), (0.7, false), (0.8, true), (0.6, true)];
        let got = calibrate(&outcomes, 0.75);
        assert_eq!(got.threshold, Some(0.6));
        assert_eq!((got.answered, got.messages), (4, 5));
        assert_eq!(got.precision, Some(0.75));
        assert!((got.coverage - 0.8).abs() < 1e-12);
        // A stricter target keeps only the top two.
        let got = calibrate(&outcomes, 0.9);
        assert_eq!((got.threshold, got.answered), (Some(0.8), 2));
    }

    #[test]
    fn ties_are_answered_together() {
        let outcomes = [(0.9, true), (0.9, false), (0.4, true)];
        let got = calibrate(&outcomes, 0.6);
        // At 0.9 both tied messages count: 1/2 misses 0.6; adding 0.4 gives 2/3, which reaches it.
        assert_eq!((got.threshold, got.answered), (Some(0.4), 3));
    }

    #[test]
    fn unreachable_or_empty() {
        let got = calibrate(&[(0.9, false)], 0.5);
        assert_eq!((got.threshold, got.coverage, got.messages), (None, 0.0, 1));
        let got = calibrate(&[], 0.5);
        assert_eq!((got.threshold, got.messages), (None, 0));
        let all_right = calibrate(&[(0.3, true), (0.2, true)], 1.0);
        assert_eq!((all_right.threshold, all_right.coverage), (Some(0.2), 1.0));
    }
}
