//! Who may post email: basic auth (Postmark, SendGrid), a bearer token (raw MIME) and Mailgun's
//! HMAC over timestamp and token. Every comparison is constant-time.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The outcome of checking a request's credentials.
#[derive(Debug, PartialEq, Eq)]
pub enum Access {
    Granted,
    /// No credentials at all: 401, so the sender can retry with them.
    Missing,
    /// Wrong credentials: 403, which also stops Postmark's retries.
    Denied,
}

fn equal(a: &[u8], b: &[u8]) -> bool {
    bool::from(a.ct_eq(b))
}

/// Checks an `Authorization: Basic …` header against the configured user and password.
pub fn check_basic(header: Option<&str>, user: &str, password: &SecretString) -> Access {
    let Some(encoded) = header.and_then(|h| h.trim().strip_prefix("Basic ")) else {
        return Access::Missing;
    };
    let Ok(decoded) = STANDARD.decode(encoded.trim()) else {
        return Access::Denied;
    };
    let expected = format!("{user}:{}", password.expose_secret());
    if equal(&decoded, expected.as_bytes()) {
        Access::Granted
    } else {
        Access::Denied
    }
}

/// Checks an `Authorization: Bearer …` header.
pub fn check_bearer(header: Option<&str>, token: &SecretString) -> Access {
    match header.and_then(|h| h.trim().strip_prefix("Bearer ")) {
        None => Access::Missing,
        Some(given) if equal(given.trim().as_bytes(), token.expose_secret().as_bytes()) => Access::Granted,
        Some(_) => Access::Denied,
    }
}

/// Mailgun's signature: lowercase hex HMAC-SHA256(signing key, timestamp + token).
pub fn mailgun_signature(key: &[u8], timestamp: &str, token: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(timestamp.as_bytes());
    mac.update(token.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Why a Mailgun delivery is refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum MailgunRejection {
    #[error("missing timestamp, token or signature")]
    Missing,
    #[error("invalid signature")]
    BadSignature,
    #[error("stale timestamp: {0} seconds from now")]
    Stale(i64),
}

/// Checks the signature and the timestamp's age; the token's reuse is checked in the store.
pub fn verify_mailgun(
    key: &[u8],
    timestamp: Option<&str>,
    token: Option<&str>,
    signature: Option<&str>,
    now_secs: i64,
    max_age_secs: i64,
) -> Result<(), MailgunRejection> {
    let (Some(timestamp), Some(token), Some(signature)) = (timestamp, token, signature) else {
        return Err(MailgunRejection::Missing);
    };
    let Ok(expected) = hex::decode(signature.trim()) else {
        return Err(MailgunRejection::BadSignature);
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(timestamp.as_bytes());
    mac.update(token.as_bytes());
    if mac.verify_slice(&expected).is_err() {
        return Err(MailgunRejection::BadSignature);
    }
    let at: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| MailgunRejection::BadSignature)?;
    let skew = now_secs - at;
    if skew.abs() > max_age_secs {
        return Err(MailgunRejection::Stale(skew));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "e0b5477167110d68991efc6b9f89f0a11066af27834600e123";
    const SIGNATURE: &str = "0c21522907603dce041a944f1414670fff4a064f6d03b9ac00aca444d434cc50";

    #[test]
    fn mailgun_matches_the_published_vector() {
        assert_eq!(mailgun_signature(b"key-example", "1770920772", TOKEN), SIGNATURE);
        let ok = verify_mailgun(
            b"key-example",
            Some("1770920772"),
            Some(TOKEN),
            Some(SIGNATURE),
            1770920800,
            300,
        );
        assert_eq!(ok, Ok(()));
    }

    #[test]
    fn mailgun_rejects_forgeries_and_stale_timestamps() {
        let check = |key: &[u8], ts: &str, token: &str, sig: &str, now: i64| {
            verify_mailgun(key, Some(ts), Some(token), Some(sig), now, 300)
        };
        assert_eq!(
            check(b"other", "1770920772", TOKEN, SIGNATURE, 1770920772),
            Err(MailgunRejection::BadSignature)
        );
        assert_eq!(
            check(b"key-example", "1770920773", TOKEN, SIGNATURE, 1770920772),
            Err(MailgunRejection::BadSignature)
        );
        assert_eq!(
            check(b"key-example", "1770920772", TOKEN, "zz", 1770920772),
            Err(MailgunRejection::BadSignature)
        );
        assert_eq!(
            check(b"key-example", "1770920772", TOKEN, SIGNATURE, 1770920772 + 301),
            Err(MailgunRejection::Stale(301))
        );
        assert_eq!(
            check(b"key-example", "1770920772", TOKEN, SIGNATURE, 1770920772 - 400),
            Err(MailgunRejection::Stale(-400))
        );
        assert_eq!(
            verify_mailgun(b"k", None, Some(TOKEN), Some(SIGNATURE), 0, 300),
            Err(MailgunRejection::Missing)
        );
    }

    #[test]
    fn basic_and_bearer() {
        let password = SecretString::from("pässwörd");
        let header = format!("Basic {}", STANDARD.encode("postmark:pässwörd"));
        assert_eq!(check_basic(Some(&header), "postmark", &password), Access::Granted);
        let wrong = format!("Basic {}", STANDARD.encode("postmark:nope"));
        assert_eq!(check_basic(Some(&wrong), "postmark", &password), Access::Denied);
        assert_eq!(
            check_basic(Some("Basic !!"), "postmark", &password),
            Access::Denied
        );
        assert_eq!(check_basic(None, "postmark", &password), Access::Missing);
        assert_eq!(
            check_basic(Some("Bearer x"), "postmark", &password),
            Access::Missing
        );
        let token = SecretString::from("t0k");
        assert_eq!(check_bearer(Some("Bearer t0k"), &token), Access::Granted);
        assert_eq!(check_bearer(Some("Bearer t0"), &token), Access::Denied);
        assert_eq!(check_bearer(None, &token), Access::Missing);
    }
}
