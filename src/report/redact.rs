//! `--redact`: personal data masked at the output boundary, so a report can go into a support
//! ticket. Each masked value becomes `redacted:` and the first 8 hex digits of its SHA-256: stable,
//! so two results of the same user still match, but not the value itself.

use crate::judge::Outcome;
use crate::token::Decoded;
use serde_json::{Map, Value};
use std::borrow::Cow;

/// The claims that identify a person (or their machine), masked wherever they appear.
pub const PERSONAL_CLAIMS: [&str; 10] =
    ["upn", "unique_name", "preferred_username", "email", "name", "given_name", "family_name", "ipaddr", "oid", "sub"];

/// `redacted:` and 8 hex digits of the SHA-256 of a string's text (other values: their JSON).
pub fn digest(value: &Value) -> String {
    let sha256 = |bytes: &[u8]| aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes);
    let hash = match value {
        Value::String(text) => sha256(text.as_bytes()),
        other => sha256(other.to_string().as_bytes()),
    };
    let hex: String = hash.as_ref().iter().take(4).map(|b| format!("{b:02x}")).collect();
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

/// Query and form parameters (and JSON members) whose values are credentials.
pub const SECRET_PARAMETERS: [&str; 7] =
    ["refresh_token", "client_secret", "code", "password", "assertion", "access_token", "id_token"];

/// `text` (an URL, a form body, JSON) with the value of every [`SECRET_PARAMETERS`] member masked
/// as `***`: `?code=abc&state=1` becomes `?code=***&state=1`, `"password":"x"` `"password":"***"`.
pub fn secret_parameters(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let mut out = String::new();
    let mut done = 0;
    let mut i = 0;
    while i < bytes.len() {
        let boundary =
            i == 0 || matches!(bytes[i - 1], b'?' | b'&' | b'#' | b';' | b'"' | b' ' | b'\n' | b'\t' | b'{' | b',');
        let name = boundary.then(|| SECRET_PARAMETERS.iter().find(|n| bytes[i..].starts_with(n.as_bytes()))).flatten();
        let Some(name) = name else {
            i += 1;
            continue;
        };
        let mut at = i + name.len();
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
        assert!(a.starts_with("redacted:") && a.len() == "redacted:".len() + 8, "{a}");
        // SHA-256("abc") starts ba7816bf.
        assert_eq!(digest(&json!("abc")), "redacted:ba7816bf");
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
