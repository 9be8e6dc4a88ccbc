//! Key sets as the built binary loads and uses them (`--jwks`, `--key`): keys that are refused
//! when loaded, and the bound on the keys tried for one token.

use crate::support::{mfacheck, root};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};

const NOW: &str = "2026-01-01T00:00:00Z";

struct Run {
    results: Vec<Value>,
    code: i32,
    stderr: String,
}

fn check(args: &[&str], token: &str) -> Run {
    let out = mfacheck()
        .args(["check", "--format", "ndjson", "--now", NOW])
        .args(args)
        .write_stdin(token.to_owned())
        .output()
        .unwrap();
    Run {
        results: String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect(),
        code: out.status.code().unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

fn claims() -> Value {
    json!({"aud":"https://api.partnercenter.microsoft.com","iss":"https://sts.windows.net/0b0d8c3e-2f6a-4c51-9d7e-5a1b2c3d4e5f/",
        "tid":"0b0d8c3e-2f6a-4c51-9d7e-5a1b2c3d4e5f","ver":"1.0","scp":"user_impersonation","amr":["pwd","mfa"],
        "upn":"a@example.com","iat":1764547200,"exp":4102444800u64})
}

/// The small-order encodings of Ed25519 points: the 8 points (y and the sign of x) and the 6
/// non-canonical spellings (y = p and y = p + 1, each with both signs; x = 0 with the sign bit set).
fn small_order_encodings() -> Vec<[u8; 32]> {
    let hex = |s: &str| -> [u8; 32] {
        let bytes: Vec<u8> = (0..64).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect();
        bytes.try_into().unwrap()
    };
    let ys = [
        hex("0000000000000000000000000000000000000000000000000000000000000000"),
        hex("0100000000000000000000000000000000000000000000000000000000000000"),
        hex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"),
        hex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"),
        hex("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
        hex("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
        hex("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
    ];
    ys.iter()
        .flat_map(|y| {
            let mut negative = *y;
            negative[31] |= 0x80;
            [*y, negative]
        })
        .collect()
}

/// A token for any payload whose signature is `R = identity, S = 0`: it verifies with the
/// identity as key, whatever the payload.
fn identity_forgery(kid: Option<&str>) -> String {
    let mut header = json!({"typ":"JWT","alg":"EdDSA"});
    if let Some(kid) = kid {
        header["kid"] = json!(kid);
    }
    let mut signature = [0u8; 64];
    signature[0] = 1;
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims().to_string()),
        URL_SAFE_NO_PAD.encode(signature)
    )
}

fn okp(kid: &str, x: &[u8]) -> Value {
    json!({"kty":"OKP","crv":"Ed25519","kid":kid,"x":URL_SAFE_NO_PAD.encode(x)})
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn small_order_ed25519_keys_are_refused_in_a_jwks() {
    let dir = tempfile::tempdir().unwrap();
    let encodings = small_order_encodings();
    assert_eq!(encodings.len(), 14);
    for (i, x) in encodings.iter().enumerate() {
        let jwks = json!({"keys":[okp("small", x)]}).to_string();
        let path = write(&dir, &format!("small-{i}.json"), &jwks);
        let run = check(&["--jwks", &path], &identity_forgery(Some("small")));
        assert_eq!(run.code, 2, "encoding {i} ({x:02x?}) loads: {:?}", run.results);
        assert!(run.stderr.contains("small order"), "encoding {i}: {}", run.stderr);
    }
    // Beside a good key, the small-order one is left out: the forgery names a key the set lacks.
    let good: Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("fixtures/keys/jwks.json")).unwrap()).unwrap();
    let mut keys = good["keys"].as_array().unwrap().clone();
    keys.push(okp("small", &encodings[2]));
    let path = write(&dir, "mixed.json", &json!({ "keys": keys }).to_string());
    let run = check(&["--jwks", &path], &identity_forgery(Some("small")));
    assert_eq!(run.results[0]["signature"], "unknown-key", "{}", run.stderr);
    assert_eq!(run.code, 1);
}

#[test]
fn a_small_order_ed25519_pem_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    for (i, x) in small_order_encodings().iter().enumerate() {
        // SubjectPublicKeyInfo of an Ed25519 key (RFC 8410): the algorithm, then the 32 bytes.
        let mut der = vec![0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];
        der.extend_from_slice(x);
        let pem = format!("-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n", STANDARD.encode(&der));
        let path = write(&dir, &format!("small-{i}.pem"), &pem);
        let run = check(&["--key", &path], &identity_forgery(None));
        assert_eq!(run.code, 2, "encoding {i} ({x:02x?}) loads: {:?}", run.results);
        assert!(run.stderr.contains("small order"), "encoding {i}: {}", run.stderr);
    }
    // The genuine test key still loads and verifies.
    let run = check(
        &["--key", "fixtures/keys/test-ed25519.pub.pem"],
        &std::fs::read_to_string(root().join("fixtures/eddsa.jwt")).unwrap(),
    );
    assert_eq!(run.results[0]["signature"], "verified", "{}", run.stderr);
}

/// `n` Ed25519 public keys, made for the test, without kid.
fn other_ed25519_keys(n: usize) -> Vec<Value> {
    use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
    (0..n)
        .map(|_| {
            let pair = Ed25519KeyPair::generate().unwrap();
            json!({"kty":"OKP","crv":"Ed25519","x":URL_SAFE_NO_PAD.encode(pair.public_key().as_ref())})
        })
        .collect()
}

/// The test Ed25519 key's public JWK, without its kid.
fn the_test_ed25519_key() -> Value {
    let jwks: Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("fixtures/keys/jwks.json")).unwrap()).unwrap();
    let mut key = jwks["keys"].as_array().unwrap().iter().find(|k| k["kty"] == "OKP").unwrap().clone();
    key.as_object_mut().unwrap().remove("kid");
    key
}

/// A token signed by the test Ed25519 key whose header names no key.
fn kidless_token() -> String {
    let pem = std::fs::read(root().join("fixtures/keys/test-ed25519.pem")).unwrap();
    let signer = mfacheck::internal::sample::Signer {
        key: jsonwebtoken::EncodingKey::from_ed_pem(&pem).unwrap(),
        alg: jsonwebtoken::Algorithm::EdDSA,
    };
    let header = json!({"typ":"JWT","alg":"EdDSA"});
    mfacheck::internal::sample::encode(header.as_object().unwrap(), claims().as_object().unwrap(), Some(&signer))
        .unwrap()
}

#[test]
fn a_token_naming_no_key_is_tried_against_sixteen_keys_at_most() {
    let dir = tempfile::tempdir().unwrap();
    let token = kidless_token();
    let others = other_ed25519_keys(5999);
    // The signing key last of 16: found, each of the others tried before it.
    let mut sixteen = others[..15].to_vec();
    sixteen.push(the_test_ed25519_key());
    let path = write(&dir, "sixteen.json", &json!({ "keys": sixteen }).to_string());
    let run = check(&["--jwks", &path], &token);
    assert_eq!(run.results[0]["signature"], "verified", "{:?}", run.results[0]["findings"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // Last of 17, or of 6,000: more than the bound, so no key is tried and the finding says why.
    for n in [17, 6000] {
        let mut keys = others[..n - 1].to_vec();
        keys.push(the_test_ed25519_key());
        let path = write(&dir, &format!("{n}.json"), &json!({ "keys": keys }).to_string());
        let run = check(&["--jwks", &path], &token);
        let r = &run.results[0];
        assert_eq!(r["signature"], "unknown-key", "{n} keys: {:?}", r["findings"]);
        assert_eq!((run.code, r["compliant"].as_bool()), (1, Some(false)), "{n} keys");
        let messages = r["findings"].to_string();
        assert!(
            messages.contains(&format!("{n} keys of the set could be the one")) && messages.contains("at most 16"),
            "{n} keys: {messages}"
        );
    }
}
