//! `--redact`: personal data masked at the output boundary, so a report can go into a support
//! ticket. Each masked value becomes `redacted:` and 12 hex digits of its HMAC-SHA256 under a key
//! drawn for this run: equal values mask alike within a run (rows can still be matched), but a
//! mask can't be reversed by hashing guesses (a known address, every IP of a /16), and two runs'
//! masks don't match.

use crate::judge::Outcome;
use crate::token::Decoded;
use aws_lc_rs::hmac;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::sync::OnceLock;

/// The claims that identify a person (or their machine), masked wherever they appear: the one
/// list (SPEC §3).
pub const PERSONAL_CLAIMS: [&str; 18] = [
    "upn",
    "unique_name",
    "preferred_username",
    "email",
    "verified_primary_email",
    "verified_secondary_email",
    "name",
    "given_name",
    "family_name",
    "oid",
    "sub",
    "home_oid",
    "puid",
    "altsecid",
    "onprem_sid",
    "login_hint",
    "ipaddr",
    "deviceid",
];

/// The run's key, drawn from the OS on first use.
fn key() -> &'static hmac::Key {
    static KEY: OnceLock<hmac::Key> = OnceLock::new();
    KEY.get_or_init(|| {
        hmac::Key::generate(hmac::HMAC_SHA256, &aws_lc_rs::rand::SystemRandom::new())
            .expect("the OS random number generator works")
    })
}

/// `redacted:` and 12 hex digits of the keyed hash of a string's text (other values: their JSON).
pub fn digest(value: &Value) -> String {
    let tag = match value {
        Value::String(text) => hmac::sign(key(), text.as_bytes()),
        other => hmac::sign(key(), other.to_string().as_bytes()),
    };
    let hex: String = tag.as_ref().iter().take(6).map(|b| format!("{b:02x}")).collect();
    format!("redacted:{hex}")
}

fn mask(text: &str) -> String {
    digest(&Value::String(text.to_owned()))
}

/// Masks the personal claims of a header or claims object.
pub fn claims(map: &mut Map<String, Value>) {
    for name in PERSONAL_CLAIMS {
        if let Some(value) = map.get_mut(name) {
            *value = Value::String(digest(value));
        }
    }
}

/// Query and form parameters (and JSON members) whose values are credentials, matched without
/// regard to case or percent-encoding (`Client_Secret`, `%63ode`).
pub const SECRET_PARAMETERS: [&str; 11] = [
    "refresh_token",
    "client_secret",
    "code",
    "password",
    "assertion",
    "access_token",
    "id_token",
    "sig",
    "api_key",
    "token",
    "client_assertion",
];

/// Longer names are no secret parameter's spelling (the longest, percent-encoded throughout).
const MAX_NAME: usize = 3 * "client_assertion".len();

/// Whether `raw` (a parameter name as written) is one of [`SECRET_PARAMETERS`].
fn is_secret(raw: &[u8]) -> bool {
    if raw.is_empty() || raw.len() > MAX_NAME {
        return false;
    }
    let mut name = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let decoded = (raw[i] == b'%')
            .then(|| raw.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match decoded {
            Some(byte) => {
                name.push(byte.to_ascii_lowercase());
                i += 3;
            }
            None => {
                name.push(raw[i].to_ascii_lowercase());
                i += 1;
            }
        }
    }
    SECRET_PARAMETERS.iter().any(|secret| secret.as_bytes() == name)
}

/// What ends a parameter (or JSON member) and may begin the next.
fn separator(b: u8) -> bool {
    matches!(b, b'?' | b'&' | b'#' | b';' | b' ' | b'\n' | b'\t' | b'{' | b',')
}

/// `text` (an URL, a form body, JSON) with the value of every [`SECRET_PARAMETERS`] member masked
/// as `***`: `?code=abc&state=1` becomes `?code=***&state=1`, `"password":"x"` `"password":"***"`.
pub fn secret_parameters(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let mut out = String::new();
    let mut done = 0;
    let mut i = 0;
    while i < bytes.len() {
        let boundary = i == 0 || bytes[i - 1] == b'"' || separator(bytes[i - 1]);
        // The name runs to `=` (a parameter) or `"` (a JSON member).
        let name_len = boundary
            .then(|| bytes[i..].iter().take(MAX_NAME + 1).position(|&b| matches!(b, b'=' | b'"') || separator(b)))
            .flatten();
        let Some(name_len) = name_len.filter(|&n| is_secret(&bytes[i..i + n])) else {
            i += 1;
            continue;
        };
        let mut at = i + name_len;
        // `name=value`, or JSON's `name": "value"`.
        let json = bytes.get(at) == Some(&b'"');
        if json {
            at += 1;
            while matches!(bytes.get(at), Some(b' ' | b':')) {
                at += 1;
            }
            if bytes.get(at) != Some(&b'"') {
                i += 1;
                continue;
            }
            at += 1;
        } else if bytes.get(at) == Some(&b'=') {
            at += 1;
        } else {
            i += 1;
            continue;
        }
        let end = if json {
            let mut end = at;
            while end < bytes.len() && bytes[end] != b'"' {
                end += if bytes[end] == b'\\' { 2 } else { 1 };
            }
            end.min(bytes.len())
        } else {
            at + bytes[at..]
                .iter()
                .take_while(|b| !matches!(b, b'&' | b'#' | b';' | b'"' | b' ' | b'\n' | b'\r' | b'\t'))
                .count()
        };
        if end > at {
            out.push_str(&text[done..at]);
            out.push_str("***");
            done = end;
        }
        i = end.max(i + 1);
    }
    if done == 0 {
        return Cow::Borrowed(text);
    }
    out.push_str(&text[done..]);
    Cow::Owned(out)
}

/// A copy of a check result with its personal values masked.
pub fn outcome<'a>(outcome: &Outcome<'a>) -> Outcome<'a> {
    let mut copy = outcome.clone();
    if let Some(token) = &mut copy.token {
        token.user = token.user.as_deref().map(|user| Cow::Owned(mask(user)));
        token.oid = token.oid.as_deref().map(|oid| Cow::Owned(mask(oid)));
    }
    copy
}

/// A copy of a decode result with its personal claims masked.
pub fn decoded(decoded: &Decoded) -> Decoded {
    let mut copy = decoded.clone();
    copy.header.iter_mut().chain(copy.claims.iter_mut()).for_each(claims);
    copy
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn digests_are_short_stable_and_not_the_value() {
        let a = digest(&json!("Isaiah.Williams@testtestpartner.onmicrosoft.com"));
        assert_eq!(a, digest(&json!("Isaiah.Williams@testtestpartner.onmicrosoft.com")));
        assert_ne!(a, digest(&json!("someone.else@testtestpartner.onmicrosoft.com")));
        assert!(a.starts_with("redacted:") && a.len() == "redacted:".len() + 12, "{a}");
        // Keyed: not SHA-256("abc"), which starts ba7816bf.
        assert!(!digest(&json!("abc")).contains("ba7816bf"));
    }

    #[test]
    fn secret_parameters_are_matched_in_any_case_or_percent_encoding() {
        assert_eq!(
            secret_parameters("?Client_Secret=a&CODE=b&%63ode=c&sig=d&api_key=e&token=f&client_assertion=g&x=1"),
            "?Client_Secret=***&CODE=***&%63ode=***&sig=***&api_key=***&token=***&client_assertion=***&x=1"
        );
        assert_eq!(
            secret_parameters(r#"{"Refresh_Token":"r","cl%69ent_secret":"s"}"#),
            r#"{"Refresh_Token":"***","cl%69ent_secret":"***"}"#
        );
        // Near names are not secret ones; a bad escape is not a letter.
        assert_eq!(secret_parameters("?tokens=1&signature=2&%6=3&co%64=4"), "?tokens=1&signature=2&%6=3&co%64=4");
    }

    #[test]
    fn secret_parameters_are_masked_in_urls_forms_and_json() {
        let url = "https://l/t?refresh_token=R1&state=keep&client_secret=C%2F1#code=X;password=P";
        assert_eq!(
            secret_parameters(url),
            "https://l/t?refresh_token=***&state=keep&client_secret=***#code=***;password=***"
        );
        assert_eq!(
            secret_parameters("grant_type=refresh_token&assertion=A.B"),
            "grant_type=refresh_token&assertion=***"
        );
        assert_eq!(secret_parameters(r#"{"id_token": "a\"b","x":1}"#), r#"{"id_token": "***","x":1}"#);
        assert_eq!(secret_parameters("?barcode=1&access_tokens=2"), "?barcode=1&access_tokens=2");
        assert!(matches!(secret_parameters("https://api/x?y=1"), Cow::Borrowed(_)));
    }

    #[test]
    fn only_personal_claims_are_masked() {
        let mut map = json!({"upn":"u@x","oid":"o","sub":"s","ipaddr":"10.1.2.3","amr":["mfa"],"tid":"t","name":"N"})
            .as_object()
            .unwrap()
            .clone();
        claims(&mut map);
        for name in ["upn", "oid", "sub", "ipaddr", "name"] {
            assert!(map[name].as_str().unwrap().starts_with("redacted:"), "{name}");
        }
        assert_eq!((map["amr"].clone(), map["tid"].clone()), (json!(["mfa"]), json!("t")));
    }
}
