//! lingua's high-accuracy scoring, on lingua's own es, pt and en n-gram models, read into one
//! hash table. lingua keeps a model per language as a finite-state transducer behind a
//! concurrent map, so each n-gram of a short message costs three FST walks and three locked
//! look-ups; profiling showed those walks were most of its time. Here one look-up of an n-gram
//! returns its log-probability in all three languages, and the arithmetic is lingua's (see
//! `LanguageDetector::compute_language_confidence_values` in lingua 1.8): the same n-gram
//! orders, back-off, letter rules and normalisation. The price is about 25 MB of memory and a
//! fraction of a second to build the table once per process. A test checks that the answers
//! stay lingua's.

use fst::Streamer;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// `Language::ALL` order: es, pt, en. NaN marks an n-gram a language's model does not have.
type Row = [f32; 3];

pub struct NgramModel {
    rows: HashMap<u64, Row, BuildHasherDefault<PassThrough>>,
}

impl NgramModel {
    /// Reads the three models lingua ships in its language-model crates.
    pub fn load() -> NgramModel {
        let models = [
            lingua_spanish_language_model::SPANISH_MODELS_DIRECTORY,
            lingua_portuguese_language_model::PORTUGUESE_MODELS_DIRECTORY,
            lingua_english_language_model::ENGLISH_MODELS_DIRECTORY,
        ];
        let mut rows: HashMap<u64, Row, BuildHasherDefault<PassThrough>> =
            HashMap::with_capacity_and_hasher(720_000, BuildHasherDefault::default());
        for (i, directory) in models.iter().enumerate() {
            let Some(file) = directory.get_file("ngrams.fst") else {
                continue;
            };
            let Ok(map) = fst::Map::new(file.contents()) else {
                continue;
            };
            let mut stream = map.stream();
            while let Some((ngram, bits)) = stream.next() {
                let row = rows.entry(key(ngram)).or_insert([f32::NAN; 3]);
                row[i] = f64::from_bits(bits) as f32;
            }
        }
        NgramModel { rows }
    }

    /// Confidence for es, pt and en (`Language::ALL` order), summing to 1, or all zero when
    /// the models know none of the text's n-grams.
    pub fn scores(&self, text: &str) -> [f64; 3] {
        let lowered = text.trim().to_lowercase();
        let words: Vec<Vec<char>> = lowered
            .split(|c: char| !c.is_alphabetic())
            .filter(|w| !w.is_empty())
            .map(|w| w.chars().collect())
            .collect();
        if words.is_empty() {
            return [0.0; 3];
        }
        let candidates = letter_rules(&words);
        let char_count: usize = words.iter().map(Vec::len).sum();
        // lingua: all orders up to five on short text, trigrams alone from 120 letters on.
        let orders = if char_count >= 120 { 3..4 } else { 1..6 };
        let mut sums = [0.0f64; 3];
        let mut unigrams_found = [0usize; 3];
        let mut first_map: Option<[f64; 3]> = None;
        let mut buffer = String::new();
        for n in orders {
            if char_count < n {
                continue;
            }
            let mut ngrams: Vec<&[char]> = words
                .iter()
                .filter(|w| w.len() >= n)
                .flat_map(|w| w.windows(n))
                .collect();
            ngrams.sort_unstable();
            ngrams.dedup();
            let mut order_sums = [0.0f64; 3];
            for ngram in ngrams {
                let mut pending = candidates;
                // Back off from the n-gram to its prefixes until each language has a value.
                for len in (1..=n).rev() {
                    if !pending.iter().any(|p| *p) {
                        break;
                    }
                    buffer.clear();
                    buffer.extend(&ngram[..len]);
                    let Some(row) = self.rows.get(&key(buffer.as_bytes())) else {
                        continue;
                    };
                    for i in 0..3 {
                        if pending[i] && !row[i].is_nan() {
                            order_sums[i] += f64::from(row[i]);
                            pending[i] = false;
                            if n == 1 {
                                unigrams_found[i] += 1;
                            }
                        }
                    }
                }
            }
            // A language with nothing found at this order contributes nothing (lingua keeps
            // only negative sums).
            if first_map.is_none() {
                first_map = Some(order_sums);
            }
            for i in 0..3 {
                if candidates[i] && order_sums[i] < 0.0 {
                    sums[i] += order_sums[i];
                }
            }
        }
        let mut probabilities = [0.0f64; 3];
        for i in 0..3 {
            if !candidates[i] {
                continue;
            }
            let mut sum = sums[i];
            if unigrams_found[i] > 0 {
                sum /= unigrams_found[i] as f64;
            }
            if sum != 0.0 {
                probabilities[i] = sum.exp();
            }
        }
        let total: f64 = probabilities.iter().sum();
        if total > 0.0 {
            return probabilities.map(|p| p / total);
        }
        // Every exponent underflowed (very long text): lingua gives the first order's best all.
        let mut out = [0.0; 3];
        if let Some(map) = first_map {
            let best = (0..3)
                .filter(|i| candidates[*i] && map[*i] < 0.0)
                .max_by(|a, b| map[*a].total_cmp(&map[*b]));
            if let Some(i) = best {
                out[i] = 1.0;
            }
        }
        out
    }
}

/// lingua's letter rule for these three languages: letters that only some of them write
/// (ã, õ, ê, ô, â, à, ç for pt; ñ, ü for es; á, í, ú, ó, é for both) narrow the candidates to
/// the languages whose letters appear in at least half the words.
fn letter_rules(words: &[Vec<char>]) -> [bool; 3] {
    const RULES: [(&str, [bool; 3]); 12] = [
        ("Ãã", [false, true, false]),
        ("Ññ", [true, false, false]),
        ("Êê", [false, true, false]),
        ("Õõ", [false, true, false]),
        ("Ôô", [false, true, false]),
        ("Ââ", [false, true, false]),
        ("Àà", [false, true, false]),
        ("Üü", [true, false, false]),
        ("Çç", [false, true, false]),
        ("Óó", [true, true, false]),
        ("ÁáÍíÚú", [true, true, false]),
        ("Éé", [true, true, false]),
    ];
    let mut counts = [0usize; 3];
    for (letters, languages) in RULES {
        for word in words {
            for letter in letters.chars() {
                if word.contains(&letter) {
                    for (count, applies) in counts.iter_mut().zip(languages) {
                        if applies {
                            *count += 1;
                        }
                    }
                }
            }
        }
    }
    let half = words.len() as f64 * 0.5;
    let subset = counts.map(|c| c > 0 && c as f64 >= half);
    if subset.iter().any(|s| *s) {
        subset
    } else {
        [true; 3]
    }
}

/// The table's key for an n-gram: 64-bit FNV-1a, then a final mix. With about 700,000
/// n-grams, a collision is a one-in-ten-million chance.
fn key(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        h ^= u64::from(*byte);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^ (h >> 33)
}

/// The keys are hashes already: the map uses them as they are.
#[derive(Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = (self.0 << 8) | u64::from(*byte);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Language;
    use std::sync::LazyLock;

    static MODEL: LazyLock<NgramModel> = LazyLock::new(NgramModel::load);

    fn top(scores: &[f64; 3]) -> Option<Language> {
        Language::ALL
            .into_iter()
            .zip(scores.iter().copied())
            .filter(|(_, s)| *s > 0.0)
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(l, _)| l)
    }

    /// The whole point of this module is to give lingua's answers faster: check it against
    /// lingua itself on lingua's own test sentences, words and word pairs.
    #[test]
    fn answers_like_lingua() {
        let lingua = super::super::lingua_three();
        let testdata = [
            lingua_spanish_language_model::SPANISH_TESTDATA_DIRECTORY,
            lingua_portuguese_language_model::PORTUGUESE_TESTDATA_DIRECTORY,
            lingua_english_language_model::ENGLISH_TESTDATA_DIRECTORY,
        ];
        let (mut compared, mut agreed, mut max_gap) = (0, 0, 0.0f64);
        for directory in testdata {
            for file in ["single-words.txt", "word-pairs.txt", "sentences.txt"] {
                let text = directory
                    .get_file(file)
                    .and_then(|f| f.contents_utf8())
                    .expect("lingua ships its test data");
                for line in text.lines().take(150) {
                    let ours = MODEL.scores(line);
                    let mut theirs = [0.0; 3];
                    for (language, confidence) in lingua.compute_language_confidence_values(line) {
                        if let Some(l) = super::super::from_lingua(language) {
                            theirs[Language::ALL.iter().position(|x| *x == l).unwrap_or(0)] = confidence;
                        }
                    }
                    compared += 1;
                    agreed += usize::from(top(&ours) == top(&theirs));
                    for i in 0..3 {
                        max_gap = max_gap.max((ours[i] - theirs[i]).abs());
                    }
                }
            }
        }
        assert!(agreed == compared, "agreed on {agreed} of {compared}");
        assert!(max_gap < 1e-3, "confidences differ by up to {max_gap}");
    }

    #[test]
    fn letter_rules_narrow_the_candidates() {
        let words = |s: &str| -> Vec<Vec<char>> { s.split(' ').map(|w| w.chars().collect()).collect() };
        assert_eq!(letter_rules(&words("informação")), [false, true, false]);
        assert_eq!(letter_rules(&words("mañana")), [true, false, false]);
        assert_eq!(letter_rules(&words("análisis")), [true, true, false]);
        assert_eq!(letter_rules(&words("the course")), [true, true, true]);
        // One accented word in four is not enough to rule English out.
        assert_eq!(letter_rules(&words("the café is open")), [true, true, true]);
    }

    #[test]
    fn unknown_text_scores_nothing() {
        assert_eq!(MODEL.scores("123 !!"), [0.0; 3]);
        let scores = MODEL.scores("obrigado pela atenção");
        assert!((scores.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        assert_eq!(top(&scores), Some(Language::Pt));
    }
}
