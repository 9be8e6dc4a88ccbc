//! Every outside probe closed (SPEC §3, the hardening paragraph). Each test runs the
//! built binary as the probe did and fails without its fix.

use crate::support::mfacheck;
use mfacheck::internal::sample::{Signer, encode};
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

const DIR: &str = env!("CARGO_MANIFEST_DIR");
const NOW: &str = "1780000000";

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(args: &[&str], stdin: &[u8]) -> Run {
    run_within(args, stdin, Duration::from_secs(120))
}

/// [`run`], killed after `limit`: a run that hangs fails its test (exit code -1) instead of
/// blocking the suite. A guard against hangs, not a measure of speed.
fn run_within(args: &[&str], stdin: &[u8], limit: Duration) -> Run {
    let out = mfacheck().args(args).write_stdin(stdin.to_vec()).timeout(limit).output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn ndjson(text: &str) -> Vec<Value> {
    text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// A token signed by the test RSA key (kid "mfacheck-test-rsa"), as `sample` mints it.
fn token() -> String {
    let out = run(&["sample", "--key", "fixtures/keys/test-rsa.pem", "--kid", "mfacheck-test-rsa", "--now", NOW], b"");
    assert_eq!(out.code, 0, "{}", out.stderr);
    out.stdout.trim().to_owned()
}

fn signed(header: Value, claims: Value) -> String {
    let pem = std::fs::read(format!("{DIR}/fixtures/keys/test-rsa.pem")).unwrap();
    let signer = Signer::from_pem(&pem).unwrap();
    encode(header.as_object().unwrap(), claims.as_object().unwrap(), Some(&signer)).unwrap()
}

/// The characters a forged token may use to move the cursor or reorder text.
const UNSAFE: [char; 12] = [
    '\u{1b}', '\u{7f}', '\u{85}', '\u{9b}', '\u{202e}', '\u{2066}', '\u{200f}', '\u{61c}', '\u{2028}', '\u{2029}',
    '\u{202a}', '\u{2069}',
];

// 1. One sanitiser for every text output.
#[test]
fn text_outputs_escape_every_reordering_character() {
    let amr: Vec<String> = UNSAFE.iter().map(|c| format!("{c}afm")).collect();
    let claims = [
        format!("amr={}", serde_json::to_string(&amr).unwrap()),
        format!("upn={}", serde_json::to_string(&UNSAFE.iter().collect::<String>()).unwrap()),
    ];
    let out = run(&["sample", "--now", NOW, "--claim", &claims[0], "--claim", &claims[1]], b"");
    let token = out.stdout.trim().to_owned();
    for args in [
        vec!["decode", "--color", "never"],
        vec!["decode", "--color", "never", "--explain"],
        vec!["check", "--color", "never", "--now", NOW],
        vec!["check", "--color", "never", "--now", NOW, "--explain"],
        vec!["scan", "--color", "never", "--now", NOW],
        vec!["scan", "--color", "never", "--now", NOW, "--explain"],
    ] {
        let input = if args[0] == "scan" { format!("x {token}\n") } else { format!("{token}\n") };
        let out = run(&args, input.as_bytes());
        assert!(out.stdout.contains("afm"), "{args:?}: {}", out.stdout);
        for c in UNSAFE {
            assert!(!out.stdout.contains(c), "{args:?} prints {:?} raw:\n{}", c, out.stdout);
        }
        assert!(out.stdout.contains("\\u{202e}afm"), "{args:?}: shown escaped");
    }
}

// 2. A token given where a path is expected is never echoed whole.
#[test]
fn a_token_given_as_a_path_is_not_echoed() {
    let token = token();
    let long = &token[..40];
    let at = format!("@{token}");
    for format in ["text", "json", "ndjson"] {
        for args in [vec!["scan", &token], vec!["check", &at], vec!["decode", &at], vec!["scan", &at]] {
            let out = run(&[args.as_slice(), &["--format", format]].concat(), b"");
            assert_eq!(out.code, 2, "{args:?}");
            assert!(
                !out.stdout.contains(long) && !out.stderr.contains(long),
                "{args:?} {format}: {}{}",
                out.stdout,
                out.stderr
            );
            assert!(out.stdout.contains(&token[..12]), "the first characters say which input: {}", out.stdout);
        }
    }
}

// 3. RSA keys under 2048 bits.
#[test]
fn weak_rsa_keys_are_refused_everywhere() {
    let weak = run(&["sample", "--key", "fixtures/keys/weak-rsa-1024.pem", "--now", NOW], b"");
    assert_eq!(weak.code, 2, "sample signs with a 1024-bit key: {}", weak.stdout);
    assert!(weak.stderr.contains("under 2048 bits"), "{}", weak.stderr);
    assert!(weak.stdout.is_empty());
    let token = token();
    for args in [["--key", "fixtures/keys/weak-rsa-1024.pub.pem"], ["--jwks", "fixtures/keys/weak-rsa-1024.jwks.json"]]
    {
        let out = run(&[&["check"], &args[..], &[&token]].concat(), b"");
        assert_eq!(out.code, 2, "{args:?}: {}", out.stdout);
        assert!(out.stderr.contains("1024 bits"), "{args:?}: {}", out.stderr);
    }
}

// 4. crit and b64 (RFC 7515 §4.1.11, RFC 7797).
#[test]
fn crit_and_b64_headers_are_refused() {
    let claims = json!({"aud":"https://api.partnercenter.microsoft.com","scp":"x","amr":["pwd","mfa"],"upn":"a@b"});
    let base = json!({"typ":"JWT","alg":"RS256","kid":"mfacheck-test-rsa"});
    let good = signed(base.clone(), claims.clone());
    let with = |extra: Value| {
        let mut header = base.clone();
        header.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        signed(header, claims.clone())
    };
    let bad = [
        with(json!({"crit":["exp"],"exp":1})),
        with(json!({"crit":[]})),
        with(json!({"b64":false,"crit":["b64"]})),
        with(json!({"b64":false})),
    ];
    let ok = run(&["check", "--format", "ndjson", "--key", "fixtures/keys/test-rsa.pub.pem", &good], b"");
    assert_eq!(ok.code, 0, "{}", ok.stdout);
    for token in &bad {
        for keys in [vec![], vec!["--key", "fixtures/keys/test-rsa.pub.pem"], vec!["--jwks", "fixtures/keys/jwks.json"]]
        {
            let out = run(&[&["check", "--format", "ndjson"], keys.as_slice(), &[token.as_str()]].concat(), b"");
            assert_eq!(out.code, 2, "{}", out.stdout);
            let result = &ndjson(&out.stdout)[0];
            assert_eq!(result["error"]["code"], "unsupported-header", "{result}");
        }
        let out = run(&["decode", "--format", "ndjson", token], b"");
        assert_eq!(out.code, 2);
        assert_eq!(ndjson(&out.stdout)[0]["error"]["code"], "unsupported-header");
        // The parallel engine (fast path) agrees with the general one.
        let batch = format!("{token}\n").repeat(3000);
        let out = run(&["check", "--format", "ndjson", "-j", "2"], batch.as_bytes());
        assert!(ndjson(&out.stdout).iter().all(|r| r["error"]["code"] == "unsupported-header"));
    }
}

// 5. Key files capped at 1 MiB, read with a bounded reader.
#[test]
fn key_files_over_a_mebibyte_fail_fast() {
    let token = token();
    for option in ["--jwks", "--key"] {
        // Reading /dev/zero on would never end: the limit turns that into a failure.
        let out = run_within(&["check", option, "/dev/zero", &token], b"", Duration::from_secs(30));
        assert_eq!(out.code, 2, "{option}: read on, or failed otherwise: {}", out.stderr);
        assert!(out.stderr.contains("larger than 1 MiB"), "{option}: {}", out.stderr);
    }
    let out = run(&["sample", "--key", "/dev/zero"], b"");
    assert!(out.code == 2 && out.stderr.contains("larger than 1 MiB"), "{}", out.stderr);
}

// 6. Option values bounded: a usage error, never a panic.
#[test]
fn numeric_options_out_of_range_are_usage_errors() {
    let token = token();
    for args in [
        vec!["check", "--fetch-timeout", "9223372036854775807", "--jwks", "http://127.0.0.1:1/"],
        vec!["check", "--fetch-timeout", "18446744073709551615"],
        vec!["check", "--leeway", "9223372036854775807"],
        vec!["check", "-j", "100000000"],
        vec!["decode", "--fetch-timeout", "9223372036854775807", "--jwks", "http://127.0.0.1:1/"],
        vec!["scan", "--fetch-timeout", "9223372036854775807"],
    ] {
        let out = run(&[args.as_slice(), &[token.as_str()]].concat(), b"");
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        assert!(!out.stderr.contains("panicked"), "{args:?}: {}", out.stderr);
        assert!(out.stderr.starts_with("mfacheck: invalid value"), "{args:?}: {}", out.stderr);
    }
}

// 7. Key and JWKS messages escape paths and mask URL credentials.
#[test]
fn key_messages_escape_paths_and_mask_credentials() {
    let token = token();
    for args in [["--jwks", "a\nb\u{1b}[31m\u{202e}"], ["--key", "a\nb\u{1b}[31m\u{202e}"]] {
        let out = run(&[&["check"], &args[..], &[&token]].concat(), b"");
        assert_eq!(out.code, 2);
        assert_eq!(out.stderr.trim_end().lines().count(), 1, "{args:?}: {:?}", out.stderr);
        assert!(!out.stderr.contains('\u{1b}') && !out.stderr.contains('\u{202e}'), "{:?}", out.stderr);
    }
    let out = run(&["check", "--jwks", "https://u:Secret@127.0.0.1:1/k", &token], b"");
    assert_eq!(out.code, 2);
    assert!(!out.stderr.contains("Secret"), "{}", out.stderr);
    assert!(out.stderr.contains("https://u:***@127.0.0.1:1/k"), "{}", out.stderr);
}

fn har(entries: Value) -> String {
    json!({"log": {"version": "1.2", "creator": {"name": "t"}, "entries": entries}}).to_string()
}

// 8. scan --redact masks secret parameters in HAR URLs and bodies.
#[test]
fn scan_redact_masks_secret_parameters() {
    let token = token();
    let url = "https://login.example/token?refresh_token=SECRET1&client_secret=SECRET2&code=SECRET3&state=keep\
               &password=SECRET4&assertion=SECRET5&access_token=SECRET6&id_token=SECRET7";
    let capture = har(json!([{
        "request": {"method": "POST", "url": url,
                    "headers": [{"name": "Authorization", "value": format!("Bearer {token}")}],
                    "postData": {"mimeType": "application/x-www-form-urlencoded",
                                 "text": "grant_type=refresh_token&refresh_token=SECRET8&client_secret=SECRET9"}},
        "response": {"content": {"text": "{\"refresh_token\":\"SECRETA\"}"}}
    }]));
    for format in ["text", "json", "ndjson"] {
        let out = run(&["scan", "--redact", "--now", NOW, "--format", format], capture.as_bytes());
        assert!(!out.stdout.contains("SECRET") && !out.stderr.contains("SECRET"), "{format}: {}", out.stdout);
        assert!(out.stdout.contains("state=keep") && out.stdout.contains("refresh_token="), "{}", out.stdout);
    }
}

/// A loopback HTTP server that answers every request with `response`.
fn serve(response: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let mut buf = [0; 4096];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(response.as_bytes());
        }
    });
    format!("http://{addr}/keys")
}

// 9. A JWKS URL that redirects is reported as a redirect.
#[test]
fn a_jwks_redirect_is_reported_not_followed() {
    let url = serve("HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:9/elsewhere\r\nContent-Length: 0\r\n\r\n");
    let out = run(&["check", "--jwks", &url, &token()], b"");
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("redirect") && out.stderr.contains("not followed"), "{}", out.stderr);
}

// 10. A pretty-printed JSON wrapper over 1 MiB is one error.
#[test]
fn an_oversized_json_wrapper_is_one_error() {
    let token = token();
    let mut text = String::from("{\n");
    for i in 0..12_000 {
        text.push_str(&format!("  \"field{i}\": \"{}\",\n", "x".repeat(80)));
    }
    text.push_str(&format!("  \"accessToken\": \"{token}\"\n}}\n{token}\n"));
    let out = run(&["check", "--format", "ndjson", "--now", NOW], text.as_bytes());
    let results = ndjson(&out.stdout);
    assert_eq!(results.len(), 2, "{}", &out.stdout[..out.stdout.len().min(2000)]);
    assert_eq!(results[0]["error"]["code"], "too-large");
    assert_eq!(results[0]["source"], "stdin:1");
    assert!(results[1]["error"].is_null(), "{}", results[1]);
}

// 11. A file name that is not UTF-8 is reported, not fatal.
#[cfg(unix)]
#[test]
fn a_non_utf8_file_name_is_reported_and_scan_goes_on() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let token = token();
    let good = dir.path().join("b.log");
    std::fs::write(&good, format!("{token}\n")).unwrap();
    let odd = dir.path().join(std::ffi::OsStr::from_bytes(b"a\xff.log"));
    for exists in [false, true] {
        if exists {
            std::fs::write(&odd, format!("x {token}\n")).unwrap();
        }
        let out = mfacheck().args(["scan", "--format", "ndjson", "--now", NOW]).arg(&odd).arg(&good).output().unwrap();
        let results = ndjson(&String::from_utf8(out.stdout).unwrap());
        assert!(results.iter().any(|r| r["error"].is_null()), "{results:?}");
        assert_eq!(out.status.code(), Some(if exists { 0 } else { 2 }), "{results:?}");
        assert!(results[0]["source"].as_str().unwrap().contains("a\u{fffd}.log"), "{results:?}");
    }
}

// 12. A lone CR ends a line, in both engines.
#[test]
fn cr_only_line_ends_are_line_ends() {
    let token = token();
    let text = format!("{token}\r{token}\r\n\r{token}\r");
    let out = run(&["check", "--format", "ndjson", "--now", NOW], text.as_bytes());
    let sources: Vec<_> = ndjson(&out.stdout).iter().map(|r| r["source"].as_str().unwrap().to_owned()).collect();
    assert_eq!(sources, ["stdin:1", "stdin:2", "stdin:4"], "{}", out.stdout);
    assert_eq!(out.code, 0);
    let batch = format!("{token}\r").repeat(3000);
    for threads in ["1", "2"] {
        let out = run(&["check", "--format", "ndjson", "--now", NOW, "-j", threads], batch.as_bytes());
        let results = ndjson(&out.stdout);
        assert_eq!(results.len(), 3000, "-j {threads}");
        assert_eq!(results[2999]["source"], "stdin:3000");
        assert_eq!(out.code, 0);
    }
}

// 13. A truncated or invalid HAR warns and still reports what can be found.
#[test]
fn a_truncated_har_warns_and_reports_what_it_can() {
    let files = ["mfa.jwt", "seed.jwt", "password-only.jwt"];
    let tokens: Vec<String> = files
        .iter()
        .map(|f| std::fs::read_to_string(format!("{DIR}/fixtures/{f}")).unwrap().trim().to_owned())
        .collect();
    let entries: Vec<Value> = tokens
        .iter()
        .enumerate()
        .map(|(i, t)| {
            json!({"request": {"method": "GET", "url": format!("https://api/{i}"),
                   "headers": [{"name": "Authorization", "value": format!("Bearer {t}")}]},
                   "response": {"status": 200}})
        })
        .collect();
    let full = har(Value::Array(entries));
    let cut = full.find(&tokens[2]).unwrap() + tokens[2].len() + 5;
    let out = run(&["scan", "--format", "ndjson", "--now", NOW], &full.as_bytes()[..cut]);
    assert!(out.stderr.contains("truncated or invalid"), "{}", out.stderr);
    let results = ndjson(&out.stdout);
    assert_eq!(results.len(), 3, "{results:?}");
    assert_eq!(results[0]["request"]["url"], "https://api/0");
    assert_eq!(results[1]["source"], "stdin:entry-2");
}

// 15. Small ones.
#[test]
fn encryption_keys_and_numeric_kids_are_not_used() {
    let jwks: Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{DIR}/fixtures/keys/jwks.json")).unwrap()).unwrap();
    let rsa = jwks["keys"][0].clone();
    let dir = tempfile::tempdir().unwrap();
    let token = signed(json!({"alg":"RS256","kid":"mfacheck-test-rsa"}), json!({"amr":["mfa"]}));
    for (label, change) in
        [("use enc", json!({"use": "enc"})), ("key_ops without verify", json!({"key_ops": ["encrypt"]}))]
    {
        let mut key = rsa.clone();
        key.as_object_mut().unwrap().extend(change.as_object().unwrap().clone());
        let mut other = jwks["keys"][1].clone();
        other["kid"] = json!("x");
        let path = dir.path().join("k.json");
        std::fs::write(&path, json!({"keys": [key, other]}).to_string()).unwrap();
        let out = run(&["check", "--format", "ndjson", "--jwks", path.to_str().unwrap(), &token], b"");
        assert_ne!(ndjson(&out.stdout)[0]["signature"], "verified", "{label}");
    }
    let mut key = rsa.clone();
    key["kid"] = json!("1");
    let path = dir.path().join("kid.json");
    std::fs::write(&path, json!({"keys": [key]}).to_string()).unwrap();
    let numeric = signed(json!({"alg":"RS256","kid":1}), json!({"amr":["mfa"]}));
    let out = run(&["check", "--format", "ndjson", "--jwks", path.to_str().unwrap(), &numeric], b"");
    assert_ne!(ndjson(&out.stdout)[0]["signature"], "verified", "numeric kid 1 matched \"1\"");
    let string = signed(json!({"alg":"RS256","kid":"1"}), json!({"amr":["mfa"]}));
    let out = run(&["check", "--format", "ndjson", "--jwks", path.to_str().unwrap(), &string], b"");
    assert_eq!(ndjson(&out.stdout)[0]["signature"], "verified");
}

#[cfg(target_os = "linux")]
#[test]
fn help_and_version_to_a_full_device_fail() {
    for arg in ["--help", "--version", "-h", "-V"] {
        let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
        let bin = assert_cmd::cargo::cargo_bin("mfacheck");
        let status = std::process::Command::new(&bin).arg(arg).stdout(full).status().unwrap();
        assert!(!status.success(), "{arg}");
        if arg.eq_ignore_ascii_case("-h") || arg == "--help" {
            let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
            let status = std::process::Command::new(&bin).args(["check", arg]).stdout(full).status().unwrap();
            assert!(!status.success(), "check {arg}");
        }
    }
}
