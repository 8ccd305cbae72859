//! The deterministic hold-out split for `train`. A message's side depends only on its folded
//! text, so the split is the same on every run and in any order, and duplicates ("hola",
//! "Hola!") never straddle it.

use crate::pipeline::classify::Example;
use crate::text;

/// Splits `examples` into (train, held out), holding out about `fraction` of them.
pub fn holdout(examples: &[Example], fraction: f64) -> (Vec<Example>, Vec<Example>) {
    let mut train = Vec::new();
    let mut held = Vec::new();
    for example in examples {
        if bucket(&example.text) < fraction {
            held.push(example.clone());
        } else {
            train.push(example.clone());
        }
    }
    (train, held)
}

/// A stable position in [0, 1) from the folded letters and digits of `message`.
fn bucket(message: &str) -> f64 {
    let key: String = text::tokens(&text::fold(message)).join(" ");
    // FNV-1a, then a final mix so nearby texts land far apart.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in key.bytes() {
        h ^= u64::from(byte);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    (h >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Intent, Language};

    fn examples(n: usize) -> Vec<Example> {
        (0..n)
            .map(|i| Example {
                text: format!("message number {i}"),
                language: Language::En,
                intent: Intent::Other,
            })
            .collect()
    }

    #[test]
    fn same_split_every_time_and_in_any_order() {
        let all = examples(1000);
        let (train, held) = holdout(&all, 0.2);
        assert_eq!(train.len() + held.len(), 1000);
        assert!((150..250).contains(&held.len()), "{}", held.len());
        let mut reversed = all.clone();
        reversed.reverse();
        let (_, held_again) = holdout(&reversed, 0.2);
        let mut a: Vec<&str> = held.iter().map(|e| e.text.as_str()).collect();
        let mut b: Vec<&str> = held_again.iter().map(|e| e.text.as_str()).collect();
        a.sort_unstable();
        b.sort_unstable();
        assert_eq!(a, b);
    }

    #[test]
    fn spellings_of_one_message_stay_together() {
        assert_eq!(bucket("Hola!"), bucket("hola"));
        assert_eq!(bucket("¿Cuánto cuesta?"), bucket("cuanto cuesta"));
        let (train, held) = holdout(&examples(10), 0.0);
        assert_eq!((train.len(), held.len()), (10, 0));
    }
}
