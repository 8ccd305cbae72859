//! The three languages Tuesday speaks.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Es,
    Pt,
    En,
}

impl Language {
    pub const ALL: [Language; 3] = [Language::Es, Language::Pt, Language::En];

    pub fn code(self) -> &'static str {
        match self {
            Language::Es => "es",
            Language::Pt => "pt",
            Language::En => "en",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Language::Es => "Spanish",
            Language::Pt => "Portuguese",
            Language::En => "English",
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Language {
    type Err = UnknownLanguage;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "es" | "spa" | "spanish" => Ok(Language::Es),
            "pt" | "por" | "portuguese" => Ok(Language::Pt),
            "en" | "eng" | "english" => Ok(Language::En),
            _ => Err(UnknownLanguage(s.to_owned())),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown language {0:?}: expected es, pt or en")]
pub struct UnknownLanguage(String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_codes_and_names() {
        for (input, want) in [
            ("es", Language::Es),
            ("PT", Language::Pt),
            (" english ", Language::En),
        ] {
            assert_eq!(input.parse::<Language>().ok(), Some(want), "{input}");
        }
        assert!("fr".parse::<Language>().is_err());
    }
}
