//! `--redact`: personal data masked at the output boundary, so a report can go into a support
//! ticket. Each masked value becomes `redacted:` and the first 8 hex digits of its SHA-256: stable,
//! so two results of the same user still match, but not the value itself.

use crate::judge::Outcome;
use crate::token::Decoded;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::borrow::Cow;

/// The claims that identify a person (or their machine), masked wherever they appear.
pub const PERSONAL_CLAIMS: [&str; 10] =
    ["upn", "unique_name", "preferred_username", "email", "name", "given_name", "family_name", "ipaddr", "oid", "sub"];

/// `redacted:` and 8 hex digits of the SHA-256 of a string's text (other values: their JSON).
pub fn digest(value: &Value) -> String {
    let hash = match value {
        Value::String(text) => Sha256::digest(text.as_bytes()),
        other => Sha256::digest(other.to_string().as_bytes()),
    };
    let hex: String = hash.iter().take(4).map(|b| format!("{b:02x}")).collect();
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
