//! Signature verification, issuer/audience and time expectations, as a user runs them: the built
//! binary on the fixtures, JWKS from files, key files, and from an HTTP server on loopback.

use crate::support::{codes, mfacheck};
use predicates::prelude::*;
use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

const JWKS: &str = "fixtures/keys/jwks.json";

/// Runs `check --format ndjson` with `args`; returns the result objects and the exit code.
fn check(args: &[&str]) -> (Vec<Value>, i32) {
    let out = mfacheck().args(["check", "--format", "ndjson"]).args(args).output().unwrap();
    let results = String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    (results, out.status.code().unwrap())
}

fn manifest() -> Vec<Value> {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/manifest.json")).unwrap();
    serde_json::from_str::<Value>(&text).unwrap().as_array().unwrap().clone()
}

#[test]
fn every_fixture_gets_the_signature_the_manifest_expects() {
    let mut checked = 0;
    for row in manifest() {
        let Some(expected) = row["signature"].as_str() else { continue };
        let file = row["file"].as_str().unwrap();
        let (results, code) = check(&["--jwks", JWKS, &format!("@fixtures/{file}")]);
        assert_eq!(results.len(), 1, "{file}");
        let r = &results[0];
        assert_eq!(r["signature"], expected, "{file}: {:?}", r["findings"]);
        if expected == "verified" {
            // A verified signature changes nothing: same verdict, same exit status as without keys.
            assert_eq!(code, row["exit"].as_u64().unwrap() as i32, "{file}");
        } else {
            assert_eq!((code, r["compliant"].as_bool()), (1, Some(false)), "{file}");
            let finding = if expected == "unknown-key" { "unknown-key" } else { "bad-signature" };
            assert!(codes(r).contains(&finding), "{file}: {:?}", codes(r));
            assert!(r["response"].is_null(), "{file}: the 401 stays the MFA response only");
        }
        checked += 1;
    }
    assert!(checked >= 30, "only {checked} fixtures carry a signature expectation");
}

#[test]
fn without_keys_the_signature_is_not_checked_and_forgeries_pass() {
    for file in ["mfa.jwt", "attack/tampered.jwt", "attack/hs256-confusion.jwt", "attack/other-key-other-kid.jwt"] {
        let (results, code) = check(&[&format!("@fixtures/{file}")]);
        assert_eq!((results[0]["signature"].as_str(), code), (Some("not-checked"), 0), "{file}");
    }
    // Undecodable inputs carry the field too.
    let (results, code) = check(&["@fixtures/bad/random.txt"]);
    assert_eq!((results[0]["signature"].as_str(), code), (Some("not-checked"), 2));
}

#[test]
fn attack_findings_say_why() {
    let cases = [
        ("attack/tampered.jwt", "the RS256 signature does not match key \"mfacheck-test-rsa\""),
        ("attack/other-key-same-kid.jwt", "the RS256 signature does not match key \"mfacheck-test-rsa\""),
        ("attack/other-key-other-kid.jwt", "the token names kid \"mfacheck-test-other\", which none of the 3"),
        ("attack/none-with-key.jwt", "alg \"none\": an unsigned token is never accepted"),
        ("attack/hs256-confusion.jwt", "alg HS256 is an HMAC (shared-secret) algorithm"),
        ("attack/key-type-mismatch.jwt", "alg ES256 does not fit key \"mfacheck-test-rsa\", an RSA key"),
    ];
    for (file, start) in cases {
        let (results, _) = check(&["--jwks", JWKS, &format!("@fixtures/{file}")]);
        let message = results[0]["findings"][0]["message"].as_str().unwrap();
        assert!(message.starts_with(start), "{file}: {message}");
    }
}

#[test]
fn text_output_shows_the_signature_briefly() {
    mfacheck()
        .args(["check", "--color", "never", "--jwks", JWKS, "@fixtures/mfa.jwt"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("\n    signature verified (RS256, key \"mfacheck-test-rsa\")\n"));
    mfacheck()
        .args(["check", "--color", "never", "--jwks", JWKS, "@fixtures/attack/tampered.jwt"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("\n    signature invalid\n    error     bad-signature: the RS256 signature"));
    // No key, no signature line: text output is as before.
    mfacheck()
        .args(["check", "--color", "never", "@fixtures/mfa.jwt"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("signature").not());
}

#[test]
fn a_pem_public_key_stands_for_any_kid() {
    let pem = "fixtures/keys/test-rsa.pub.pem";
    let cases = [
        ("mfa.jwt", "verified", 0),
        ("attack/other-key-same-kid.jwt", "invalid", 1),
        ("attack/other-key-other-kid.jwt", "invalid", 1),
        ("attack/hs256-confusion.jwt", "invalid", 1),
        ("es256.jwt", "invalid", 1),
    ];
    for (file, signature, exit) in cases {
        let (results, code) = check(&["--key", pem, &format!("@fixtures/{file}")]);
        assert_eq!((results[0]["signature"].as_str(), code), (Some(signature), exit), "{file}");
    }
}

#[test]
fn a_jwk_file_and_several_key_sources() {
    let jwk = "fixtures/keys/test-ec.jwk.json";
    let (results, code) = check(&["--key", jwk, "@fixtures/es256.jwt", "@fixtures/mfa.jwt"]);
    assert_eq!(results[0]["signature"], "verified");
    assert_eq!((results[1]["signature"].as_str(), code), (Some("unknown-key"), 1));
    let (results, code) =
        check(&["--key", jwk, "--key", "fixtures/keys/test-rsa.pub.pem", "@fixtures/es256.jwt", "@fixtures/mfa.jwt"]);
    assert_eq!(
        (results[0]["signature"].as_str(), results[1]["signature"].as_str(), code),
        (Some("verified"), Some("verified"), 0)
    );
}

#[test]
fn unusable_keys_are_usage_errors() {
    mfacheck()
        .args(["check", "--key", "fixtures/keys/test-rsa.pem", "@fixtures/mfa.jwt"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("this is a private key: give the public key"));
    mfacheck()
        .args(["check", "--jwks", "fixtures/mfa.jwt", "@fixtures/mfa.jwt"])
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with("mfacheck: --jwks fixtures/mfa.jwt: not JSON"));
    mfacheck()
        .args(["check", "--jwks", "fixtures/no-such-file.json", "@fixtures/mfa.jwt"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--jwks fixtures/no-such-file.json: cannot read the file"));
}

#[test]
fn expired_token_with_require_valid_time() {
    // seed.jwt: Microsoft's sample claims, signed by the test key, expired on 2019-02-02.
    let (results, code) = check(&["--jwks", JWKS, "--require-valid-time", "@fixtures/seed.jwt"]);
    assert_eq!((results[0]["signature"].as_str(), code), (Some("verified"), 1));
    assert_eq!(codes(&results[0]), ["expired"]);
    assert_eq!(results[0]["findings"][0]["level"], "error");
    // At a time inside its lifetime it passes; just past exp, the leeway decides.
    let (_, code) =
        check(&["--jwks", JWKS, "--require-valid-time", "--now", "2019-02-02T07:00:00Z", "@fixtures/seed.jwt"]);
    assert_eq!(code, 0);
    let past = ["--require-valid-time", "--now", "2019-02-02T07:30:00Z", "@fixtures/seed.jwt"];
    assert_eq!(check(&past).1, 0, "exp + 168 s is inside the default 300 s leeway");
    assert_eq!(check(&[&["--leeway", "60"][..], &past].concat()).1, 1);
}

#[test]
fn expected_issuer_and_audience() {
    let iss = "https://sts.windows.net/df845f1a-7b35-40a2-ba78-6481de91f8ae/";
    let pc = "https://api.partnercenter.microsoft.com";
    let (_, code) = check(&["--issuer", iss, "--audience", pc, "@fixtures/mfa.jwt"]);
    assert_eq!(code, 0);
    let (results, code) = check(&["--issuer", "https://sts.windows.net/other/", "@fixtures/mfa.jwt"]);
    assert_eq!((code, codes(&results[0])), (1, vec!["issuer-mismatch"]));
    assert_eq!(
        results[0]["findings"][0]["message"],
        format!(
            "iss is \"{iss}\", not the expected \"https://sts.windows.net/other/\": the token was issued by another authority or tenant"
        )
    );
    // cross-tenant.jwt is a token for Azure Resource Manager: not Partner Center's audience.
    let (results, code) = check(&["--audience", pc, "@fixtures/cross-tenant.jwt", "@fixtures/app-only.jwt"]);
    assert_eq!(code, 1);
    assert!(codes(&results[0]).contains(&"audience-mismatch"));
    assert_eq!(results[1]["compliant"], true);
    // Repeated: any of them will do.
    let (_, code) =
        check(&["--audience", pc, "--audience", "https://management.core.windows.net/", "@fixtures/cross-tenant.jwt"]);
    assert_eq!(code, 0);
}

#[test]
fn decode_verifies_when_asked() {
    let out = mfacheck()
        .args(["decode", "--format", "ndjson", "--jwks", JWKS, "@fixtures/mfa.jwt", "@fixtures/attack/tampered.jwt"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let lines: Vec<Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!((lines[0]["signature"].as_str(), lines[1]["signature"].as_str()), (Some("verified"), Some("invalid")));
    mfacheck()
        .args(["decode", "--color", "never", "--jwks", JWKS, "@fixtures/attack/hs256-confusion.jwt"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("\nsignature invalid: alg HS256 is an HMAC"));
    // Without a key, decode output has no signature member at all, as before.
    mfacheck()
        .args(["decode", "--format", "ndjson", "@fixtures/mfa.jwt"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("\"signature\"").not());
}

/// Serves `responses` in order, one per connection, on 127.0.0.1; returns the base URL and a
/// handle giving the request heads received. Bounded: it stops after the last response, or when
/// no client comes within 20 s.
fn serve(responses: Vec<Option<String>>) -> (String, thread::JoinHandle<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    listener.set_nonblocking(true).unwrap();
    let handle = thread::spawn(move || {
        let mut heads = Vec::new();
        for response in responses {
            let deadline = Instant::now() + Duration::from_secs(20);
            let mut stream = loop {
                match listener.accept() {
                    Ok((stream, _)) => break stream,
                    Err(_) if Instant::now() < deadline => thread::sleep(Duration::from_millis(10)),
                    Err(_) => return heads,
                }
            };
            stream.set_nonblocking(false).unwrap();
            stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).is_ok_and(|n| n == 1) {
                head.push(byte[0]);
            }
            heads.push(String::from_utf8_lossy(&head).into_owned());
            match response {
                // The client may hang up first (a body over its limit).
                Some(text) => {
                    let _ = stream.write_all(text.as_bytes());
                }
                // Say nothing until the client gives up and closes (or 5 s pass).
                None => {
                    let _ = stream.read(&mut byte);
                }
            }
        }
        heads
    });
    (url, handle)
}

fn http(status: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

#[test]
fn jwks_from_a_loopback_http_server() {
    let jwks = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(JWKS)).unwrap();
    let huge = format!("{{\"keys\":[],\"pad\":\"{}\"}}", "x".repeat(1 << 20));
    let (url, server) =
        serve(vec![Some(http("200 OK", &jwks)), Some(http("404 Not Found", "{}")), Some(http("200 OK", &huge))]);
    let keys_url = format!("{url}/common/discovery/v2.0/keys");
    let (results, code) = check(&["--jwks", &keys_url, "@fixtures/mfa.jwt", "@fixtures/attack/tampered.jwt"]);
    assert_eq!(
        (results[0]["signature"].as_str(), results[1]["signature"].as_str()),
        (Some("verified"), Some("invalid"))
    );
    assert_eq!(code, 1);
    mfacheck()
        .args(["check", "--jwks", &keys_url, "@fixtures/mfa.jwt"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(format!("mfacheck: --jwks {keys_url}: the server answered HTTP 404\n"));
    mfacheck()
        .args(["check", "--jwks", &keys_url, "@fixtures/mfa.jwt"])
        .assert()
        .code(2)
        .stderr(format!("mfacheck: --jwks {keys_url}: larger than 1048576 bytes\n"));
    let heads = server.join().unwrap();
    assert_eq!(heads.len(), 3);
    assert!(heads[0].starts_with("GET /common/discovery/v2.0/keys HTTP/1.1\r\n"), "{}", heads[0]);
    assert!(heads[0].to_ascii_lowercase().contains("user-agent: mfacheck/"), "{}", heads[0]);
}

#[test]
fn a_silent_jwks_server_times_out_with_a_clear_error() {
    let (url, server) = serve(vec![None]);
    // The server stays silent for 5 s: only the client's own timeout gives this message.
    mfacheck()
        .args(["check", "--fetch-timeout", "1", "--jwks", &format!("{url}/keys"), "@fixtures/mfa.jwt"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(format!("mfacheck: --jwks {url}/keys: no answer within 1 s\n"));
    server.join().unwrap();
}

#[test]
fn plain_http_is_refused_off_loopback_before_any_connection() {
    // Refused by the URL check itself: no connection is attempted (there is no network here).
    mfacheck()
        .args(["check", "--jwks", "http://login.microsoftonline.com/common/discovery/v2.0/keys", "@fixtures/mfa.jwt"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("plain http is refused except on loopback hosts"));
    mfacheck()
        .args(["check", "--jwks", "ftp://127.0.0.1/keys", "@fixtures/mfa.jwt"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("only https URLs (or a file path) are accepted"));
}

#[test]
fn scan_takes_the_verification_options() {
    let out =
        mfacheck().args(["scan", "--format", "ndjson", "--jwks", JWKS, "fixtures/scan/server.log"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 2);
    assert!(text.lines().all(|l| l.contains("\"signature\":\"verified\"")), "{text}");
    // A forged token in a log line is found, and refused.
    let forged =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/attack/tampered.jwt")).unwrap();
    let log = format!("2025-12-01T09:00:01Z INFO request auth=\"Bearer {}\" status=200\n", forged.trim());
    let out =
        mfacheck().args(["scan", "--format", "ndjson", "--jwks", JWKS, "-"]).write_stdin(log.clone()).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((result["signature"].as_str(), codes(&result)), (Some("invalid"), vec!["bad-signature"]));
    mfacheck().args(["scan", "-q", "-"]).write_stdin(log).assert().code(0); // without keys the forgery passes
}

/// A Microsoft Graph token as Graph makes them: signed over a header whose nonce is hashed, then
/// given out with the original nonce, so the signature does not match the header as it stands.
fn graph_token(aud: &str) -> String {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let private = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/keys/test-rsa.pem")).unwrap();
    let signer = mfacheck::internal::sample::Signer {
        key: jsonwebtoken::EncodingKey::from_rsa_pem(&private).unwrap(),
        alg: jsonwebtoken::Algorithm::RS256,
    };
    let signed_header = serde_json::json!({"typ":"JWT","alg":"RS256","kid":"mfacheck-test-rsa","nonce":"aGFzaGVk"});
    let claims = serde_json::json!({"aud":aud,"iss":"https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/",
        "ver":"1.0","scp":"User.Read","amr":["pwd","mfa"],"upn":"a@example.com"});
    let token = mfacheck::internal::sample::encode(
        signed_header.as_object().unwrap(),
        claims.as_object().unwrap(),
        Some(&signer),
    )
    .unwrap();
    let shown = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"RS256","kid":"mfacheck-test-rsa","nonce":"original"}"#);
    format!("{shown}.{}", token.split_once('.').unwrap().1)
}

#[test]
fn a_graph_token_is_not_checked_says_why_and_fails() {
    let (results, code) = check(&["--jwks", JWKS, &graph_token("https://graph.microsoft.com")]);
    let r = &results[0];
    assert_eq!(r["signature"], "not-checked", "{:?}", r["findings"]);
    let graph: Vec<&Value> =
        r["findings"].as_array().unwrap().iter().filter(|f| f["code"] == "graph-token-unverifiable").collect();
    assert_eq!(graph.len(), 1, "{:?}", r["findings"]);
    assert_eq!(graph[0]["level"], "error");
    assert!(graph[0]["message"].as_str().unwrap().contains("only Graph can verify it"));
    assert!(!codes(r).contains(&"bad-signature"));
    // Keys were given: what cannot be verified does not pass, though MFA is satisfied (SPEC §2).
    assert_eq!((code, r["compliant"].as_bool()), (1, Some(false)));
    // Without keys nothing is said about signatures at all.
    let (results, _) = check(&[&graph_token("https://graph.microsoft.com")]);
    assert!(!codes(&results[0]).contains(&"graph-token-unverifiable"));
    // The same trick on a Partner Center token is a bad signature: a nonce is no way around the key.
    let (results, code) = check(&["--jwks", JWKS, &graph_token("https://api.partnercenter.microsoft.com")]);
    assert_eq!((results[0]["signature"].as_str(), code), (Some("invalid"), 1));
    assert!(codes(&results[0]).contains(&"bad-signature"));
}

/// The key-exchange groups a TLS ClientHello offers (its supported_groups extension).
fn offered_groups(hello: &[u8]) -> Vec<u16> {
    let u16_at = |at: usize| u16::from_be_bytes([hello[at], hello[at + 1]]);
    // Record header (5), handshake header (4), version (2), random (32), then length-prefixed
    // session id, cipher suites and compression methods, then the extensions.
    let mut at = 5 + 4 + 2 + 32;
    at += 1 + usize::from(hello[at]);
    at += 2 + usize::from(u16_at(at));
    at += 1 + usize::from(hello[at]);
    let end = at + 2 + usize::from(u16_at(at));
    at += 2;
    while at + 4 <= end {
        let (kind, len) = (u16_at(at), usize::from(u16_at(at + 2)));
        if kind == 0x000a {
            return (0..usize::from(u16_at(at + 4)) / 2).map(|i| u16_at(at + 6 + 2 * i)).collect();
        }
        at += 4 + len;
    }
    Vec::new()
}

#[test]
fn https_fetching_speaks_tls_on_aws_lc() {
    // A loopback "server" that takes the ClientHello and hangs up: enough to see which TLS
    // stack made it, with no certificate needed.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("https://{}/keys", listener.local_addr().unwrap());
    let server = thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut hello = vec![0; 5];
        stream.read_exact(&mut hello).unwrap();
        let len = usize::from(u16::from_be_bytes([hello[3], hello[4]]));
        hello.resize(5 + len, 0);
        stream.read_exact(&mut hello[5..]).unwrap();
        hello
    });
    mfacheck()
        .args(["check", "--fetch-timeout", "10", "--jwks", &url, "@fixtures/mfa.jwt"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::starts_with(format!("mfacheck: --jwks {url}: cannot fetch: ")));
    let hello = server.join().unwrap();
    assert_eq!((hello[0], hello[5]), (0x16, 0x01), "a TLS handshake record holding a ClientHello");
    // X25519MLKEM768 (0x11ec) is offered by rustls's aws-lc provider; ring has no ML-KEM.
    let groups = offered_groups(&hello);
    assert!(groups.contains(&0x001d), "X25519 offered: {groups:04x?}");
    assert!(groups.contains(&0x11ec), "rustls on aws-lc, not ring: {groups:04x?}");
}
