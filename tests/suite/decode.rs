//! `mfacheck decode`: header and claims, no verdict.

use crate::support::mfacheck;
use serde_json::Value;

#[test]
fn json_holds_header_and_claims_in_token_order() {
    let out = mfacheck().args(["decode", "--format", "json", "@fixtures/seed.jwt"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let results: Value = serde_json::from_slice(&out.stdout).unwrap();
    let r = &results[0];
    assert_eq!(r["source"], "fixtures/seed.jwt:1");
    assert_eq!(r["header"]["alg"], "RS256");
    assert_eq!(r["header"]["kid"], "mfacheck-test-rsa");
    assert_eq!(r["claims"]["scp"], "user_impersonation");
    let keys: Vec<&String> = r["claims"].as_object().unwrap().keys().take(3).collect();
    assert_eq!(keys, ["aud", "iss", "iat"], "claims keep the token's order");
    assert!(r.get("kind").is_none() && r.get("mfa").is_none(), "decode gives no verdict");
}

#[test]
fn ndjson_errors_and_exit_status() {
    let out = mfacheck().args(["decode", "--format", "ndjson", "@fixtures/unsigned.jwt", "not.a"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let lines: Vec<Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines[0]["header"]["alg"], "none");
    assert_eq!(lines[1]["source"], "arg:2");
    assert_eq!(lines[1]["error"]["code"], "not-a-jwt");
}

#[test]
fn text_shows_times_as_dates() {
    let expected_start = "fixtures/seed.jwt:1\nheader {\n  \"typ\": \"JWT\",\n  \"alg\": \"RS256\",\n  \"kid\": \"mfacheck-test-rsa\"\n}\nclaims {\n  \"aud\": \"https://api.partnercenter.microsoft.com\",\n  \"iss\": \"https://sts.windows.net/df845f1a-7b35-40a2-ba78-6481de91f8ae/\",\n  \"iat\": 1549088552,  // 2019-02-02T06:22:32Z\n  \"nbf\": 1549088552,  // 2019-02-02T06:22:32Z\n  \"exp\": 1549092452,  // 2019-02-02T07:27:32Z\n  \"acr\": \"1\",\n  \"amr\": [\n    \"pwd\",\n    \"mfa\"\n  ],\n";
    let out = mfacheck().args(["decode", "--color", "never", "@fixtures/seed.jwt"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with(expected_start), "{text}");
    assert!(text.ends_with("  \"ver\": \"1.0\"\n}\n"));
}

#[test]
fn decodes_algorithms_jsonwebtoken_does_not_know() {
    let out = mfacheck().args(["decode", "--format", "json", "@fixtures/es512.jwt"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let results: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(results[0]["header"]["alg"], "ES512");
}
