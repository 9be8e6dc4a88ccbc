//! What signature verification must hold on any mutation of a signed token: a token comes out
//! `verified` only when its bytes are exactly those a test key signed, and a token is compliant
//! under requested verification only when it is `verified` — through both decoders (the fast one
//! `Checker` uses first, and `check_token`'s general one), the cached (`Keys::check`,
//! `Keys::check_token`) and uncached (`Keys::verify`, `decode`) paths, with a JWKS (keys named by
//! `kid`) and with a bare PEM (a key that stands for any `kid`). Shared by the `verify` fuzz target
//! and `tests/fuzz_regressions.rs`, which runs it over seeded mutations on every `cargo test`.
//!
//! The input: a byte that picks the signed original, a byte that picks the mutation, and the
//! mutation's material (see [`mutate`]).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mfacheck::internal::input::Item;
use mfacheck::internal::judge::{Checker, check_token};
use mfacheck::internal::sample::{Signer, encode};
use mfacheck::internal::token::claims::Claims;
use mfacheck::internal::token::fast::Decoder;
use mfacheck::internal::token::{decode_item, jws};
use mfacheck::{Keys, Policy, Signature};
use serde_json::{Map, Value, json};
use std::sync::{Arc, LazyLock};

const PC: &str = "https://api.partnercenter.microsoft.com";
const GRAPH: &str = "https://graph.microsoft.com";

/// The signed originals and the policies (each with its keys) they are checked under.
pub struct Setup {
    pub originals: Vec<String>,
    policies: Vec<(&'static str, Policy)>,
}

pub static SETUP: LazyLock<Setup> = LazyLock::new(|| {
    // Test keys (fixtures/keys/ says so), compiled in: the fuzz crate and the tests find them alike.
    let key = |name: &str| -> &'static [u8] {
        match name {
            "test-rsa.pem" => include_bytes!("../../../fixtures/keys/test-rsa.pem"),
            "test-rsa.pub.pem" => include_bytes!("../../../fixtures/keys/test-rsa.pub.pem"),
            "test-ec.pem" => include_bytes!("../../../fixtures/keys/test-ec.pem"),
            "test-ed25519.pem" => include_bytes!("../../../fixtures/keys/test-ed25519.pem"),
            _ => include_bytes!("../../../fixtures/keys/jwks.json"),
        }
    };
    let object = |value: Value| -> Map<String, Value> { value.as_object().unwrap().clone() };
    let claims = |aud: Value| {
        object(json!({"aud": aud, "iss": "https://sts.windows.net/df845f1a-7b35-40a2-ba78-6481de91f8ae/",
            "ver": "1.0", "appid": "23ec45a3-5127-4185-9eff-c8887839e6ab", "scp": "user_impersonation",
            "upn": "a@contoso.com", "amr": ["pwd", "mfa"], "iat": 1_767_225_600, "exp": 1_767_229_200}))
    };
    let (rsa, ec, ed) = (
        Signer::from_pem(key("test-rsa.pem")).unwrap(),
        Signer::from_pem(key("test-ec.pem")).unwrap(),
        Signer::from_pem(key("test-ed25519.pem")).unwrap(),
    );
    let sign = |signer: &Signer, head: Value, aud: Value| encode(&object(head), &claims(aud), Some(signer)).unwrap();
    let originals = vec![
        sign(&rsa, json!({"typ": "JWT", "alg": "RS256", "kid": "mfacheck-test-rsa"}), json!(PC)),
        // Graph's header nonce, for Graph alone and for Graph and Partner Center (a forgery that once passed).
        sign(&rsa, json!({"typ": "JWT", "alg": "RS256", "kid": "mfacheck-test-rsa", "nonce": "n"}), json!(GRAPH)),
        sign(&rsa, json!({"typ": "JWT", "alg": "RS256", "kid": "mfacheck-test-rsa", "nonce": "n"}), json!([PC, GRAPH])),
        sign(&rsa, json!({"alg": "RS256"}), json!(PC)),
        sign(&ec, json!({"typ": "JWT", "alg": "ES256", "kid": "mfacheck-test-ec"}), json!(PC)),
        sign(&ed, json!({"typ": "JWT", "alg": "EdDSA", "kid": "mfacheck-test-ed25519"}), json!([PC])),
    ];
    let with = |keys: Keys| Policy::builder().now(1_767_226_000).keys(Arc::new(keys)).build();
    let policies = vec![
        ("jwks", with(Keys::from_jwks(key("jwks.json"), "jwks.json").unwrap())),
        ("pem", with(Keys::from_key_file(key("test-rsa.pub.pem"), "test-rsa.pub.pem").unwrap())),
    ];
    Setup { originals, policies }
});

/// The token `data` describes: a signed original, mutated.
pub fn mutate(data: &[u8]) -> Option<String> {
    let originals = &SETUP.originals;
    let [pick, how, rest @ ..] = data else { return None };
    let original = &originals[usize::from(*pick) % originals.len()];
    let mut parts = original.split('.');
    let (h, p, s) = (parts.next()?, parts.next()?, parts.next()?);
    let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
    let text = |bytes: &[u8]| String::from_utf8(bytes.to_vec()).ok();
    // `rest` inserted into a segment's JSON object, before its closing brace: new members,
    // duplicates, other types (`"kid":1`, `"aud":[…]`, `"crit":[…]`, another `alg`).
    let inserted = |segment: &str| -> Option<String> {
        let mut json = URL_SAFE_NO_PAD.decode(segment).ok()?;
        json.pop();
        json.extend_from_slice(rest);
        json.push(b'}');
        Some(b64(&json))
    };
    Some(match how % 9 {
        0 => format!("{}.{p}.{s}", b64(rest)),
        1 => format!("{h}.{}.{s}", b64(rest)),
        2 => format!("{h}.{p}.{}", b64(rest)),
        3 => format!("{h}.{p}.{}", text(rest)?),
        4 => format!("{}.{p}.{s}", inserted(h)?),
        5 => format!("{h}.{}.{s}", inserted(p)?),
        // Byte edits: (position, position, byte) triples.
        6 => {
            let mut bytes = original.clone().into_bytes();
            for edit in rest.chunks_exact(3) {
                let at = usize::from(u16::from_le_bytes([edit[0], edit[1]])) % bytes.len();
                bytes[at] = edit[2];
            }
            String::from_utf8(bytes).ok()?
        }
        // Segments of different originals put together.
        7 => {
            let segment = |i: usize, n: usize| {
                let token = &originals[usize::from(rest.get(i).copied().unwrap_or(0)) % originals.len()];
                token.split('.').nth(n).unwrap_or_default().to_owned()
            };
            format!("{}.{}.{}", segment(0, 0), segment(1, 1), segment(2, 2))
        }
        _ => text(rest)?,
    })
}

/// Checks `token` on every path under every policy; panics on a violation.
pub fn check_token_everywhere(token: &str) {
    let signed = SETUP.originals.iter().any(|original| original == token);
    for (name, policy) in &SETUP.policies {
        let keys = policy.keys().expect("every policy asks for verification");
        let mut seen: Vec<(&str, Signature)> = Vec::new();
        if let Ok(decoded) = jws::decode(token) {
            let claims = Claims::of_map(&decoded.claims);
            let uncached = keys.verify(&decoded.header, token, &claims).signature;
            let cached = keys.check(&decoded.header, token, &claims).signature;
            assert_eq!(uncached, cached, "{name}: the cache changed the result");
            seen.extend([("uncached", uncached), ("cached", cached)]);
        }
        if let Some(fast) = Decoder::default().decode(token, |_, slots| keys.check_token(token, &Claims::new(slots))) {
            seen.push(("fast, cached", fast.signature));
        }
        let item = Item { source: "fuzz".into(), token: Ok(token.to_owned()) };
        if let Some(decoded) = decode_item(item, Some(keys)).signature {
            seen.push(("decode", decoded.signature));
        }
        let general = check_token("fuzz", token, policy);
        let engine = Checker::new().check("fuzz", token, policy, |o| (o.compliant, o.signature.signature));
        for (path, compliant, signature) in
            [("check_token", general.compliant, general.signature.signature), ("Checker", engine.0, engine.1)]
        {
            assert!(!compliant || signature == Signature::Verified, "{name}, {path}: compliant but {signature:?}");
            seen.push((path, signature));
        }
        for (path, signature) in seen {
            assert!(
                signed || signature != Signature::Verified,
                "{name}, {path}: verified, but these bytes were never signed: {token:?}"
            );
        }
    }
}

/// The fuzz target's whole check: the mutation `data` describes, on every path.
pub fn check(data: &[u8]) {
    if let Some(token) = mutate(data) {
        check_token_everywhere(&token);
    }
}
