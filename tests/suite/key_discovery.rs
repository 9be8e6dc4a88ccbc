//! `--verify` without keys, as a user runs it: the built binary finds Microsoft's keys for each
//! token's issuer. A local server stands in for Microsoft's login hosts through the test-only
//! MFACHECK_TEST_LOGIN_BASE; the cache directory is a fresh temporary one (XDG_CACHE_HOME). No
//! test touches the network.

use crate::support::{codes, root};
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
        // A reader that blocks (a FIFO planted in the cache) fails the test rather than hang it.
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let results = String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    Run { results, code: out.status.code().unwrap_or(-1), stderr: String::from_utf8(out.stderr).unwrap() }
}

fn v1_path() -> String {
    format!("/{TID}/discovery/keys")
}

fn v2_path() -> String {
    format!("/{TID}/discovery/v2.0/keys")
}

/// The cache directory of the stand-in's base URL: one of its own, never `mfacheck/keys`, the
/// real hosts' (created by the first run that fetched).
fn test_cache_dir(cache: &Path) -> PathBuf {
    let dirs: Vec<PathBuf> = std::fs::read_dir(cache.join("mfacheck"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.file_name().unwrap().to_str().unwrap().starts_with("keys-"))
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs[0].clone()
}

fn v2_cache_file(cache: &Path) -> PathBuf {
    test_cache_dir(cache).join(format!("login.microsoftonline.com_{TID}_discovery_v2.0_keys.json"))
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
    // The files are named after Microsoft's URLs, in the stand-in's own directory.
    assert!(v2_cache_file(&cache).is_file());
    assert!(test_cache_dir(&cache).join(format!("login.microsoftonline.com_{TID}_discovery_keys.json")).is_file());
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
    let signer = mfacheck::internal::sample::Signer {
        key: jsonwebtoken::EncodingKey::from_rsa_pem(&other).unwrap(),
        alg: jsonwebtoken::Algorithm::RS256,
    };
    let header = json!({"typ":"JWT","alg":"RS256","kid":"attacker","jku":format!("{elsewhere}/jwks"),"x5u":format!("{elsewhere}/cert")});
    let claims = json!({"iss":format!("https://sts.windows.net/{TID}/"),"aud":"https://api.partnercenter.microsoft.com",
        "tid":TID,"ver":"1.0","scp":"user_impersonation","amr":["pwd","mfa"],"upn":"a@example.com"});
    mfacheck::internal::sample::encode(header.as_object().unwrap(), claims.as_object().unwrap(), Some(&signer)).unwrap()
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
    // The set, and once more for the kid it lacks (a key may have been rolled in meanwhile).
    assert_eq!(microsoft.requests(), vec![v1_path(), v1_path()]);
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

// ---- the cache (SPEC §3 "Keys and their cache") ----

fn real_hosts_cache_file(cache: &Path) -> PathBuf {
    cache.join(format!("mfacheck/keys/login.microsoftonline.com_{TID}_discovery_v2.0_keys.json"))
}

/// `check --verify` without the stand-in: Microsoft's real hosts, which no test can reach (no
/// network), so only the cache could verify.
fn check_real_hosts(cache: &Path, args: &[&str], token: &str) -> Run {
    let out = Command::cargo_bin("mfacheck")
        .unwrap()
        .current_dir(root())
        .env_remove("MFACHECK_TEST_LOGIN_BASE")
        .env("XDG_CACHE_HOME", cache)
        .args(["check", "--format", "ndjson", "--now", NOW, "--verify", "--fetch-timeout", "2"])
        .args(args)
        .write_stdin(token.to_owned())
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let results = String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    Run { results, code: out.status.code().unwrap_or(-1), stderr: String::from_utf8(out.stderr).unwrap() }
}

#[test]
fn keys_from_the_test_base_never_reach_the_real_hosts_cache() {
    let server = Server::start();
    server.serve(&v2_path(), &jwks());
    let cache_dir = cache_home("planted");
    let cache = cache_dir.path().to_path_buf();
    let token = sample("2.0", &[]);
    assert_eq!(check(&server, &cache, &["--verify"], std::slice::from_ref(&token)).code, 0);
    assert!(!cache.join("mfacheck/keys").exists(), "the stand-in's keys are not in the real hosts' cache");
    // Later runs against the real hosts do not trust them, offline or online.
    for args in [&["--offline"][..], &[]] {
        let run = check_real_hosts(&cache, args, &token);
        let r = &run.results[0];
        assert_eq!(r["signature"], "not-checked", "{args:?}: {}", run.stderr);
        assert!(codes(r).contains(&"keys-unavailable"), "{args:?}: {:?}", codes(r));
        assert_eq!(run.code, 2, "{args:?}");
    }
    // Nor does the stand-in read the real hosts' cache.
    std::fs::create_dir_all(real_hosts_cache_file(&cache).parent().unwrap()).unwrap();
    std::fs::write(real_hosts_cache_file(&cache), jwks()).unwrap();
    std::fs::remove_dir_all(test_cache_dir(&cache)).unwrap();
    let run = check(&server, &cache, &["--verify", "--offline"], std::slice::from_ref(&token));
    assert_eq!(run.results[0]["signature"], "not-checked", "{}", run.stderr);
}

#[test]
fn a_cache_entry_dated_in_the_future_is_stale() {
    let server = Server::start();
    server.serve(&v2_path(), &jwks());
    let cache_dir = cache_home("future");
    let cache = cache_dir.path().to_path_buf();
    let token = sample("2.0", &[]);
    assert_eq!(check(&server, &cache, &["--verify"], std::slice::from_ref(&token)).code, 0);
    assert_eq!(server.requests().len(), 1);
    // touch -d 2099-01-01
    let file = std::fs::File::options().write(true).open(v2_cache_file(&cache)).unwrap();
    file.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(4_070_908_800)).unwrap();
    drop(file);
    let run = check(&server, &cache, &["--verify"], std::slice::from_ref(&token));
    assert_eq!(run.results[0]["signature"], "verified");
    assert_eq!(server.requests().len(), 2, "a future date does not make an entry fresh forever");
}

/// Runs once online so that the stand-in's cache directory exists; returns the token.
fn cached_once(server: &Server, cache: &Path) -> String {
    server.serve(&v2_path(), &jwks());
    let token = sample("2.0", &[]);
    assert_eq!(check(server, cache, &["--verify"], std::slice::from_ref(&token)).code, 0);
    token
}

fn offline_refusal(server: &Server, cache: &Path, token: &str) -> String {
    let run = check(server, cache, &["--verify", "--offline"], &[token.to_owned()]);
    let r = &run.results[0];
    assert_eq!(r["signature"], "not-checked", "{}", run.stderr);
    assert_eq!(run.code, 2);
    assert!(!run.stderr.contains("not cached"), "{}", run.stderr);
    run.stderr
}

#[cfg(unix)]
#[test]
fn a_link_at_the_cache_entry_is_never_followed() {
    let server = Server::start();
    let cache_dir = cache_home("link");
    let cache = cache_dir.path().to_path_buf();
    let token = cached_once(&server, &cache);
    let entry = v2_cache_file(&cache);
    // Keys of someone else's choosing, linked in where the entry was.
    let elsewhere = cache.join("elsewhere.json");
    std::fs::write(&elsewhere, jwks_without_rsa()).unwrap();
    std::fs::remove_file(&entry).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &entry).unwrap();
    let stderr = offline_refusal(&server, &cache, &token);
    assert!(stderr.contains("cannot read the cached keys at") && stderr.contains("symbolic link"), "{stderr}");
    // Online, the keys are fetched and the link replaced, its target untouched.
    let run = check(&server, &cache, &["--verify"], &[token]);
    assert_eq!((run.code, server.requests().len()), (0, 2), "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(&elsewhere).unwrap(), jwks_without_rsa());
    assert!(std::fs::symlink_metadata(&entry).unwrap().is_file());
    assert_eq!(std::fs::read_to_string(&entry).unwrap(), jwks());
}

#[cfg(unix)]
#[test]
fn a_cache_directory_that_is_a_link_or_writable_by_others_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let server = Server::start();
    let cache_dir = cache_home("dir");
    let cache = cache_dir.path().to_path_buf();
    let token = cached_once(&server, &cache);
    let dir = test_cache_dir(&cache);
    // Group- and world-writable: another user could plant keys there.
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let stderr = offline_refusal(&server, &cache, &token);
    assert!(stderr.contains("may be written by other users"), "{stderr}");
    // A link to a directory of keys elsewhere.
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    let moved = cache.join("moved");
    std::fs::rename(&dir, &moved).unwrap();
    std::os::unix::fs::symlink(&moved, &dir).unwrap();
    let stderr = offline_refusal(&server, &cache, &token);
    assert!(stderr.contains("symbolic link"), "{stderr}");
    // Another user's directory (only root can make one here).
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        std::fs::remove_file(&dir).unwrap();
        std::fs::rename(&moved, &dir).unwrap();
        std::os::unix::fs::chown(cache.join("mfacheck"), Some(65534), None).unwrap();
        let stderr = offline_refusal(&server, &cache, &token);
        assert!(stderr.contains("belongs to another user"), "{stderr}");
    }
}

#[cfg(unix)]
#[test]
fn cache_entries_are_read_within_bounds_and_unreadable_ones_say_so() {
    let server = Server::start();
    let cache_dir = cache_home("bounds");
    let cache = cache_dir.path().to_path_buf();
    let token = cached_once(&server, &cache);
    let entry = v2_cache_file(&cache);
    // Larger than any key file: refused, not read whole.
    std::fs::write(&entry, vec![b' '; 2 << 20]).unwrap();
    let stderr = offline_refusal(&server, &cache, &token);
    assert!(stderr.contains("cannot read the cached keys at") && stderr.contains("larger than 1 MiB"), "{stderr}");
    // A FIFO would block a plain open for ever (the command has a time limit).
    std::fs::remove_file(&entry).unwrap();
    assert!(std::process::Command::new("mkfifo").arg(&entry).status().unwrap().success());
    let stderr = offline_refusal(&server, &cache, &token);
    assert!(stderr.contains("not a regular file"), "{stderr}");
    // A directory in its place.
    std::fs::remove_file(&entry).unwrap();
    std::fs::create_dir(&entry).unwrap();
    let stderr = offline_refusal(&server, &cache, &token);
    assert!(stderr.contains("cannot read the cached keys at") && stderr.contains("not a regular file"), "{stderr}");
    // Readable, but not a key set: validated as a fetched set would be.
    std::fs::remove_dir(&entry).unwrap();
    std::fs::write(
        &entry,
        r#"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}]}"#,
    )
    .unwrap();
    let stderr = offline_refusal(&server, &cache, &token);
    assert!(stderr.contains("not a usable key set") && stderr.contains("small order"), "{stderr}");
    // Permission denied (root reads any file, so only another user sees it).
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::write(&entry, jwks()).unwrap();
        std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(0o000)).unwrap();
        let stderr = offline_refusal(&server, &cache, &token);
        assert!(stderr.contains("cannot read the cached keys at") && stderr.contains("permission denied"), "{stderr}");
    }
}

// ---- keys over time ----

const NOW_SECONDS: u64 = 1_767_225_600;

/// A token of tenant `tid` (v2.0 issuer), signed by the test RSA key under `kid`.
fn tenant_token(tid: &str, kid: &str) -> String {
    let pem = std::fs::read(root().join("fixtures/keys/test-rsa.pem")).unwrap();
    let signer = mfacheck::internal::sample::Signer {
        key: jsonwebtoken::EncodingKey::from_rsa_pem(&pem).unwrap(),
        alg: jsonwebtoken::Algorithm::RS256,
    };
    let header = json!({"typ":"JWT","alg":"RS256","kid":kid});
    let claims = json!({"iss":format!("https://login.microsoftonline.com/{tid}/v2.0"),
        "aud":"https://api.partnercenter.microsoft.com","tid":tid,"ver":"2.0","scp":"user_impersonation",
        "amr":["pwd","mfa"],"preferred_username":"a@example.com","iat":NOW_SECONDS,"exp":NOW_SECONDS + 3600});
    mfacheck::internal::sample::encode(header.as_object().unwrap(), claims.as_object().unwrap(), Some(&signer)).unwrap()
}

/// Tenants no key server knows: each lookup fails (404).
fn bogus_tenants(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{i:08x}-0000-4000-8000-{i:012x}")).collect()
}

const NEW_TENANT: &str = "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f";

#[test]
fn a_flood_of_bogus_issuers_does_not_lock_out_a_genuine_tenant() {
    let server = Server::start();
    server.serve(&format!("/{NEW_TENANT}/discovery/v2.0/keys"), &jwks());
    let cache_dir = cache_home("flood");
    let mut tokens: Vec<String> = bogus_tenants(40).iter().map(|tid| tenant_token(tid, "mfacheck-test-rsa")).collect();
    tokens.push(tenant_token(NEW_TENANT, "mfacheck-test-rsa"));
    let run = check(&server, cache_dir.path(), &["--verify"], &tokens);
    let genuine = run.results.last().unwrap();
    assert_eq!(genuine["signature"], "verified", "{:?}", genuine["findings"]);
    assert_eq!(genuine["compliant"], true);
    assert!(run.results[..40].iter().all(|r| r["signature"] == "not-checked"));
    // The bogus tenants' keys are missing (exit 2), each named, within a bound.
    assert_eq!(run.code, 2);
    let lines = run.stderr.lines().filter(|l| l.contains("/discovery/v2.0/keys")).count();
    assert!((32..=33).contains(&lines), "{lines} lines: {}", run.stderr);
}

#[cfg(feature = "serve")]
#[test]
fn a_long_running_serve_picks_up_a_rolled_key_and_new_tenants() {
    let keys = Server::start();
    keys.serve(&v2_path(), &jwks_without_rsa());
    let cache_dir = cache_home("serve");
    let env = [
        ("MFACHECK_TEST_LOGIN_BASE", std::ffi::OsStr::new(&keys.base)),
        ("XDG_CACHE_HOME", cache_dir.path().as_os_str()),
    ];
    let gate = crate::support::serve::Server::start_with_env(&["--verify", "--now", NOW], &env);
    let status = |token: &str| gate.get_with_token("/v1/customers", token).status();
    let es = Command::cargo_bin("mfacheck")
        .unwrap()
        .current_dir(root())
        .args(["sample", "--key", "fixtures/keys/test-ec.pem", "--kid", "mfacheck-test-ec", "--tid", TID])
        .args(["--ver", "2.0", "--now", NOW])
        .output()
        .unwrap();
    let es = String::from_utf8(es.stdout).unwrap().trim().to_owned();
    assert_eq!(status(&es), 200);
    assert_eq!(keys.requests().len(), 1);
    // Microsoft publishes the RSA key mid-run, then signs with it.
    keys.serve(&v2_path(), &jwks());
    assert_eq!(status(&tenant_token(TID, "mfacheck-test-rsa")), 200, "the rolled key is fetched");
    assert_eq!(keys.requests().len(), 2);
    // Unknown kids do not make it ask again within the minute.
    for _ in 0..3 {
        assert_ne!(status(&tenant_token(TID, "never-published")), 200);
    }
    assert_eq!(keys.requests().len(), 2, "{:?}", keys.requests());
    // 32 bogus tenants, then a new genuine one: not locked out.
    keys.serve(&format!("/{NEW_TENANT}/discovery/v2.0/keys"), &jwks());
    for tid in bogus_tenants(32) {
        assert_ne!(status(&tenant_token(&tid, "mfacheck-test-rsa")), 200);
    }
    assert_eq!(status(&tenant_token(NEW_TENANT, "mfacheck-test-rsa")), 200, "a new tenant after 32 bogus ones");
    // And the first tenant, evicted meanwhile, is read back (from the disk cache: no request).
    let before = keys.requests().len();
    assert_eq!(status(&tenant_token(TID, "mfacheck-test-rsa")), 200);
    assert_eq!(keys.requests().len(), before);
}
