//! Letters and letter groups that only one of es, pt and en writes: ñ, ¿ and ¡ are Spanish;
//! ã, õ, ç, â, ê, ô and à are Portuguese; any of á, é, í, ó, ú rules English out. Cheap, and
//! when present, surer than any statistical model on a two-word message.

use crate::domain::Language;

/// What the spelling of a message says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Evidence {
    pub spanish: u32,
    pub portuguese: u32,
    /// Accented vowels both Spanish and Portuguese use, and English does not.
    pub iberian: u32,
}

impl Evidence {
    /// The one language the spelling points to, when it points to only one.
    pub fn language(self) -> Option<Language> {
        match (self.spanish > 0, self.portuguese > 0) {
            (true, false) => Some(Language::Es),
            (false, true) => Some(Language::Pt),
            _ => None,
        }
    }

    /// True when the spelling rules English out without choosing between es and pt.
    pub fn not_english(self) -> bool {
        self.spanish + self.portuguese + self.iberian > 0
    }
}

/// Reads the evidence from the raw (unfolded) message.
pub fn evidence(message: &str) -> Evidence {
    let mut found = Evidence::default();
    for c in message.chars().flat_map(char::to_lowercase) {
        match c {
            'ñ' | '¿' | '¡' => found.spanish += 1,
            'ã' | 'õ' | 'ç' | 'â' | 'ê' | 'ô' | 'à' => found.portuguese += 1,
            'á' | 'é' | 'í' | 'ó' | 'ú' => found.iberian += 1,
            _ => {}
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use Language::*;

    #[test]
    fn tell_tale_letters() {
        let cases = [
            ("¿cuánto?", Some(Es)),
            ("mañana", Some(Es)),
            ("não", Some(Pt)),
            ("informação", Some(Pt)),
            ("você", Some(Pt)),
            ("how much", None),
            ("información", None),
            // Mixed signals choose nothing.
            ("¿você?", None),
        ];
        for (text, want) in cases {
            assert_eq!(evidence(text).language(), want, "{text}");
        }
    }

    #[test]
    fn accents_rule_english_out() {
        assert!(evidence("información").not_english());
        assert!(evidence("ÉL").not_english());
        assert!(!evidence("information").not_english());
    }
}
