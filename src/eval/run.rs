//! Running the pipeline's real stages over one labelled message, offline: language detection,
//! then classification by the routed tier. No database, no network.

use crate::domain::{Intent, Language, Money};
use crate::pipeline::classify::{Classifier, Example};
use crate::pipeline::language::{Detector, Method};
use crate::pipeline::route::{self, Tier};

/// One labelled message and what the stages said about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    pub gold_language: Language,
    pub gold_intent: Intent,
    pub language: Language,
    pub language_method: Method,
    pub intent: Intent,
    pub confidence: f64,
    pub tier: Tier,
    pub cost: Money,
}

impl Prediction {
    pub fn intent_correct(&self) -> bool {
        self.intent == self.gold_intent
    }

    pub fn language_correct(&self) -> bool {
        self.language == self.gold_language
    }
}

/// The stages, built once and run on every message.
pub struct Stages<'a> {
    pub detector: &'a Detector,
    pub classifier: &'a Classifier,
}

impl Stages<'_> {
    /// A dataset row has no conversation around it, so detection runs without a prior.
    pub fn predict(&self, example: &Example) -> Prediction {
        let detected = self.detector.detect(&example.text, None, None);
        let routed = route::classify(self.classifier, &example.text);
        Prediction {
            gold_language: example.language,
            gold_intent: example.intent,
            language: detected.language,
            language_method: detected.method,
            intent: routed.classification.intent,
            confidence: routed.classification.confidence,
            tier: routed.tier,
            cost: routed.cost,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::classify::TrainOptions;

    fn example(text: &str, language: Language, intent: Intent) -> Example {
        Example {
            text: text.to_owned(),
            language,
            intent,
        }
    }

    #[test]
    fn runs_detection_then_the_routed_classifier() {
        let training = [
            example("hola buenas", Language::Es, Intent::Greeting),
            example("cuanto cuesta el curso", Language::Es, Intent::Pricing),
            example("quanto custa o curso", Language::Pt, Intent::Pricing),
        ];
        let classifier = Classifier::train(&Intent::DEFAULTS, &training, TrainOptions::default());
        let stages = Stages {
            detector: Detector::shared(),
            classifier: &classifier,
        };
        let got = stages.predict(&example(
            "quanto custa o curso de python?",
            Language::Pt,
            Intent::Pricing,
        ));
        assert_eq!((got.language, got.intent), (Language::Pt, Intent::Pricing));
        assert!(got.intent_correct() && got.language_correct());
        assert_eq!((got.tier, got.cost.amount.is_zero()), (Tier::Local, true));
        assert!(got.confidence > 0.0 && got.confidence <= 1.0);
    }
}
