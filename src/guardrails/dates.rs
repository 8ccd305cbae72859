//! Calendar dates as es, pt and en drafts write them: "18 de enero de 2027", "18 de janeiro",
//! "January 18th, 2027", "18/01", "1/18/2027", "2027-01-18". Works on folded text.

use regex::Regex;
use std::sync::LazyLock;

#[derive(Debug, Clone, PartialEq)]
pub struct FoundDate {
    /// Every (month, day) the text can mean: "04/05" is 4 May in Madrid and April 5 in Miami.
    pub readings: Vec<(u32, u32)>,
    pub year: Option<i32>,
    /// Byte range in the folded text.
    pub span: (usize, usize),
}

const MONTHS: &[(&str, u32)] = &[
    ("enero", 1),
    ("janeiro", 1),
    ("january", 1),
    ("ene", 1),
    ("jan", 1),
    ("febrero", 2),
    ("fevereiro", 2),
    ("february", 2),
    ("feb", 2),
    ("fev", 2),
    ("marzo", 3),
    ("marco", 3),
    ("march", 3),
    ("mar", 3),
    ("abril", 4),
    ("april", 4),
    ("abr", 4),
    ("apr", 4),
    ("mayo", 5),
    ("maio", 5),
    ("may", 5),
    ("mai", 5),
    ("junio", 6),
    ("junho", 6),
    ("june", 6),
    ("jun", 6),
    ("julio", 7),
    ("julho", 7),
    ("july", 7),
    ("jul", 7),
    ("agosto", 8),
    ("august", 8),
    ("ago", 8),
    ("aug", 8),
    ("septiembre", 9),
    ("setiembre", 9),
    ("setembro", 9),
    ("september", 9),
    ("sept", 9),
    ("sep", 9),
    ("set", 9),
    ("octubre", 10),
    ("outubro", 10),
    ("october", 10),
    ("oct", 10),
    ("out", 10),
    ("noviembre", 11),
    ("novembro", 11),
    ("november", 11),
    ("nov", 11),
    ("diciembre", 12),
    ("dezembro", 12),
    ("december", 12),
    ("dic", 12),
    ("dez", 12),
    ("dec", 12),
];

/// The month a folded word names, full or abbreviated.
pub fn month_number(word: &str) -> Option<u32> {
    MONTHS.iter().find(|(name, _)| *name == word).map(|m| m.1)
}

fn months_alternation() -> String {
    let mut names: Vec<&str> = MONTHS.iter().map(|m| m.0).collect();
    names.sort_by_key(|n| std::cmp::Reverse(n.len()));
    names.join("|")
}

static ISO: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b").expect("the ISO date pattern is valid"));

static NUMERIC: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{4}|\d{2}))?\b")
        .expect("the numeric date pattern is valid")
});

static DAY_MONTH: LazyLock<Regex> = LazyLock::new(|| {
    let months = months_alternation();
    Regex::new(&format!(
        r"\b(\d{{1,2}})(?:º|°|st|nd|rd|th)?\s+(?:de\s+|of\s+)?({months})\b\.?(?:,?\s+(?:de\s+|del\s+)?(\d{{4}}))?"
    ))
    .expect("the day-month pattern is valid")
});

static MONTH_DAY: LazyLock<Regex> = LazyLock::new(|| {
    let months = months_alternation();
    Regex::new(&format!(
        r"\b({months})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(\d{{4}}))?"
    ))
    .expect("the month-day pattern is valid")
});

fn valid(month: u32, day: u32) -> bool {
    (1..=12).contains(&month) && (1..=31).contains(&day)
}

fn number<T: std::str::FromStr>(caps: &regex::Captures<'_>, i: usize) -> Option<T> {
    caps.get(i).and_then(|m| m.as_str().parse().ok())
}

fn year(caps: &regex::Captures<'_>, i: usize) -> Option<i32> {
    let y: i32 = number(caps, i)?;
    Some(if y < 100 { 2000 + y } else { y })
}

/// Every date in folded text, in order, without overlaps.
pub fn find_dates(folded: &str) -> Vec<FoundDate> {
    let mut found: Vec<FoundDate> = Vec::new();
    let mut push = |date: FoundDate| {
        if !date.readings.is_empty()
            && !found
                .iter()
                .any(|d| date.span.0 < d.span.1 && d.span.0 < date.span.1)
        {
            found.push(date);
        }
    };
    for caps in ISO.captures_iter(folded) {
        let (Some(whole), Some(month), Some(day)) = (caps.get(0), number(&caps, 2), number(&caps, 3)) else {
            continue;
        };
        push(FoundDate {
            readings: valid(month, day).then_some((month, day)).into_iter().collect(),
            year: year(&caps, 1),
            span: (whole.start(), whole.end()),
        });
    }
    for caps in DAY_MONTH.captures_iter(folded) {
        let (Some(whole), Some(day), Some(month)) = (
            caps.get(0),
            number(&caps, 1),
            caps.get(2).and_then(|m| month_number(m.as_str())),
        ) else {
            continue;
        };
        push(FoundDate {
            readings: valid(month, day).then_some((month, day)).into_iter().collect(),
            year: year(&caps, 3),
            span: (whole.start(), whole.end()),
        });
    }
    for caps in MONTH_DAY.captures_iter(folded) {
        let (Some(whole), Some(month), Some(day)) = (
            caps.get(0),
            caps.get(1).and_then(|m| month_number(m.as_str())),
            number(&caps, 2),
        ) else {
            continue;
        };
        push(FoundDate {
            readings: valid(month, day).then_some((month, day)).into_iter().collect(),
            year: year(&caps, 3),
            span: (whole.start(), whole.end()),
        });
    }
    for caps in NUMERIC.captures_iter(folded) {
        let (Some(whole), Some(a), Some(b)) = (caps.get(0), number::<u32>(&caps, 1), number(&caps, 2)) else {
            continue;
        };
        let mut readings = Vec::new();
        if valid(b, a) {
            readings.push((b, a));
        }
        if valid(a, b) && a != b {
            readings.push((a, b));
        }
        push(FoundDate {
            readings,
            year: year(&caps, 3),
            span: (whole.start(), whole.end()),
        });
    }
    found.sort_by_key(|d| d.span);
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::fold;

    /// Every (month, day) reading, and the year if written.
    type Reading = (Vec<(u32, u32)>, Option<i32>);

    fn dates(text: &str) -> Vec<Reading> {
        find_dates(&fold(text))
            .into_iter()
            .map(|d| (d.readings, d.year))
            .collect()
    }

    #[test]
    fn reads_dates_in_three_languages() {
        let cases: &[(&str, Vec<Reading>)] = &[
            (
                "empieza el 18 de enero de 2027",
                vec![(vec![(1, 18)], Some(2027))],
            ),
            ("começa em 18 de janeiro", vec![(vec![(1, 18)], None)]),
            ("starts on January 18th, 2027", vec![(vec![(1, 18)], Some(2027))]),
            ("starts on the 18th of January", vec![(vec![(1, 18)], None)]),
            ("inicio: 18/01/2027", vec![(vec![(1, 18)], Some(2027))]),
            ("starts 1/18/27", vec![(vec![(1, 18)], Some(2027))]),
            ("el 04/05", vec![(vec![(5, 4), (4, 5)], None)]),
            ("2027-02-01", vec![(vec![(2, 1)], Some(2027))]),
            ("el 12.05 a las 18:30", vec![(vec![(5, 12), (12, 5)], None)]),
            ("FEB 15", vec![(vec![(2, 15)], None)]),
        ];
        for (text, want) in cases {
            assert_eq!(dates(text), *want, "{text}");
        }
    }

    #[test]
    fn leaves_prices_and_times_alone() {
        for text in [
            "R$ 1.200,00",
            "99,90",
            "18:30",
            "12x de 499",
            "you may pay in 3 payments",
        ] {
            assert!(dates(text).is_empty(), "{text}: {:?}", dates(text));
        }
    }
}
