//! Saving and loading a trained classifier. The file is small and binary: a header that pins
//! the feature layout and the taxonomy (so a model trained for other intents, or by a Tuesday
//! that hashed features differently, is refused instead of silently misread), then the bias
//! and only the weight rows that training touched.

use super::{Classifier, DIM, DIM_BITS};
use crate::domain::Intent;
use anyhow::Context;
use std::path::Path;

const MAGIC: &[u8] = b"TUESDAY-CLASSIFIER\n";
const FORMAT_VERSION: u32 = 1;
/// Bump whenever `features()` changes: old files would score the wrong features.
pub const FEATURES_VERSION: u32 = 1;

impl Classifier {
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(MAGIC);
        let classes = self.classes.len() as u32;
        for n in [FORMAT_VERSION, FEATURES_VERSION, DIM_BITS, classes] {
            out.extend_from_slice(&n.to_le_bytes());
        }
        for intent in &self.classes {
            let name = intent.as_str().as_bytes();
            out.push(name.len() as u8);
            out.extend_from_slice(name);
        }
        for b in &self.bias {
            out.extend_from_slice(&b.to_le_bytes());
        }
        let rows: Vec<usize> = (0..DIM)
            .filter(|f| self.row(*f).iter().any(|w| *w != 0.0))
            .collect();
        out.extend_from_slice(&(rows.len() as u32).to_le_bytes());
        for f in rows {
            out.extend_from_slice(&(f as u32).to_le_bytes());
            for w in self.row(f) {
                out.extend_from_slice(&w.to_le_bytes());
            }
        }
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> anyhow::Result<Classifier> {
        anyhow::ensure!(bytes.starts_with(MAGIC), "not a Tuesday classifier file");
        let mut r = Reader {
            bytes,
            at: MAGIC.len(),
        };
        let (format, features, dim_bits, classes) = (r.u32()?, r.u32()?, r.u32()?, r.u32()?);
        anyhow::ensure!(
            format == FORMAT_VERSION,
            "file format {format}, this Tuesday reads {FORMAT_VERSION}"
        );
        anyhow::ensure!(
            features == FEATURES_VERSION && dim_bits == DIM_BITS,
            "trained with feature layout {features}/{dim_bits} bits; this Tuesday uses \
             {FEATURES_VERSION}/{DIM_BITS}: train it again"
        );
        anyhow::ensure!((1..=1024).contains(&classes), "the file names {classes} intents");
        let mut labels = Vec::with_capacity(classes as usize);
        for _ in 0..classes {
            let len = usize::from(r.take(1)?[0]);
            let name = String::from_utf8_lossy(r.take(len)?).into_owned();
            let intent = Intent::label(&name).context("the file names an intent")?;
            anyhow::ensure!(!labels.contains(&intent), "the file names {intent} twice");
            labels.push(intent);
        }
        let mut model = Classifier::empty(labels);
        let classes = model.classes.len();
        for b in &mut model.bias {
            *b = r.f32()?;
        }
        let rows = r.u32()?;
        for _ in 0..rows {
            let f = r.u32()? as usize;
            anyhow::ensure!(f < DIM, "feature {f} is out of range");
            for class in 0..classes {
                model.weights[f * classes + class] = r.f32()?;
            }
        }
        anyhow::ensure!(r.at == bytes.len(), "trailing bytes after the weights");
        Ok(model)
    }

    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        std::fs::write(path, self.to_bytes())
            .with_context(|| format!("while writing the model to {}", path.display()))
    }

    pub fn load(path: &Path) -> anyhow::Result<Classifier> {
        let bytes =
            std::fs::read(path).with_context(|| format!("while reading the model {}", path.display()))?;
        Classifier::from_bytes(&bytes).with_context(|| format!("in {}", path.display()))
    }

    pub(super) fn row(&self, feature: usize) -> &[f32] {
        let classes = self.classes.len();
        &self.weights[feature * classes..(feature + 1) * classes]
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> anyhow::Result<&'a [u8]> {
        let end = self.at.checked_add(n).filter(|end| *end <= self.bytes.len());
        let end = end.context("the file is truncated")?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn u32(&mut self) -> anyhow::Result<u32> {
        let mut buf = [0; 4];
        buf.copy_from_slice(self.take(4)?);
        Ok(u32::from_le_bytes(buf))
    }

    fn f32(&mut self) -> anyhow::Result<f32> {
        Ok(f32::from_bits(self.u32()?))
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Example, TrainOptions};
    use super::*;
    use crate::domain::Language;

    fn tiny() -> Classifier {
        let examples = [
            ("hola", Intent::Greeting),
            ("cuanto cuesta", Intent::Pricing),
            ("stop", Intent::OptOut),
        ]
        .map(|(text, intent)| Example {
            text: text.to_owned(),
            language: Language::Es,
            intent,
        });
        Classifier::train(&Intent::DEFAULTS, &examples, TrainOptions::default())
    }

    #[test]
    fn a_saved_model_classifies_exactly_like_the_original() {
        let model = tiny();
        let bytes = model.to_bytes();
        let back = Classifier::from_bytes(&bytes).expect("loads");
        for text in ["hola", "cuanto cuesta el curso", "stop", "zzz"] {
            assert_eq!(back.classify(text), model.classify(text), "{text}");
        }
        // Only the touched rows are stored: far smaller than the dense weights.
        assert!(
            bytes.len() < DIM * Intent::DEFAULTS.len() * 4 / 20,
            "{} bytes",
            bytes.len()
        );
        assert_eq!(back.classes(), Intent::DEFAULTS);
    }

    #[test]
    fn a_model_is_checked_against_the_taxonomy_in_use() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("classifier.bin");
        tiny().save(&path).expect("saves");
        let defaults = crate::domain::Taxonomy::default();
        assert!(Classifier::configured(Some(&path), &defaults).is_ok());
        let settings: crate::domain::taxonomy::TaxonomySettings =
            toml::from_str("[[intents]]\nname = \"pricing\"\n[[intents]]\nname = \"other\"")
                .expect("settings");
        let smaller = crate::domain::Taxonomy::from_settings(&settings).expect("taxonomy");
        let err = Classifier::configured(Some(&path), &smaller).expect_err("other labels");
        assert!(format!("{err:#}").contains("train it again"), "{err:#}");
    }

    #[test]
    fn refuses_foreign_or_damaged_files() {
        let bytes = tiny().to_bytes();
        let err = Classifier::from_bytes(b"hello").expect_err("not ours");
        assert!(format!("{err:#}").contains("not a Tuesday"), "{err:#}");
        let err = Classifier::from_bytes(&bytes[..bytes.len() - 3]).expect_err("truncated");
        assert!(format!("{err:#}").contains("truncated"), "{err:#}");
        let mut other = bytes.clone();
        other[MAGIC.len() + 4] = 99; // the feature layout version
        let err = Classifier::from_bytes(&other).expect_err("other features");
        assert!(format!("{err:#}").contains("train it again"), "{err:#}");
        let mut longer = bytes;
        longer.push(0);
        assert!(Classifier::from_bytes(&longer).is_err());
    }
}
