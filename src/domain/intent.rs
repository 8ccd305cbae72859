//! Intent labels. Ten ship as the default taxonomy, and a few of them drive behaviour (a
//! complaint is drafted on flagship, a greeting may be templated); a workspace adds or drops
//! labels in its `[taxonomy]` (see `domain::taxonomy`).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;

/// An intent label: lowercase ASCII letters, digits and underscores, interned so it is `Copy`
/// and compares in one pointer-sized step. Whether a label belongs to the workspace's
/// taxonomy is the taxonomy's question, not this type's.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Intent(&'static str);

/// The default taxonomy, named like enum variants so rules read `Intent::Pricing`.
#[allow(non_upper_case_globals)]
impl Intent {
    pub const Pricing: Intent = Intent("pricing");
    pub const CourseInfo: Intent = Intent("course_info");
    pub const Enrollment: Intent = Intent("enrollment");
    pub const Objection: Intent = Intent("objection");
    pub const Support: Intent = Intent("support");
    pub const Complaint: Intent = Intent("complaint");
    pub const OptOut: Intent = Intent("opt_out");
    pub const HumanRequest: Intent = Intent("human_request");
    pub const Greeting: Intent = Intent("greeting");
    pub const Other: Intent = Intent("other");
}

impl Intent {
    /// The default taxonomy, in the order pages and reports list it.
    pub const DEFAULTS: [Intent; 10] = [
        Intent::Pricing,
        Intent::CourseInfo,
        Intent::Enrollment,
        Intent::Objection,
        Intent::Support,
        Intent::Complaint,
        Intent::OptOut,
        Intent::HumanRequest,
        Intent::Greeting,
        Intent::Other,
    ];

    /// The longest label accepted.
    pub const MAX_LEN: usize = 40;

    /// Checks a label's spelling and interns it.
    pub fn label(name: &str) -> Result<Intent, UnknownIntent> {
        let name = name.trim();
        if let Some(known) = Intent::DEFAULTS.iter().find(|i| i.0 == name) {
            return Ok(*known);
        }
        let well_formed = !name.is_empty()
            && name.len() <= Intent::MAX_LEN
            && name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !well_formed {
            return Err(UnknownIntent(name.to_owned()));
        }
        Ok(Intent(intern(name)))
    }

    pub fn as_str(self) -> &'static str {
        self.0
    }

    /// Whether this label is one of the shipped ten.
    pub fn is_default(self) -> bool {
        Intent::DEFAULTS.contains(&self)
    }
}

/// Labels come from the configuration, datasets and the database: a few dozen distinct
/// strings for the life of the process, so leaking each once is the cheap way to make them
/// `&'static`.
fn intern(name: &str) -> &'static str {
    static INTERNED: Mutex<Option<HashSet<&'static str>>> = Mutex::new(None);
    let mut interned = INTERNED.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let set = interned.get_or_insert_with(HashSet::new);
    if let Some(existing) = set.get(name) {
        return existing;
    }
    let leaked: &'static str = Box::leak(name.to_owned().into_boxed_str());
    set.insert(leaked);
    leaked
}

impl fmt::Debug for Intent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Intent({})", self.0)
    }
}

impl fmt::Display for Intent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl FromStr for Intent {
    type Err = UnknownIntent;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Intent::label(s)
    }
}

impl Serialize for Intent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0)
    }
}

impl<'de> Deserialize<'de> for Intent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        Intent::label(&name).map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, thiserror::Error)]
#[error(
    "{0:?} is not an intent label: use lowercase letters, digits and underscores, starting with a letter"
)]
pub struct UnknownIntent(String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for intent in Intent::DEFAULTS {
            assert_eq!(intent.as_str().parse::<Intent>().ok(), Some(intent));
            assert!(intent.is_default());
        }
        let json = serde_json::to_string(&Intent::OptOut).expect("json");
        assert_eq!(json, "\"opt_out\"");
        assert_eq!(serde_json::from_str::<Intent>(&json).ok(), Some(Intent::OptOut));
    }

    #[test]
    fn new_labels_are_interned_once() {
        let a = Intent::label("scholarship").expect("a label");
        let b: Intent = " scholarship ".parse().expect("the same label");
        assert_eq!(a, b);
        assert!(std::ptr::eq(a.as_str(), b.as_str()));
        assert!(!a.is_default());
    }

    #[test]
    fn malformed_labels_are_refused() {
        for bad in ["", "Pricing", "precio ñ", "1st", "a-b", &"x".repeat(41)] {
            assert!(Intent::label(bad).is_err(), "{bad:?}");
        }
    }
}
