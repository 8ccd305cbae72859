//! The workspace's intent taxonomy: which labels the classifier, the prompts and the evaluation
//! use, what each means, and examples of each in Spanish, Portuguese and English.
//!
//! Without a `[taxonomy]` section the ten default intents apply. A `[[taxonomy.intents]]` list
//! replaces them: a default label listed by name alone keeps its shipped description and
//! training data; a new label brings its own description and examples in every language.

use super::{Intent, Language};
use serde::Deserialize;

/// `[taxonomy]` as written in the settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TaxonomySettings {
    /// Every label of the workspace, in the order pages list them. Empty: the defaults.
    pub intents: Vec<IntentSpec>,
}

/// `[[taxonomy.intents]]`: one label.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntentSpec {
    pub name: Intent,
    /// What a message with this intent does, for the model prompts. Optional for defaults.
    #[serde(default)]
    pub description: Option<String>,
    /// Example messages, added to the local classifier's training data.
    #[serde(default)]
    pub examples: Examples,
}

/// Example messages per language.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Examples {
    pub es: Vec<String>,
    pub pt: Vec<String>,
    pub en: Vec<String>,
}

impl Examples {
    pub fn of(&self, language: Language) -> &[String] {
        match language {
            Language::Es => &self.es,
            Language::Pt => &self.pt,
            Language::En => &self.en,
        }
    }
}

/// One label of the taxonomy in use.
#[derive(Debug, Clone)]
pub struct Described {
    pub intent: Intent,
    pub description: String,
    pub examples: Examples,
}

/// The taxonomy in use, checked.
#[derive(Debug, Clone)]
pub struct Taxonomy {
    intents: Vec<Described>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TaxonomyError {
    #[error("taxonomy.intents lists {0} twice")]
    Duplicate(Intent),
    #[error("taxonomy.intents must include \"other\": it is where a message no label fits goes")]
    NoOther,
    #[error("taxonomy intent {0} is new, so it needs a description for the model prompts")]
    NoDescription(Intent),
    #[error(
        "taxonomy intent {0} is new, so it needs at least one example in each of es, pt and en \
         (missing {1})"
    )]
    NoExamples(Intent, Language),
    #[error("{0} is not in the taxonomy (taxonomy.intents lists {1})")]
    Unknown(Intent, String),
    #[error("{0:?} is not an intent label (taxonomy.intents lists {1})")]
    NotALabel(String, String),
}

impl Taxonomy {
    pub fn from_settings(settings: &TaxonomySettings) -> Result<Taxonomy, TaxonomyError> {
        if settings.intents.is_empty() {
            return Ok(Taxonomy::default());
        }
        let mut intents: Vec<Described> = Vec::with_capacity(settings.intents.len());
        for spec in &settings.intents {
            let intent = spec.name;
            if intents.iter().any(|d| d.intent == intent) {
                return Err(TaxonomyError::Duplicate(intent));
            }
            let description = match (&spec.description, default_description(intent)) {
                (Some(text), _) if !text.trim().is_empty() => text.trim().to_owned(),
                (_, Some(shipped)) => shipped.to_owned(),
                (_, None) => return Err(TaxonomyError::NoDescription(intent)),
            };
            if !intent.is_default()
                && let Some(missing) = Language::ALL
                    .into_iter()
                    .find(|l| spec.examples.of(*l).iter().all(|e| e.trim().is_empty()))
            {
                return Err(TaxonomyError::NoExamples(intent, missing));
            }
            intents.push(Described {
                intent,
                description,
                examples: spec.examples.clone(),
            });
        }
        if !intents.iter().any(|d| d.intent == Intent::Other) {
            return Err(TaxonomyError::NoOther);
        }
        Ok(Taxonomy { intents })
    }

    /// Every label, in the configured order.
    pub fn intents(&self) -> impl ExactSizeIterator<Item = Intent> + '_ {
        self.intents.iter().map(|d| d.intent)
    }

    pub fn labels(&self) -> Vec<Intent> {
        self.intents().collect()
    }

    pub fn described(&self) -> &[Described] {
        &self.intents
    }

    pub fn contains(&self, intent: Intent) -> bool {
        self.intents.iter().any(|d| d.intent == intent)
    }

    /// `intent`, if the taxonomy has it; the error lists what it has.
    pub fn check(&self, intent: Intent) -> Result<Intent, TaxonomyError> {
        if self.contains(intent) {
            return Ok(intent);
        }
        Err(TaxonomyError::Unknown(intent, self.listing()))
    }

    /// Parses a label and checks it belongs.
    pub fn parse(&self, name: &str) -> Result<Intent, TaxonomyError> {
        let intent =
            Intent::label(name).map_err(|_| TaxonomyError::NotALabel(name.to_owned(), self.listing()))?;
        self.check(intent)
    }

    /// "pricing, course_info, …": for error messages.
    pub fn listing(&self) -> String {
        self.intents().map(Intent::as_str).collect::<Vec<_>>().join(", ")
    }

    pub fn description(&self, intent: Intent) -> Option<&str> {
        self.intents
            .iter()
            .find(|d| d.intent == intent)
            .map(|d| d.description.as_str())
    }

    /// Whether this is the shipped taxonomy, unchanged.
    pub fn is_default(&self) -> bool {
        self.intents().eq(Intent::DEFAULTS)
            && self.intents.iter().all(|d| {
                Language::ALL.iter().all(|l| d.examples.of(*l).is_empty())
                    && Some(d.description.as_str()) == default_description(d.intent)
            })
    }
}

impl Default for Taxonomy {
    fn default() -> Taxonomy {
        Taxonomy {
            intents: Intent::DEFAULTS
                .into_iter()
                .map(|intent| Described {
                    intent,
                    description: default_description(intent).unwrap_or_default().to_owned(),
                    examples: Examples::default(),
                })
                .collect(),
        }
    }
}

/// What each default intent means, as the model prompts say it.
pub fn default_description(intent: Intent) -> Option<&'static str> {
    Some(match intent {
        Intent::Pricing => "asks about price, payment, instalments or discounts",
        Intent::CourseInfo => "asks about a course's content, length, schedule or certificate",
        Intent::Enrollment => "wants to enrol or pay now",
        Intent::Objection => "hesitates: too expensive, no time, not sure it is worth it",
        Intent::Support => "an enrolled student needs help with access, classes or materials",
        Intent::Complaint => "is unhappy: a complaint, a refund demand, anger",
        Intent::OptOut => "asks us to stop writing",
        Intent::HumanRequest => "asks to talk to a person",
        Intent::Greeting => "greets or thanks, with nothing else to answer",
        Intent::Other => "anything else",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(toml: &str) -> TaxonomySettings {
        toml::from_str(toml).expect("taxonomy settings parse")
    }

    const SCHOLARSHIP: &str = r#"
        [[intents]]
        name = "pricing"
        [[intents]]
        name = "scholarship"
        description = "asks about scholarships, grants or financial aid"
        examples.es = ["hay becas?", "tienen ayuda financiera para estudiar"]
        examples.pt = ["tem bolsa de estudos?", "vcs dão bolsa?"]
        examples.en = ["any scholarships??", "do you offer financial aid"]
        [[intents]]
        name = "other"
    "#;

    #[test]
    fn no_section_means_the_defaults() {
        let taxonomy = Taxonomy::from_settings(&TaxonomySettings::default()).expect("defaults");
        assert_eq!(taxonomy.labels(), Intent::DEFAULTS.to_vec());
        assert!(taxonomy.is_default());
    }

    #[test]
    fn a_configured_list_replaces_the_defaults() {
        let taxonomy = Taxonomy::from_settings(&settings(SCHOLARSHIP)).expect("valid");
        let names: Vec<&str> = taxonomy.intents().map(Intent::as_str).collect();
        assert_eq!(names, ["pricing", "scholarship", "other"]);
        assert_eq!(
            taxonomy.description(Intent::Pricing),
            default_description(Intent::Pricing)
        );
        let scholarship = taxonomy.parse("scholarship").expect("belongs");
        assert_eq!(
            taxonomy.description(scholarship),
            Some("asks about scholarships, grants or financial aid")
        );
        assert!(!taxonomy.is_default());
        let err = taxonomy.parse("complaint").expect_err("dropped");
        assert!(err.to_string().contains("pricing, scholarship, other"), "{err}");
        assert!(taxonomy.parse("Not A Label").is_err());
    }

    #[test]
    fn mistakes_are_named() {
        let cases = [
            ("[[intents]]\nname = \"pricing\"", TaxonomyError::NoOther),
            (
                "[[intents]]\nname = \"other\"\n[[intents]]\nname = \"other\"",
                TaxonomyError::Duplicate(Intent::Other),
            ),
            (
                "[[intents]]\nname = \"visa\"\nexamples.es = [\"visa?\"]\nexamples.pt = [\"visto?\"]\nexamples.en = [\"visa?\"]\n[[intents]]\nname = \"other\"",
                TaxonomyError::NoDescription(Intent::label("visa").expect("label")),
            ),
            (
                "[[intents]]\nname = \"visa\"\ndescription = \"asks about student visas\"\nexamples.es = [\"necesito visa?\"]\nexamples.en = [\"do I need a visa\"]\n[[intents]]\nname = \"other\"",
                TaxonomyError::NoExamples(Intent::label("visa").expect("label"), Language::Pt),
            ),
        ];
        for (toml, want) in cases {
            assert_eq!(
                Taxonomy::from_settings(&settings(toml)).err(),
                Some(want),
                "{toml}"
            );
        }
    }
}
