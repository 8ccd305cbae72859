//! The local intent classifier: multinomial logistic regression over hashed word, word-pair and
//! character n-gram features of accent-folded text. Character n-grams carry it through typos
//! and missing accents; the softmax gives a confidence the guardrails can act on.

mod file;

pub use file::FEATURES_VERSION;

use crate::domain::{Intent, Language, Taxonomy};
use crate::text;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use serde::Deserialize;

/// The shipped demo dataset, split once into a training part and a held-out test part.
pub const DEMO_TRAIN: [&str; 3] = [
    include_str!("../../../data/demo/es-train.jsonl"),
    include_str!("../../../data/demo/pt-train.jsonl"),
    include_str!("../../../data/demo/en-train.jsonl"),
];
pub const DEMO_TEST: [&str; 3] = [
    include_str!("../../../data/demo/es-test.jsonl"),
    include_str!("../../../data/demo/pt-test.jsonl"),
    include_str!("../../../data/demo/en-test.jsonl"),
];

const DIM_BITS: u32 = 17;
const DIM: usize = 1 << DIM_BITS;

/// One labelled message.
#[derive(Debug, Clone, Deserialize)]
pub struct Example {
    pub text: String,
    pub language: Language,
    pub intent: Intent,
}

/// Reads JSONL examples, one object a line. Blank lines are skipped; a bad line is an error
/// naming its line number.
pub fn read_jsonl(source: &str) -> anyhow::Result<Vec<Example>> {
    source
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(n, line)| serde_json::from_str(line).map_err(|e| anyhow::anyhow!("line {}: {e}", n + 1)))
        .collect()
}

#[derive(Debug, Clone, PartialEq)]
pub struct Classification {
    pub intent: Intent,
    pub confidence: f64,
    /// Every intent's probability, highest first.
    pub ranked: Vec<(Intent, f64)>,
}

pub struct Classifier {
    /// The labels it tells apart, in the taxonomy's order: class `i` is `classes[i]`.
    classes: Vec<Intent>,
    /// Row-major: feature × class.
    weights: Vec<f32>,
    bias: Vec<f32>,
}

/// Shows the model's size, not its million weights.
impl std::fmt::Debug for Classifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let nonzero = self.weights.iter().filter(|w| **w != 0.0).count();
        f.debug_struct("Classifier")
            .field("classes", &self.classes)
            .field("nonzero_weights", &nonzero)
            .finish()
    }
}

#[derive(Debug, Clone, Copy)]
pub struct TrainOptions {
    pub epochs: usize,
    pub learning_rate: f32,
    pub l2: f32,
    pub seed: u64,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            epochs: 25,
            learning_rate: 0.4,
            l2: 1e-6,
            seed: 7,
        }
    }
}

impl Classifier {
    /// A short hex digest of the weights: the same model, however it was loaded, has the same
    /// fingerprint, and an evaluation run names the model it scored by it.
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut hash = Sha256::new();
        for w in self.weights.iter().chain(&self.bias) {
            hash.update(w.to_le_bytes());
        }
        // The shipped taxonomy's models keep the fingerprints they always had.
        if self.classes != Intent::DEFAULTS {
            for class in &self.classes {
                hash.update(class.as_str().as_bytes());
                hash.update([0]);
            }
        }
        hex::encode(&hash.finalize()[..8])
    }

    /// Trains the default taxonomy on the shipped demo training split.
    pub fn demo() -> anyhow::Result<Classifier> {
        Classifier::for_taxonomy(&Taxonomy::default())
    }

    /// Trains `taxonomy` on the demo training split's messages of its labels, plus the
    /// examples the taxonomy itself gives.
    pub fn for_taxonomy(taxonomy: &Taxonomy) -> anyhow::Result<Classifier> {
        let mut examples = Vec::new();
        for source in DEMO_TRAIN {
            examples.extend(read_jsonl(source)?);
        }
        examples.extend(taxonomy_examples(taxonomy, &examples));
        Ok(Classifier::train(
            &taxonomy.labels(),
            &examples,
            TrainOptions::default(),
        ))
    }

    /// The model file from `pipeline.classifier_model` when one is set, else a model trained
    /// at start-up. A file trained for other labels than `taxonomy`'s is refused.
    pub fn configured(model: Option<&std::path::Path>, taxonomy: &Taxonomy) -> anyhow::Result<Classifier> {
        let Some(path) = model else {
            return Classifier::for_taxonomy(taxonomy);
        };
        let classifier = Classifier::load(path)?;
        anyhow::ensure!(
            classifier.classes == taxonomy.labels(),
            "{} was trained for the intents {}, but the taxonomy is {}: train it again",
            path.display(),
            classifier
                .classes
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            taxonomy.listing()
        );
        Ok(classifier)
    }

    /// The labels this model tells apart.
    pub fn classes(&self) -> &[Intent] {
        &self.classes
    }

    /// Stochastic gradient descent on the softmax cross-entropy, in a seeded order so the same
    /// data always gives the same model. Examples of labels outside `classes` are left out.
    pub fn train(classes: &[Intent], examples: &[Example], options: TrainOptions) -> Classifier {
        let mut model = Classifier::empty(classes.to_vec());
        let featurised: Vec<(Vec<usize>, usize)> = examples
            .iter()
            .filter_map(|e| {
                let class = classes.iter().position(|c| *c == e.intent)?;
                Some((features(&e.text), class))
            })
            .collect();
        let mut order: Vec<usize> = (0..featurised.len()).collect();
        let mut rng = rand::rngs::StdRng::seed_from_u64(options.seed);
        for epoch in 0..options.epochs {
            order.shuffle(&mut rng);
            let rate = options.learning_rate / (1.0 + epoch as f32 * 0.2);
            for &i in &order {
                let (feats, label) = &featurised[i];
                let probs = model.probabilities(feats);
                let scale = feature_scale(feats.len());
                for (class, p) in probs.iter().enumerate() {
                    let target = if class == *label { 1.0 } else { 0.0 };
                    let gradient = p - target;
                    model.bias[class] -= rate * gradient;
                    for &f in feats {
                        let w = &mut model.weights[f * model.classes.len() + class];
                        *w -= rate * (gradient * scale + options.l2 * *w);
                    }
                }
            }
        }
        model
    }

    fn empty(classes: Vec<Intent>) -> Classifier {
        Classifier {
            weights: vec![0.0; DIM * classes.len()],
            bias: vec![0.0; classes.len()],
            classes,
        }
    }

    pub fn classify(&self, message: &str) -> Classification {
        let probs = self.probabilities(&features(message));
        let mut ranked: Vec<(Intent, f64)> = self
            .classes
            .iter()
            .zip(probs.iter())
            .map(|(i, p)| (*i, f64::from(*p)))
            .collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
        Classification {
            intent: ranked[0].0,
            confidence: ranked[0].1,
            ranked,
        }
    }

    fn probabilities(&self, feats: &[usize]) -> Vec<f32> {
        let mut logits = self.bias.clone();
        let scale = feature_scale(feats.len());
        for &f in feats {
            let row = self.row(f);
            for (logit, w) in logits.iter_mut().zip(row) {
                *logit += w * scale;
            }
        }
        let max = logits.iter().copied().fold(f32::MIN, f32::max);
        let mut sum = 0.0;
        for logit in &mut logits {
            *logit = (*logit - max).exp();
            sum += *logit;
        }
        for logit in &mut logits {
            *logit /= sum;
        }
        logits
    }
}

/// The taxonomy's own examples, repeated so that a label with a handful of them weighs like
/// a label with a full share of the demo data; otherwise the model would hardly ever pick it.
fn taxonomy_examples(taxonomy: &Taxonomy, demo: &[Example]) -> Vec<Example> {
    let per_label = demo.len() / Intent::DEFAULTS.len().max(1);
    let mut out = Vec::new();
    for described in taxonomy.described() {
        let given: Vec<Example> = Language::ALL
            .into_iter()
            .flat_map(|language| {
                described.examples.of(language).iter().map(move |text| Example {
                    text: text.clone(),
                    language,
                    intent: described.intent,
                })
            })
            .collect();
        if given.is_empty() {
            continue;
        }
        let already = demo.iter().filter(|e| e.intent == described.intent).count();
        let copies = per_label.saturating_sub(already).div_ceil(given.len()).max(1);
        for _ in 0..copies {
            out.extend(given.iter().cloned());
        }
    }
    out
}

fn feature_scale(count: usize) -> f32 {
    1.0 / (count.max(1) as f32).sqrt()
}

/// Hashed features: words, word pairs, character 3- and 4-grams within words, and a length
/// bucket (a one-word message is most often a greeting).
fn features(message: &str) -> Vec<usize> {
    let words: Vec<String> = text::tokens(&squeeze_repeats(&text::fold(message)));
    let mut out = Vec::with_capacity(words.len() * 8 + 2);
    let length_bucket = match words.len() {
        0 => "len0",
        1 => "len1",
        2..=3 => "len2",
        4..=8 => "len4",
        _ => "len9",
    };
    out.push(hash(&["n", length_bucket]));
    for (i, word) in words.iter().enumerate() {
        out.push(hash(&["w", word]));
        if let Some(next) = words.get(i + 1) {
            out.push(hash(&["b", word, next]));
        }
        let padded: Vec<char> = format!("<{word}>").chars().collect();
        for n in [3, 4] {
            for gram in padded.windows(n) {
                out.push(hash(&["c", &gram.iter().collect::<String>()]));
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// "holaaaa" → "hola", "kkkkk" → "k": runs of three or more of a letter become one.
fn squeeze_repeats(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        let mut j = i;
        while j < chars.len() && chars[j] == chars[i] {
            j += 1;
        }
        let run = if j - i >= 3 && chars[i].is_alphabetic() {
            1
        } else {
            j - i
        };
        out.extend(std::iter::repeat_n(chars[i], run));
        i = j;
    }
    out
}

/// FNV-1a over the parts with a separator, folded into the feature space.
fn hash(parts: &[&str]) -> usize {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.bytes().chain([0x1f]) {
            h ^= u64::from(byte);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    (h >> (64 - DIM_BITS)) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::OnceLock;

    fn model() -> &'static Classifier {
        static MODEL: OnceLock<Classifier> = OnceLock::new();
        MODEL.get_or_init(|| Classifier::demo().expect("demo data parses"))
    }

    #[test]
    fn squeezes_stretched_words() {
        assert_eq!(squeeze_repeats("holaaaa kkkkk obrigadoooo"), "hola k obrigado");
        assert_eq!(squeeze_repeats("llamada 2000"), "llamada 2000");
    }

    #[test]
    fn demo_splits_are_balanced_and_disjoint() {
        let train: Vec<Example> = DEMO_TRAIN
            .iter()
            .flat_map(|s| read_jsonl(s).expect("train"))
            .collect();
        let test: Vec<Example> = DEMO_TEST
            .iter()
            .flat_map(|s| read_jsonl(s).expect("test"))
            .collect();
        for language in Language::ALL {
            assert!(
                train.iter().filter(|e| e.language == language).count() >= 300,
                "{language}"
            );
        }
        let seen: std::collections::HashSet<_> = train.iter().map(|e| text::fold(&e.text)).collect();
        assert!(
            test.iter().all(|e| !seen.contains(&text::fold(&e.text))),
            "test leaks into train"
        );
    }

    #[test]
    fn classifies_typical_messages_in_three_languages() {
        let cases = [
            ("cuanto cuesta el curso de python?", Intent::Pricing),
            ("quanto custa o curso de python?", Intent::Pricing),
            ("how much is the python course?", Intent::Pricing),
            ("no me escriban mas por favor", Intent::OptOut),
            ("para de me mandar mensagem", Intent::OptOut),
            ("stop texting me", Intent::OptOut),
            ("quiero hablar con un asesor", Intent::HumanRequest),
            ("hola 👋", Intent::Greeting),
            ("valeu 👍", Intent::Greeting),
        ];
        for (text, want) in cases {
            let got = model().classify(text);
            assert_eq!(got.intent, want, "{text}: {got:?}");
        }
    }

    #[test]
    fn held_out_accuracy_is_useful() {
        let test: Vec<Example> = DEMO_TEST
            .iter()
            .flat_map(|s| read_jsonl(s).expect("test"))
            .collect();
        let correct = test
            .iter()
            .filter(|e| model().classify(&e.text).intent == e.intent)
            .count();
        let accuracy = correct as f64 / test.len() as f64;
        // Ten classes: chance is 10%. The evaluation command reports the exact figure.
        assert!(accuracy > 0.7, "held-out accuracy {accuracy:.3}");
    }

    #[test]
    fn a_configured_label_is_learned_from_its_examples() {
        let settings: crate::domain::taxonomy::TaxonomySettings = toml::from_str(
            r#"
            [[intents]]
            name = "pricing"
            [[intents]]
            name = "course_info"
            [[intents]]
            name = "scholarship"
            description = "asks about scholarships, grants or financial aid"
            examples.es = ["hay becas?", "tienen becas para el curso de ux", "ofrecen ayuda financiera", "beca 🙏", "me dan una beca para el bootcamp de datos?", "becas para desempleados?"]
            examples.pt = ["tem bolsa de estudos?", "vcs dao bolsa?", "existe bolsa pro curso de marketing", "bolsa 🙏", "consigo bolsa no curso de dados?", "bolsa integral ou parcial?"]
            examples.en = ["any scholarships??", "do you offer financial aid", "is there a grant for the data course", "scholarship 🙏", "can i get a scholarship for the ux bootcamp", "need-based aid?"]
            [[intents]]
            name = "other"
            "#,
        )
        .expect("settings");
        let taxonomy = Taxonomy::from_settings(&settings).expect("taxonomy");
        let model = Classifier::for_taxonomy(&taxonomy).expect("trains");
        assert_eq!(model.classes(), taxonomy.labels());
        let scholarship = taxonomy.parse("scholarship").expect("label");
        // Unseen wordings, without accents, with typos and emoji, one mixing languages.
        let cases = [
            ("hay alguna beca para el curso de python?", scholarship),
            ("tem bolsa pra quem nao pode pagar? 😅", scholarship),
            ("do u have scholarships for the data course", scholarship),
            ("hola, any becas?", scholarship),
            ("cuanto cuesta el curso de python?", Intent::Pricing),
            ("quanto custa o curso?", Intent::Pricing),
        ];
        for (text, want) in cases {
            let got = model.classify(text);
            assert_eq!(got.intent, want, "{text}: {got:?}");
            assert!(got.ranked.iter().all(|(i, _)| taxonomy.contains(*i)));
        }
        // Labels the taxonomy dropped are never predicted.
        let got = model.classify("quiero darme de baja, no me escriban");
        assert!(taxonomy.contains(got.intent), "{got:?}");
    }

    #[test]
    fn confidence_is_a_probability() {
        let got = model().classify("asdf qwerty");
        assert!(got.confidence > 0.0 && got.confidence <= 1.0);
        let total: f64 = got.ranked.iter().map(|r| r.1).sum();
        assert!((total - 1.0).abs() < 1e-4);
    }
}
