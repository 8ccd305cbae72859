//! The default intent taxonomy.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    Pricing,
    CourseInfo,
    Enrollment,
    Objection,
    Support,
    Complaint,
    OptOut,
    HumanRequest,
    Greeting,
    Other,
}

impl Intent {
    pub const ALL: [Intent; 10] = [
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

    pub fn as_str(self) -> &'static str {
        match self {
            Intent::Pricing => "pricing",
            Intent::CourseInfo => "course_info",
            Intent::Enrollment => "enrollment",
            Intent::Objection => "objection",
            Intent::Support => "support",
            Intent::Complaint => "complaint",
            Intent::OptOut => "opt_out",
            Intent::HumanRequest => "human_request",
            Intent::Greeting => "greeting",
            Intent::Other => "other",
        }
    }

    /// Position in [`Intent::ALL`], used as a class index by the classifier.
    pub fn index(self) -> usize {
        Intent::ALL.iter().position(|i| *i == self).unwrap_or(0)
    }
}

impl fmt::Display for Intent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Intent {
    type Err = UnknownIntent;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Intent::ALL
            .into_iter()
            .find(|i| i.as_str() == s.trim())
            .ok_or_else(|| UnknownIntent(s.to_owned()))
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown intent {0:?}")]
pub struct UnknownIntent(String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for intent in Intent::ALL {
            assert_eq!(intent.as_str().parse::<Intent>().ok(), Some(intent));
            assert_eq!(Intent::ALL[intent.index()], intent);
        }
        assert!("refund".parse::<Intent>().is_err());
    }
}
