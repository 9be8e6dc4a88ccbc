//! Hardening properties (proptest): arbitrary bytes and mutated real tokens never panic, a user
//! token without the exact element "mfa" is never compliant, and a signature is verified only for
//! the exact text that was signed. Case counts keep the suite to a few seconds.

use crate::support::root;
use assert_cmd::Command;
use mfacheck::Kind;
use mfacheck::Outcome;
use mfacheck::check_token;
use mfacheck::internal::input::{self, Item};
use mfacheck::internal::judge::check_item;
use mfacheck::internal::token::decode_item;
use mfacheck::{Keys, Signature};
use mfacheck::{Mfa, Policy};
use proptest::prelude::*;
use proptest::sample::{Index, select};
use serde_json::{Map, Value, json};
use std::sync::{Arc, OnceLock};

const URL_SAFE: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";

fn keys() -> Arc<Keys> {
    static KEYS: OnceLock<Arc<Keys>> = OnceLock::new();
    KEYS.get_or_init(|| {
        let jwks = std::fs::read(root().join("fixtures/keys/jwks.json")).unwrap();
        Arc::new(Keys::from_jwks(&jwks, "jwks.json").unwrap())
    })
    .clone()
}

/// A policy as strict as the CLI allows: valid time, issuer and audience expected, keys given.
fn strict() -> Policy {
    Policy::builder().now(1_800_000_000).require_valid_time(true).keys(keys()).build()
}

/// Every real token in the fixtures (verdict fixtures and forgeries), with its file name.
fn fixture_tokens() -> &'static [(String, String)] {
    static TOKENS: OnceLock<Vec<(String, String)>> = OnceLock::new();
    TOKENS.get_or_init(|| {
        let mut tokens = Vec::new();
        for dir in ["fixtures", "fixtures/attack"] {
            for entry in std::fs::read_dir(root().join(dir)).unwrap() {
                let path = entry.unwrap().path();
                if path.extension().is_some_and(|e| e == "jwt") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    tokens.push((path.display().to_string(), text.trim().to_owned()));
                }
            }
        }
        tokens.sort();
        assert!(tokens.len() > 25);
        tokens
    })
}

/// The invariant that matters most: an app+user token is compliant only with the exact element
/// "mfa" in an `amr` array of strings.
fn assert_mfa_rule(o: &Outcome) {
    if o.kind == Some(Kind::AppUser) && o.compliant {
        // Read back from the JSON, independently of the result type.
        let amr = serde_json::to_value(&o.amr).unwrap();
        let exact =
            amr.as_array().is_some_and(|items| items.iter().all(Value::is_string) && items.contains(&json!("mfa")));
        assert!(exact, "{}: compliant app+user token with amr {:?}", o.source, o.amr);
    }
    if o.error.is_some() {
        assert!(!o.compliant && o.kind.is_none() && o.mfa.is_none());
    }
}

/// Applies (operation, position, byte) edits: 0 replaces, 1 inserts, 2 deletes.
fn mutate(token: &str, edits: &[(u8, Index, u8)]) -> String {
    let mut bytes = token.as_bytes().to_vec();
    for (op, at, byte) in edits {
        let len = bytes.len();
        match op {
            0 if len > 0 => bytes[at.index(len)] = *byte,
            1 => bytes.insert(at.index(len + 1), *byte),
            _ if len > 0 => {
                bytes.remove(at.index(len));
            }
            _ => {}
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn edit() -> impl Strategy<Value = (u8, Index, u8)> {
    (0u8..3, any::<Index>(), prop_oneof![4 => select(URL_SAFE), 1 => any::<u8>()])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let policy = strict();
        let mut results = 0;
        input::read_stream(&bytes[..], "prop", &mut |item: Item| {
            results += 1;
            let outcome = check_item(item.clone(), &policy);
            assert_mfa_rule(&outcome);
            assert_ne!(outcome.signature.signature, Signature::Verified);
            let _ = decode_item(item, Some(&keys()));
            Ok(())
        })
        .unwrap();
        prop_assert!(results >= 1, "every stream yields at least one result");
    }

    #[test]
    fn arbitrary_text_never_panics(text in ".{0,400}") {
        let outcome = check_token("prop", &text, &strict());
        assert_mfa_rule(&outcome);
    }

    #[test]
    fn three_arbitrary_segments_never_panic(a in "[A-Za-z0-9_=+/-]{0,60}", b in "[A-Za-z0-9_-]{0,200}", c in "[A-Za-z0-9_-]{0,40}") {
        let outcome = check_token("prop", &format!("{a}.{b}.{c}"), &strict());
        assert_mfa_rule(&outcome);
    }

    #[test]
    fn token_shaped_text_never_panics(text in "[A-Za-z0-9_.=+/ -]{0,300}") {
        let outcome = check_token("prop", &text, &strict());
        assert_mfa_rule(&outcome);
        assert_ne!(outcome.signature.signature, Signature::Verified);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn mutated_fixture_tokens(which in any::<Index>(), edits in prop::collection::vec(edit(), 1..4)) {
        let (file, original) = &fixture_tokens()[which.index(fixture_tokens().len())];
        let mutated = mutate(original, &edits);
        let policy = strict();
        let outcome = check_token(file, &mutated, &policy);
        assert_mfa_rule(&outcome);
        if outcome.signature.signature == Signature::Verified {
            // Only the signature segment may differ (in bits base64url does not carry): the signed
            // text is the original's, and the original verifies.
            let signed = |t: &str| t.rsplit_once('.').map(|(head, _)| head.to_owned());
            prop_assert_eq!(signed(&mutated), signed(original), "{}", file);
            let before = check_token(file, original, &policy);
            prop_assert_eq!(before.signature.signature, Signature::Verified);
            prop_assert_eq!(before.amr, outcome.amr);
        }
    }

    #[test]
    fn a_user_token_without_the_exact_mfa_element_is_never_compliant(
        amr in amr_without_mfa(),
        user in user_marker(),
        extra in prop::collection::btree_map("[a-z_]{1,8}", any_json(), 0..5),
        alg in select(vec!["RS256", "none", "ES256", "HS256", "PS256"]),
    ) {
        let mut claims: Map<String, Value> = extra.into_iter().collect();
        claims.insert("aud".into(), json!("https://api.partnercenter.microsoft.com"));
        claims.insert("exp".into(), json!(4_102_444_800i64));
        claims.insert(user.0.into(), user.1);
        match amr {
            Some(amr) => claims.insert("amr".into(), amr),
            None => claims.shift_remove("amr"),
        };
        let header = json!({"typ": "JWT", "alg": alg}).as_object().unwrap().clone();
        let token = mfacheck::internal::sample::encode(&header, &claims, None).unwrap();
        for policy in [Policy::builder().now(1_800_000_000).build(), strict()] {
            let outcome = check_token("prop", &token, &policy);
            // A claim from `extra` may say idtyp "app", which decides app-only before anything else.
            if outcome.kind == Some(Kind::AppUser) {
                prop_assert!(!outcome.compliant, "{:?}", outcome);
                prop_assert_eq!(outcome.mfa, Some(Mfa::Missing));
                prop_assert!(outcome.response.is_some());
            }
        }
    }
}

/// `amr` values that must not satisfy the rule: absent, arrays of near misses, other types, and
/// "mfa" nested or mixed with non-strings.
fn amr_without_mfa() -> impl Strategy<Value = Option<Value>> {
    let near = select(vec![
        "pwd",
        "MFA",
        "Mfa",
        "nomfa",
        "mfa ",
        " mfa",
        "mfa\u{0}",
        "ｍｆａ",
        "rsa",
        "ngcmfa",
        "fed",
        "otp",
        "wiaormfa",
    ]);
    let word = prop_oneof![near.prop_map(String::from), "[a-zA-Z ]{0,6}".prop_filter("not mfa", |s| s != "mfa")];
    prop_oneof![
        Just(None),
        prop::collection::vec(word, 0..5).prop_map(|v| Some(json!(v))),
        Just(Some(json!("mfa"))),
        Just(Some(json!([["mfa"]]))),
        Just(Some(json!(["mfa", 1]))),
        Just(Some(json!({"mfa": true}))),
        Just(Some(json!(null))),
        any::<i64>().prop_map(|n| Some(json!(n))),
    ]
}

/// A claim that makes a token app+user by one of the rules.
fn user_marker() -> impl Strategy<Value = (&'static str, Value)> {
    prop_oneof![
        Just(("idtyp", json!("user"))),
        Just(("scp", json!("user_impersonation"))),
        Just(("upn", json!("someone@partner.example"))),
        Just(("preferred_username", json!("someone@partner.example"))),
        Just(("name", json!("Someone"))),
    ]
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        "[a-z]{0,6}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 12, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-z]{1,4}", inner, 0..4).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    // Each case starts the binary: few cases. With --jwks, random input never carries a valid
    // signature, so the exit status is 1 or 2 (a panic would be 101).
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn the_binary_never_passes_nor_panics_on_any_stdin(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        for format in ["text", "ndjson"] {
            let out = Command::cargo_bin("mfacheck")
                .unwrap()
                .args(["check", "--format", format, "--jwks", "fixtures/keys/jwks.json", "--redact"])
                .current_dir(root())
                .write_stdin(bytes.clone())
                .output()
                .unwrap();
            let code = out.status.code();
            prop_assert!(matches!(code, Some(1 | 2)), "exit {:?}: {}", code, String::from_utf8_lossy(&out.stderr));
        }
    }
}
