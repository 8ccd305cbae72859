//! How long a provider asks us to wait: `retry-after-ms` (OpenAI), or `Retry-After` as seconds
//! or as an HTTP date (RFC 9110 §10.2.3).

use reqwest::header::HeaderMap;
use std::time::{Duration, SystemTime};

/// The wait a 429 or 503 asks for, measured from `now`. A date in the past means "now".
pub fn parse_retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    if let Some(ms) = text("retry-after-ms").and_then(|v| v.parse::<f64>().ok())
        && ms.is_finite()
        && ms >= 0.0
    {
        return Some(Duration::from_secs_f64(ms / 1000.0));
    }
    let value = text("retry-after")?;
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn reads_seconds_dates_and_milliseconds() {
        // 2015-10-21 07:28:00 UTC.
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480);
        type Case = (&'static [(&'static str, &'static str)], Option<Duration>);
        let cases: &[Case] = &[
            (&[("retry-after", "30")], Some(Duration::from_secs(30))),
            (
                &[("retry-after", "Wed, 21 Oct 2015 07:28:45 GMT")],
                Some(Duration::from_secs(45)),
            ),
            // The obsolete RFC 850 form is still a valid HTTP date.
            (
                &[("retry-after", "Wednesday, 21-Oct-15 07:29:00 GMT")],
                Some(Duration::from_secs(60)),
            ),
            (
                &[("retry-after", "Wed, 21 Oct 2015 07:00:00 GMT")],
                Some(Duration::ZERO),
            ),
            (&[("retry-after-ms", "1500")], Some(Duration::from_millis(1500))),
            (
                &[("retry-after-ms", "250"), ("retry-after", "9")],
                Some(Duration::from_millis(250)),
            ),
            (&[("retry-after", "soon")], None),
            (&[], None),
        ];
        for (pairs, want) in cases {
            assert_eq!(parse_retry_after(&headers(pairs), now), *want, "{pairs:?}");
        }
    }
}
