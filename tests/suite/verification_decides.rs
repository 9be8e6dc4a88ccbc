//! SPEC §2 "Verification decides, when it is asked for", as an attacker tries it
//! on the built binary: with `--jwks`, `--key` or `--verify`, only `signature: verified` can be
//! compliant, and a Graph token's header `nonce` excuses nothing for any other audience.

use crate::support::{codes, mfacheck, root};
use assert_cmd::Command;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mfacheck::internal::sample::{Signer, encode, encode_raw};
use serde_json::{Map, Value, json};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;

const JWKS: &str = "fixtures/keys/jwks.json";
const NOW: &str = "2026-01-01T00:10:00Z";
const PC: &str = "https://api.partnercenter.microsoft.com";
const GRAPH: &str = "https://graph.microsoft.com";
const GRAPH_ID: &str = "00000003-0000-0000-c000-000000000000";
const TID: &str = "df845f1a-7b35-40a2-ba78-6481de91f8ae";

/// An app+user token with MFA, valid at `NOW`, for `aud`.
fn claims(aud: Value) -> Map<String, Value> {
    json!({
        "aud": aud, "iss": format!("https://sts.windows.net/{TID}/"), "tid": TID, "ver": "1.0",
        "appid": "23ec45a3-5127-4185-9eff-c8887839e6ab", "scp": "user_impersonation", "upn": "a@contoso.com",
        "amr": ["pwd", "mfa"], "iat": 1_767_225_600, "nbf": 1_767_225_600, "exp": 1_767_229_200
    })
    .as_object()
    .unwrap()
    .clone()
}

/// 256 bytes that no key signed (a fixed pattern, so runs are reproducible).
fn random_signature() -> String {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let bytes: Vec<u8> = (0..256)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The forgery that once passed: a random signature, a header `nonce` and an `aud` array holding
/// Partner Center's URI and Graph's. `header` without `kid` when `kid` is false.
fn forged(aud: Value, kid: bool) -> String {
    let mut head = json!({"typ": "JWT", "alg": "RS256", "nonce": "x"});
    if kid {
        head["kid"] = json!("mfacheck-test-rsa");
    }
    let payload = serde_json::to_vec(&claims(aud)).unwrap();
    encode_raw(head.to_string().as_bytes(), &payload, &random_signature())
}

fn forged_multi_aud() -> String {
    forged(json!([PC, GRAPH]), true)
}

/// A token for `aud` signed by the test RSA key over a header with one nonce, then given another
/// (as Graph's tokens are: Graph signs a hash of the nonce), so no key verifies it as it stands.
fn graph_nonce_token(aud: Value) -> String {
    let signer = Signer::from_pem(&std::fs::read(root().join("fixtures/keys/test-rsa.pem")).unwrap()).unwrap();
    let head = json!({"typ": "JWT", "alg": "RS256", "kid": "mfacheck-test-rsa", "nonce": "hashed"});
    let signed = encode(head.as_object().unwrap(), &claims(aud), Some(&signer)).unwrap();
    let (_, rest) = signed.split_once('.').unwrap();
    let head = json!({"typ": "JWT", "alg": "RS256", "kid": "mfacheck-test-rsa", "nonce": "original"});
    format!("{}.{rest}", URL_SAFE_NO_PAD.encode(head.to_string()))
}

/// fixtures/mfa.jwt: signed by the test RSA key, MFA satisfied.
fn mfa_fixture() -> String {
    std::fs::read_to_string(root().join("fixtures/mfa.jwt")).unwrap().trim().to_owned()
}

/// `check --format ndjson --now NOW ARGS TOKEN`: the one result and the exit code.
fn check(cmd: &mut Command, args: &[&str], token: &str) -> (Value, i32) {
    let out = cmd.args(["check", "--format", "ndjson", "--now", NOW]).args(args).arg(token).output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let result = serde_json::from_str(stdout.lines().next().unwrap_or("null")).unwrap();
    (result, out.status.code().unwrap())
}

/// Not compliant, exit 1, with `finding` at level error, and a signature other than verified.
fn refused(result: &Value, code: i32, finding: &str, what: &str) {
    assert_eq!((code, &result["compliant"]), (1, &json!(false)), "{what}: {result}");
    assert_ne!(result["signature"], "verified", "{what}");
    let found = result["findings"].as_array().unwrap().iter().find(|f| f["code"] == finding);
    assert_eq!(found.map(|f| &f["level"]), Some(&json!("error")), "{what}: {:?}", codes(result));
}

const STRICT: [&str; 3] = ["--audience", PC, "--require-valid-time"];

#[test]
fn the_forged_multi_audience_nonce_token_fails_under_jwks() {
    let (result, code) = check(&mut mfacheck(), &[&["--jwks", JWKS][..], &STRICT].concat(), &forged_multi_aud());
    refused(&result, code, "bad-signature", "--jwks");
    assert_eq!(result["signature"], "invalid");
    // Not for Graph alone: the nonce is named as no excuse.
    let message = result["findings"].as_array().unwrap().iter().find(|f| f["code"] == "bad-signature").unwrap();
    assert!(message["message"].as_str().unwrap().contains("not for Microsoft Graph alone"), "{message}");
}

#[test]
fn the_forged_token_fails_under_key_files_whatever_their_type() {
    for key in ["fixtures/keys/test-rsa.pub.pem", "fixtures/keys/test-ec.pub.pem", "fixtures/keys/test-ec.jwk.json"] {
        let (result, code) = check(&mut mfacheck(), &[&["--key", key][..], &STRICT].concat(), &forged_multi_aud());
        let finding = if result["signature"] == "unknown-key" { "unknown-key" } else { "bad-signature" };
        refused(&result, code, finding, key);
    }
}

#[test]
fn the_forged_token_without_a_kid_fails() {
    let token = forged(json!([PC, GRAPH]), false);
    let (result, code) = check(&mut mfacheck(), &[&["--jwks", JWKS][..], &STRICT].concat(), &token);
    refused(&result, code, "bad-signature", "no kid");
}

#[test]
fn a_nonce_excuses_nothing_unless_every_audience_is_graph() {
    // Graph and something else, in either order and spelling; a non-string element; an empty array.
    let auds = [
        json!([GRAPH, PC]),
        json!([GRAPH_ID, "api://mine"]),
        json!([GRAPH, 5]),
        json!([GRAPH, null]),
        json!([]),
        json!(PC),
        json!({"aud": GRAPH}),
    ];
    for aud in auds {
        let (result, code) = check(&mut mfacheck(), &["--jwks", JWKS], &graph_nonce_token(aud.clone()));
        refused(&result, code, "bad-signature", &aud.to_string());
        assert_eq!(result["signature"], "invalid", "{aud}");
    }
}

#[test]
fn a_graph_token_is_not_checked_and_still_fails_under_requested_verification() {
    for aud in [json!(GRAPH), json!(GRAPH_ID), json!([GRAPH]), json!([GRAPH, GRAPH_ID, "https://graph.microsoft.com/"])]
    {
        let (result, code) = check(&mut mfacheck(), &["--jwks", JWKS], &graph_nonce_token(aud.clone()));
        refused(&result, code, "graph-token-unverifiable", &aud.to_string());
        assert_eq!(result["signature"], "not-checked", "{aud}");
    }
    // Without keys nothing was asked: the MFA rule alone decides, as before.
    let (result, code) = check(&mut mfacheck(), &[], &graph_nonce_token(json!(GRAPH)));
    assert_eq!((code, &result["compliant"], &result["signature"]), (0, &json!(true), &json!("not-checked")));
}

#[test]
fn decode_with_keys_fails_the_forgery_and_the_graph_token() {
    for token in [forged_multi_aud(), graph_nonce_token(json!(GRAPH))] {
        let out = mfacheck().args(["decode", "--format", "ndjson", "--jwks", JWKS, &token]).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
    }
}

#[test]
fn explain_scan_and_the_parallel_engine_judge_alike() {
    let token = forged_multi_aud();
    let (result, code) = check(&mut mfacheck(), &["--jwks", JWKS, "--explain"], &token);
    refused(&result, code, "bad-signature", "--explain");
    // scan: the token among other text.
    let out = mfacheck()
        .args(["scan", "--format", "ndjson", "--now", NOW, "--jwks", JWKS, "-"])
        .write_stdin(format!("curl -H 'Authorization: Bearer {token}' https://api.partnercenter.microsoft.com/v1\n"))
        .output()
        .unwrap();
    let result: Value = serde_json::from_str(String::from_utf8(out.stdout).unwrap().lines().next().unwrap()).unwrap();
    refused(&result, out.status.code().unwrap(), "bad-signature", "scan");
    // A batch large enough for the workers, the forgery and the Graph token among good tokens.
    let good = mfa_fixture();
    let mut lines = vec![good; 3000];
    lines[1500] = token;
    lines[2999] = graph_nonce_token(json!(GRAPH));
    let out = mfacheck()
        .args(["check", "--format", "ndjson", "-j", "2", "--jwks", JWKS, "-"])
        .write_stdin(lines.join("\n"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let results: Vec<Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let failed: Vec<usize> = (0..results.len()).filter(|&i| results[i]["compliant"] == false).collect();
    assert_eq!(failed, [1500, 2999]);
}

/// A stand-in for Microsoft's login host that serves the test JWKS at every path.
fn login_host() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let body = std::fs::read_to_string(root().join(JWKS)).unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    base
}

#[test]
fn the_forged_token_fails_under_verify() {
    let base = login_host();
    let cache = tempfile::tempdir().unwrap();
    let mut cmd = mfacheck();
    cmd.env("MFACHECK_TEST_LOGIN_BASE", &base).env("XDG_CACHE_HOME", cache.path());
    let (result, code) = check(&mut cmd, &[&["--verify"][..], &STRICT].concat(), &forged_multi_aud());
    refused(&result, code, "bad-signature", "--verify");
    // The same host's keys verify a genuine token: the refusal is the forgery's, not the set-up's.
    let mut cmd = mfacheck();
    cmd.env("MFACHECK_TEST_LOGIN_BASE", &base).env("XDG_CACHE_HOME", cache.path());
    let (result, code) = check(&mut cmd, &["--verify"], &mfa_fixture());
    assert_eq!((code, &result["signature"]), (0, &json!("verified")), "{result}");
}

#[cfg(feature = "serve")]
mod serve {
    use super::*;
    use crate::support::serve::{Server, Upstream, fixture};

    #[test]
    fn the_gate_refuses_the_forgery_and_never_forwards_it() {
        let upstream = Upstream::start();
        let args = ["--now", NOW, "--jwks", JWKS, "--audience", PC, "--require-valid-time", "--upstream"];
        let server = Server::start(&[&args[..], &[&upstream.url()]].concat());
        for token in [forged_multi_aud(), forged(json!([PC, GRAPH]), false), graph_nonce_token(json!(GRAPH))] {
            let response = server.get_with_token("/v1/customers", &token);
            assert_eq!(response.status(), 401, "{}", String::from_utf8_lossy(&response.body));
        }
        assert_eq!(upstream.count(), 0, "nothing forwarded");
        // A genuine token goes through: the gate is not simply closed.
        let good = graph_free_good_token();
        assert_eq!(server.get_with_token("/v1/customers", &good).status(), 200);
        assert_eq!(upstream.count(), 1);
    }

    #[test]
    fn the_page_api_judges_the_forgery_as_check_does() {
        let server = Server::start(&["--now", NOW, "--jwks", JWKS]);
        let token = forged_multi_aud();
        let post = |text: &str| {
            let body = json!({ "text": text }).to_string();
            server.request(&format!(
                "POST /_mfacheck/check HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
                 Content-Length: {}\r\n\r\n{body}",
                body.len()
            ))
        };
        let response = post(&token);
        let data: Value = serde_json::from_slice(&response.body).unwrap();
        let data = &data["results"][0];
        assert_eq!(data["result"]["compliant"], false, "{data}");
        assert!(codes(&data["result"]).contains(&"bad-signature"), "{data}");
        // A genuine token is compliant there: the page is not simply refusing.
        let good = fixture("mfa.jwt");
        let response = post(&good);
        let data: Value = serde_json::from_slice(&response.body).unwrap();
        let data = &data["results"][0];
        assert_eq!((&data["result"]["compliant"], &data["result"]["signature"]), (&json!(true), &json!("verified")));
    }

    /// A token the test RSA key signed, valid at `NOW`, for Partner Center.
    fn graph_free_good_token() -> String {
        let signer = Signer::from_pem(&std::fs::read(root().join("fixtures/keys/test-rsa.pem")).unwrap()).unwrap();
        let head = json!({"typ": "JWT", "alg": "RS256", "kid": "mfacheck-test-rsa"});
        encode(head.as_object().unwrap(), &claims(json!(PC)), Some(&signer)).unwrap()
    }
}
