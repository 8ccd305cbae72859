//! The arithmetic of an evaluation, free of I/O: confusion matrices, accuracy, per-class and
//! macro-averaged F1, and the coverage-versus-accuracy curve of a confidence threshold.

use serde::{Deserialize, Serialize};

/// Counts of (gold, predicted) pairs. `counts[g][p]` is how many messages labelled
/// `labels[g]` were predicted as `labels[p]`: rows are the truth, columns the answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confusion<L> {
    pub labels: Vec<L>,
    pub counts: Vec<Vec<usize>>,
}

/// Precision, recall and F1 of one class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassScore<L> {
    pub label: L,
    /// Messages whose gold label is this class.
    pub support: usize,
    /// Messages predicted as this class.
    pub predicted: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

impl<L: Copy + PartialEq> Confusion<L> {
    /// Tallies the pairs over `labels`. A pair whose label is not in `labels` is skipped, so
    /// the caller passes the whole label set.
    pub fn tally(labels: &[L], pairs: impl IntoIterator<Item = (L, L)>) -> Confusion<L> {
        let mut counts = vec![vec![0; labels.len()]; labels.len()];
        let at = |l: L| labels.iter().position(|x| *x == l);
        for (gold, predicted) in pairs {
            if let (Some(g), Some(p)) = (at(gold), at(predicted)) {
                counts[g][p] += 1;
            }
        }
        Confusion {
            labels: labels.to_vec(),
            counts,
        }
    }

    pub fn total(&self) -> usize {
        self.counts.iter().flatten().sum()
    }

    pub fn correct(&self) -> usize {
        (0..self.labels.len()).map(|i| self.counts[i][i]).sum()
    }

    /// Share of messages on the diagonal; 0 when there are none.
    pub fn accuracy(&self) -> f64 {
        ratio(self.correct(), self.total())
    }

    /// Every class that occurs as a gold label or as a prediction. A class with no predictions
    /// has precision 0, and F1 is 0 when precision and recall both are.
    pub fn per_class(&self) -> Vec<ClassScore<L>> {
        let n = self.labels.len();
        (0..n)
            .filter_map(|i| {
                let support: usize = self.counts[i].iter().sum();
                let predicted: usize = (0..n).map(|g| self.counts[g][i]).sum();
                if support == 0 && predicted == 0 {
                    return None;
                }
                let hits = self.counts[i][i];
                let precision = ratio(hits, predicted);
                let recall = ratio(hits, support);
                let f1 = if precision + recall > 0.0 {
                    2.0 * precision * recall / (precision + recall)
                } else {
                    0.0
                };
                Some(ClassScore {
                    label: self.labels[i],
                    support,
                    predicted,
                    precision,
                    recall,
                    f1,
                })
            })
            .collect()
    }

    /// The unweighted mean of F1 over the classes [`per_class`](Self::per_class) reports, so
    /// a rare intent counts as much as a common one.
    pub fn macro_f1(&self) -> f64 {
        let classes = self.per_class();
        if classes.is_empty() {
            return 0.0;
        }
        classes.iter().map(|c| c.f1).sum::<f64>() / classes.len() as f64
    }
}

/// What a confidence threshold leaves: the messages at or above it are answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoveragePoint {
    pub threshold: f64,
    pub answered: usize,
    /// `answered` over all messages.
    pub share: f64,
    /// Accuracy on the answered messages; `None` when none are.
    pub accuracy: Option<f64>,
}

/// The thresholds the curve is drawn at: 0.00, 0.05, …, 0.95.
pub fn curve_thresholds() -> Vec<f64> {
    (0..20).map(|i| f64::from(i) * 0.05).collect()
}

/// For each threshold, how many of `outcomes` (confidence, correct) have a confidence at or
/// above it, and how many of those are correct.
pub fn coverage_curve(outcomes: &[(f64, bool)], thresholds: &[f64]) -> Vec<CoveragePoint> {
    thresholds
        .iter()
        .map(|&threshold| {
            let answered: Vec<bool> = outcomes
                .iter()
                .filter(|(confidence, _)| *confidence >= threshold)
                .map(|(_, correct)| *correct)
                .collect();
            let correct = answered.iter().filter(|c| **c).count();
            CoveragePoint {
                threshold,
                answered: answered.len(),
                share: ratio(answered.len(), outcomes.len()),
                accuracy: (!answered.is_empty()).then(|| ratio(correct, answered.len())),
            }
        })
        .collect()
}

pub fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: char = 'a';
    const B: char = 'b';
    const C: char = 'c';

    /// Gold a a a a b b c, predicted a a a b b c c (worked by hand below).
    fn example() -> Confusion<char> {
        let gold = [A, A, A, A, B, B, C];
        let predicted = [A, A, A, B, B, C, C];
        Confusion::tally(&[A, B, C], gold.into_iter().zip(predicted))
    }

    #[test]
    fn confusion_rows_are_gold_and_columns_predictions() {
        let m = example();
        assert_eq!(m.counts, vec![vec![3, 1, 0], vec![0, 1, 1], vec![0, 0, 1]]);
        assert_eq!((m.correct(), m.total()), (5, 7));
        assert!((m.accuracy() - 5.0 / 7.0).abs() < 1e-12);
    }

    #[test]
    fn per_class_and_macro_f1_match_hand_computation() {
        // a: P 3/3, R 3/4, F1 6/7.  b: P 1/2, R 1/2, F1 1/2.  c: P 1/2, R 1/1, F1 2/3.
        let scores = example().per_class();
        let f1: Vec<f64> = scores.iter().map(|s| s.f1).collect();
        let want = [6.0 / 7.0, 0.5, 2.0 / 3.0];
        for (got, want) in f1.iter().zip(want) {
            assert!((got - want).abs() < 1e-12, "{got} vs {want}");
        }
        assert_eq!((scores[2].precision, scores[2].recall), (0.5, 1.0));
        let macro_f1 = (6.0 / 7.0 + 0.5 + 2.0 / 3.0) / 3.0;
        assert!((example().macro_f1() - macro_f1).abs() < 1e-12);
    }

    #[test]
    fn classes_never_seen_do_not_dilute_macro_f1() {
        let m = Confusion::tally(&[A, B, C], [(A, A), (A, B)]);
        // a: P 1, R 1/2, F1 2/3. b: predicted once, never right: F1 0. c: absent, skipped.
        assert_eq!(m.per_class().len(), 2);
        assert!((m.macro_f1() - (2.0 / 3.0) / 2.0).abs() < 1e-12);
        let empty: Confusion<char> = Confusion::tally(&[A], []);
        assert_eq!((empty.accuracy(), empty.macro_f1()), (0.0, 0.0));
    }

    #[test]
    fn coverage_falls_as_the_threshold_rises() {
        let outcomes = [(0.9, true), (0.8, true), (0.6, false), (0.4, true), (0.2, false)];
        let curve = coverage_curve(&outcomes, &[0.0, 0.5, 0.85, 0.95]);
        let got: Vec<(usize, f64, Option<f64>)> =
            curve.iter().map(|p| (p.answered, p.share, p.accuracy)).collect();
        assert_eq!(
            got,
            [
                (5, 1.0, Some(0.6)),
                (3, 0.6, Some(2.0 / 3.0)),
                (1, 0.2, Some(1.0)),
                (0, 0.0, None)
            ]
        );
    }

    #[test]
    fn the_curve_has_twenty_points_from_zero() {
        let t = curve_thresholds();
        assert_eq!(t.len(), 20);
        assert_eq!(t[0], 0.0);
        assert!((t[19] - 0.95).abs() < 1e-12);
    }
}
