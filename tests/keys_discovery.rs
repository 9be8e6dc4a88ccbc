//! `--verify` without keys, as a user runs it: the built binary finds Microsoft's keys for each
//! token's issuer. A local server stands in for Microsoft's login hosts through the test-only
//! MFACHECK_TEST_LOGIN_BASE; the cache directory is a fresh temporary one (XDG_CACHE_HOME). No
//! test touches the network.

use assert_cmd::Command;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

const TID: &str = "0b0d8c3e-2f6a-4c51-9d7e-5a1b2c3d4e5f";
const NOW: &str = "2026-01-01T00:00:00Z";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn jwks() -> String {
    std::fs::read_to_string(root().join("fixtures/keys/jwks.json")).unwrap()
}

/// The JWKS without the RSA key: what Microsoft published before a rollover.
fn jwks_without_rsa() -> String {
    let mut set: Value = serde_json::from_str(&jwks()).unwrap();
    set["keys"].as_array_mut().unwrap().retain(|k| k["kty"] != "RSA");
    set.to_string()
}

/// A stand-in for Microsoft's login host: answers GETs of the paths in `routes` (changeable
/// while it runs) with their JWKS, 404 otherwise, and records every request line.
struct Server {
    base: String,
    requests: Arc<Mutex<Vec<String>>>,
    routes: Arc<Mutex<HashMap<String, String>>>,
}

impl Server {
    fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let routes = Arc::new(Mutex::new(HashMap::<String, String>::new()));
        let (log, table) = (requests.clone(), routes.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                // The rest of the request head.
                let mut header = String::new();
                while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
                    header.clear();
                }
                let path = line.split_whitespace().nth(1).unwrap_or_default().to_owned();
                log.lock().unwrap().push(path.clone());
                let body = table.lock().unwrap().get(&path).cloned();
                let response = match body {
                    Some(body) => format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    ),
                    None => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_owned(),
                };
                let _ = stream.write_all(response.as_bytes());
            }
        });
        Server { base, requests, routes }
    }

    fn serve(&self, path: &str, body: &str) {
        self.routes.lock().unwrap().insert(path.to_owned(), body.to_owned());
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

/// A fresh, empty cache directory for one test, removed when dropped.
fn cache_home(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new().prefix(&format!("mfacheck-keys-{name}-")).tempdir().unwrap()
}

fn mfacheck(server: &Server, cache: &Path) -> Command {
    let mut cmd = Command::cargo_bin("mfacheck").unwrap();
    cmd.current_dir(root()).env("MFACHECK_TEST_LOGIN_BASE", &server.base).env("XDG_CACHE_HOME", cache);
    cmd
}

/// A token signed by the test RSA key (kid mfacheck-test-rsa), issued by Entra for `TID`.
fn sample(ver: &str, extra: &[&str]) -> String {
    let out = Command::cargo_bin("mfacheck")
        .unwrap()
        .current_dir(root())
        .args(["sample", "--key", "fixtures/keys/test-rsa.pem", "--kid", "mfacheck-test-rsa", "--tid", TID])
        .args(["--ver", ver, "--now", NOW])
        .args(extra)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

struct Run {
    results: Vec<Value>,
    code: i32,
    stderr: String,
}

fn check(server: &Server, cache: &Path, args: &[&str], tokens: &[String]) -> Run {
    let out = mfacheck(server, cache)
        .args(["check", "--format", "ndjson", "--now", NOW])
        .args(args)
        .write_stdin(tokens.join("\n"))
        .output()
        .unwrap();
    let results = String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    Run { results, code: out.status.code().unwrap(), stderr: String::from_utf8(out.stderr).unwrap() }
}

fn codes(result: &Value) -> Vec<&str> {
    result["findings"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap()).collect()
}

fn v1_path() -> String {
    format!("/{TID}/discovery/keys")
}

fn v2_path() -> String {
    format!("/{TID}/discovery/v2.0/keys")
}

fn v2_cache_file(cache: &Path) -> PathBuf {
    cache.join(format!("mfacheck/keys/login.microsoftonline.com_{TID}_discovery_v2.0_keys.json"))
}

#[test]
fn v1_and_v2_issuers_take_the_keys_at_their_own_paths() {
    let server = Server::start();
    server.serve(&v1_path(), &jwks());
    server.serve(&v2_path(), &jwks());
    let cache_dir = cache_home("paths");
    let cache = cache_dir.path().to_path_buf();
    let (v1, v2) = (sample("1.0", &[]), sample("2.0", &[]));
    let run = check(&server, &cache, &["--verify"], &[v1, v2]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for r in &run.results {
        assert_eq!(r["signature"], "verified", "{:?}", r["findings"]);
    }
    let mut requests = server.requests();
    requests.sort();
    assert_eq!(requests, vec![v1_path(), v2_path()]);
    // The files are named after Microsoft's URLs, not the stand-in's.
    assert!(v2_cache_file(&cache).is_file());
    assert!(cache.join(format!("mfacheck/keys/login.microsoftonline.com_{TID}_discovery_keys.json")).is_file());
}

#[test]
fn the_cache_file_is_reused_until_it_expires() {
    let server = Server::start();
    server.serve(&v2_path(), &jwks());
    let cache_dir = cache_home("reuse");
    let cache = cache_dir.path().to_path_buf();
    let token = sample("2.0", &[]);
    // Three copies of one token: one fetch (and one verification) for the run.
    let first = check(&server, &cache, &["--verify"], &[token.clone(), token.clone(), token.clone()]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert_eq!(server.requests().len(), 1);
    let second = check(&server, &cache, &["--verify"], std::slice::from_ref(&token));
    assert_eq!(second.results[0]["signature"], "verified");
    assert_eq!(server.requests().len(), 1, "the second run reads the cache: no request");
    // A day and more later the cached copy is stale: fetched again.
    let file = std::fs::File::options().write(true).open(v2_cache_file(&cache)).unwrap();
    file.set_modified(SystemTime::now() - Duration::from_secs(25 * 3600)).unwrap();
    drop(file);
    let third = check(&server, &cache, &["--verify"], std::slice::from_ref(&token));
    assert_eq!(third.results[0]["signature"], "verified");
    assert_eq!(server.requests().len(), 2, "an expired cache is refetched");
}

#[test]
fn an_unknown_kid_causes_exactly_one_refetch() {
    let server = Server::start();
    let cache_dir = cache_home("rollover");
    let cache = cache_dir.path().to_path_buf();
    // Yesterday's set: the RSA key is not published yet.
    server.serve(&v2_path(), &jwks_without_rsa());
    let es = Command::cargo_bin("mfacheck")
        .unwrap()
        .current_dir(root())
        .args(["sample", "--key", "fixtures/keys/test-ec.pem", "--kid", "mfacheck-test-ec", "--tid", TID])
        .args(["--ver", "2.0", "--now", NOW])
        .output()
        .unwrap();
    let es = String::from_utf8(es.stdout).unwrap().trim().to_owned();
    let first = check(&server, &cache, &["--verify"], &[es]);
    assert_eq!(first.results[0]["signature"], "verified", "{:?}", first.results[0]["findings"]);
    assert_eq!(server.requests().len(), 1);
    // Microsoft rolls the RSA key in; the cached copy (fresh) lacks it.
    server.serve(&v2_path(), &jwks());
    let rsa = sample("2.0", &[]);
    let stranger = sample("2.0", &["--claim", "upn=other@example.com"]).replacen(
        &URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"RS256","kid":"mfacheck-test-rsa"}"#),
        &URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"RS256","kid":"never-published"}"#),
        1,
    );
    let second = check(&server, &cache, &["--verify"], &[rsa.clone(), stranger.clone(), stranger, rsa]);
    assert_eq!(
        server.requests().len(),
        2,
        "one refetch for the run, however many unknown kids: {:?}",
        server.requests()
    );
    let signatures: Vec<&str> = second.results.iter().map(|r| r["signature"].as_str().unwrap()).collect();
    assert_eq!(signatures, ["verified", "unknown-key", "unknown-key", "verified"]);
    assert_eq!(second.code, 1);
}

#[test]
fn offline_with_an_empty_cache_says_what_is_missing() {
    let server = Server::start();
    server.serve(&v2_path(), &jwks());
    let cache_dir = cache_home("offline");
    let cache = cache_dir.path().to_path_buf();
    let run = check(&server, &cache, &["--verify", "--offline"], &[sample("2.0", &[])]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(server.requests().is_empty(), "--offline fetches nothing");
    let r = &run.results[0];
    assert_eq!(r["signature"], "not-checked");
    assert!(codes(r).contains(&"keys-unavailable"), "{:?}", codes(r));
    let url = format!("https://login.microsoftonline.com/{TID}/discovery/v2.0/keys");
    assert!(run.stderr.contains("--offline") && run.stderr.contains(&url), "{}", run.stderr);
    assert!(run.stderr.contains("not cached"), "{}", run.stderr);
    // Once cached (a run online), --offline is enough.
    assert_eq!(check(&server, &cache, &["--verify"], &[sample("2.0", &[])]).code, 0);
    let offline = check(&server, &cache, &["--verify", "--offline"], &[sample("2.0", &[])]);
    assert_eq!((offline.code, offline.results[0]["signature"].as_str()), (0, Some("verified")), "{}", offline.stderr);
}

/// A token whose header names its own key URLs (`jku`, `x5u`) on another local server.
fn token_with_key_urls(elsewhere: &str) -> String {
    let other = std::fs::read(root().join("fixtures/keys/test-rsa-other.pem")).unwrap();
    let signer = mfacheck::sample::Signer {
        key: jsonwebtoken::EncodingKey::from_rsa_pem(&other).unwrap(),
        alg: jsonwebtoken::Algorithm::RS256,
    };
    let header = json!({"typ":"JWT","alg":"RS256","kid":"attacker","jku":format!("{elsewhere}/jwks"),"x5u":format!("{elsewhere}/cert")});
    let claims = json!({"iss":format!("https://sts.windows.net/{TID}/"),"aud":"https://api.partnercenter.microsoft.com",
        "tid":TID,"ver":"1.0","scp":"user_impersonation","amr":["pwd","mfa"],"upn":"a@example.com"});
    mfacheck::sample::encode(header.as_object().unwrap(), claims.as_object().unwrap(), Some(&signer)).unwrap()
}

#[test]
fn key_urls_named_by_the_token_are_never_fetched() {
    let microsoft = Server::start();
    microsoft.serve(&v1_path(), &jwks());
    let attacker = Server::start();
    attacker.serve("/jwks", &jwks());
    let cache_dir = cache_home("jku");
    let cache = cache_dir.path().to_path_buf();
    let run = check(&microsoft, &cache, &["--verify"], &[token_with_key_urls(&attacker.base)]);
    assert!(attacker.requests().is_empty(), "{:?}", attacker.requests());
    assert_eq!(microsoft.requests(), vec![v1_path()]);
    let r = &run.results[0];
    assert_eq!((r["signature"].as_str(), run.code), (Some("unknown-key"), 1));
    assert_eq!(r["compliant"], false);
}

#[test]
fn an_issuer_off_microsofts_hosts_is_not_checked_and_not_compliant() {
    let server = Server::start();
    let cache_dir = cache_home("issuer");
    let cache = cache_dir.path().to_path_buf();
    let token = sample("2.0", &["--claim", &format!("iss=https://login.example.com/{TID}/v2.0")]);
    let run = check(&server, &cache, &["--verify"], &[token]);
    assert!(server.requests().is_empty());
    let r = &run.results[0];
    assert_eq!(r["signature"], "not-checked");
    assert_eq!(codes(r), ["issuer-not-microsoft"], "{:?}", r["findings"]);
    assert!(r["findings"][0]["message"].as_str().unwrap().contains("login.example.com"));
    assert_eq!((run.code, r["compliant"].as_bool()), (1, Some(false)));
}

#[test]
fn verify_and_explicit_keys_do_not_mix() {
    let server = Server::start();
    let out = mfacheck(&server, cache_home("mix").path())
        .args(["check", "--verify", "--jwks", "fixtures/keys/jwks.json", "@fixtures/mfa.jwt"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--verify"));
}

#[test]
fn the_test_base_url_must_be_loopback() {
    let out = Command::cargo_bin("mfacheck")
        .unwrap()
        .current_dir(root())
        .env("MFACHECK_TEST_LOGIN_BASE", "http://login.example.com")
        .env("XDG_CACHE_HOME", cache_home("base").path())
        .args(["check", "--verify", "@fixtures/mfa.jwt"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("tests only"));
}
