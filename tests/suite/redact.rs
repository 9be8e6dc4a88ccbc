//! `--redact`: no personal value of a fixture appears in any output format of `check` or `decode`,
//! and the masks that stand in for them are keyed per run (SPEC §3).

use crate::support::root;
use assert_cmd::Command;
use mfacheck::report::redact::PERSONAL_CLAIMS;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::Path;

/// Fixtures holding every personal claim between them: v1.0 and v2.0 users, the seed (name,
/// given_name, family_name, ipaddr), a user named by email, a cross-tenant user, and an app (oid, sub).
const FILES: [&str; 7] =
    ["seed.jwt", "mfa.jwt", "v2-mfa.jwt", "v2-email.jwt", "cross-tenant.jwt", "app-only.jwt", "user-roles.jwt"];

/// The personal claims found in the fixtures, and their values, read with the library's decoder.
fn personal_values() -> (BTreeSet<&'static str>, BTreeSet<String>) {
    let (mut names, mut values) = (BTreeSet::new(), BTreeSet::new());
    for file in FILES {
        let jws = mfacheck::token::jws::decode(&crate::support::fixture(file)).unwrap();
        for name in PERSONAL_CLAIMS {
            if let Some(value) = jws.claims.get(name) {
                names.insert(name);
                values.insert(value.as_str().map_or_else(|| value.to_string(), str::to_owned));
            }
        }
    }
    (names, values)
}

fn run(command: &str, format: &str, redact: bool) -> String {
    let mut cmd = Command::cargo_bin("mfacheck").unwrap();
    cmd.current_dir(root()).args([command, "--format", format, "--color", "always"]);
    if redact {
        cmd.arg("--redact");
    }
    cmd.args(FILES.map(|f| format!("@fixtures/{f}")));
    let out = cmd.output().unwrap();
    assert!(out.status.code().is_some_and(|c| c < 2), "{command} {format}: {}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stderr.is_empty());
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn no_personal_value_appears_in_any_format() {
    let (names, values) = personal_values();
    // The claims the fixtures carry (the others: `every_identifying_claim_is_masked_everywhere`).
    assert!(names.len() >= 10, "{names:?}");
    assert!(values.contains("127.0.0.1") && values.contains("Isaiah") && values.contains("Williams"));
    for command in ["check", "decode"] {
        for format in ["text", "json", "ndjson"] {
            let plain = run(command, format, false);
            let redacted = run(command, format, true);
            assert!(plain.contains("Isaiah.Williams@testtestpartner.onmicrosoft.com"), "{command} {format}");
            for value in &values {
                assert!(!redacted.contains(value.as_str()), "{command} --format {format} --redact shows {value:?}");
            }
            assert!(is_mask(&redacted[redacted.find("redacted:").unwrap()..][..MASK_LEN]), "{command} {format}");
        }
    }
}

#[test]
fn explanations_and_scan_results_are_redacted_too() {
    let (_, values) = personal_values();
    let files: Vec<String> = FILES.iter().map(|f| format!("@fixtures/{f}")).collect();
    let scan_files = ["fixtures/scan/session.har", "fixtures/scan/server.log", "fixtures/scan/curl-verbose.txt"];
    let with = |head: &[&str], tail: &[String]| -> Vec<String> {
        head.iter().map(|s| s.to_string()).chain(tail.iter().cloned()).collect()
    };
    let scans: Vec<String> = scan_files.iter().map(|s| s.to_string()).collect();
    let runs = [
        with(&["check", "--explain"], &files),
        with(&["decode", "--explain"], &files),
        with(&["scan", "--explain"], &scans),
        with(&["scan", "--format", "json"], &scans),
    ];
    for args in runs {
        let output = |redact: bool| {
            let mut cmd = Command::cargo_bin("mfacheck").unwrap();
            cmd.current_dir(root()).args(&args).arg("--color=never");
            if redact {
                cmd.arg("--redact");
            }
            String::from_utf8(cmd.output().unwrap().stdout).unwrap()
        };
        let plain = output(false);
        assert!(plain.contains("Isaiah.Williams@testtestpartner.onmicrosoft.com"), "{args:?}: {plain}");
        let redacted = output(true);
        assert!(redacted.contains("redacted:"), "{args:?}");
        for value in &values {
            assert!(!redacted.contains(value.as_str()), "{args:?} --redact shows {value:?}");
        }
    }
}

#[test]
fn redaction_changes_nothing_else() {
    let plain: Vec<Value> = serde_json::from_str(&run("check", "json", false)).unwrap();
    let redacted: Vec<Value> = serde_json::from_str(&run("check", "json", true)).unwrap();
    for (mut p, r) in plain.into_iter().zip(redacted) {
        for field in ["user", "oid"] {
            if p["token"][field].is_string() {
                assert!(is_mask(r["token"][field].as_str().unwrap()), "{r}");
                p["token"][field] = r["token"][field].clone();
            }
        }
        assert_eq!(p, r, "only user and oid differ");
    }
}

/// `redacted:` and 12 hex digits.
const MASK_LEN: usize = "redacted:".len() + 12;

fn is_mask(text: &str) -> bool {
    text.len() == MASK_LEN
        && text.strip_prefix("redacted:").is_some_and(|hex| hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// SPEC §3: every personal or identifying claim, each with a value found nowhere else.
const IDENTIFYING: [(&str, &str); 18] = [
    ("upn", "upn.person@contoso.example"),
    ("unique_name", "unique.person@contoso.example"),
    ("preferred_username", "preferred.person@contoso.example"),
    ("email", "email.person@contoso.example"),
    ("verified_primary_email", "primary.person@contoso.example"),
    ("verified_secondary_email", "secondary.person@contoso.example"),
    ("name", "Quintessa Vandermolen"),
    ("given_name", "Quintessa"),
    ("family_name", "Vandermolen"),
    ("oid", "0b8f4c2e-7d1a-4e5b-9c3f-2a6d8e1f0b44"),
    ("sub", "Zk3q9VtPmW2xYr7LsN4bHc8dJf6gA1eK0uTiOoQwE5y"),
    ("home_oid", "5c7e9a1b-3d2f-4e6a-8b0c-1d2e3f4a5b6c"),
    ("puid", "10037FFE8A1B2C3D"),
    ("altsecid", "5::10037FFE9D8C7B6A"),
    ("onprem_sid", "S-1-5-21-3623811015-3361044348-30300820-1013"),
    ("login_hint", "O.CiQ0YmE4ZGhint-login-value"),
    ("ipaddr", "203.0.113.77"),
    ("deviceid", "7f3e1d2c-4b5a-6978-8a9b-0c1d2e3f4a5b"),
];

/// An app+user token carrying every identifying claim.
fn identifying_token() -> String {
    let mut claims = mfacheck::sample::seed_claims();
    mfacheck::sample::apply(&mut claims, IDENTIFYING.map(|(name, value)| (name.to_owned(), json!(value))));
    mfacheck::sample::encode(&mfacheck::sample::header(None, None), &claims, None).unwrap()
}

fn output(args: &[&str], dir: &Path) -> String {
    let out =
        Command::cargo_bin("mfacheck").unwrap().current_dir(dir).args(args).arg("--color=never").output().unwrap();
    assert!(out.status.code().is_some_and(|c| c < 2), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap() + &String::from_utf8(out.stderr).unwrap()
}

#[test]
fn the_list_is_the_specs() {
    let listed: BTreeSet<&str> = PERSONAL_CLAIMS.iter().copied().collect();
    assert_eq!(listed, IDENTIFYING.iter().map(|(name, _)| *name).collect());
}

#[test]
fn every_identifying_claim_is_masked_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("t.jwt"), identifying_token() + "\n").unwrap();
    std::fs::write(dir.path().join("t.log"), format!("Authorization: Bearer {}\n", identifying_token())).unwrap();
    let runs: [&[&str]; 8] = [
        &["check", "--format", "json", "@t.jwt"],
        &["check", "--explain", "@t.jwt"],
        &["decode", "--format", "json", "@t.jwt"],
        &["decode", "--format", "ndjson", "@t.jwt"],
        &["decode", "--explain", "@t.jwt"],
        &["decode", "@t.jwt"],
        &["scan", "--explain", "t.log"],
        &["scan", "--format", "json", "t.log"],
    ];
    // Shown plainly without --redact (so the test is not vacuous)…
    let plain = output(&["decode", "--format", "json", "@t.jwt"], dir.path());
    for (name, value) in IDENTIFYING {
        assert!(plain.contains(value), "{name} is not shown by decode: {plain}");
    }
    // …and never with it.
    for args in runs {
        let redacted = output(&[args, &["--redact"]].concat(), dir.path());
        assert!(redacted.contains("redacted:"), "{args:?}");
        for (name, value) in IDENTIFYING {
            assert!(!redacted.contains(value), "{args:?} --redact shows {name}: {redacted}");
        }
    }
}

/// A keyed hash with a key of the run: equal values mask alike within a run, and differently in
/// another run (an unkeyed hash of a known address or a /16 of IPs is reversed by trying them).
#[test]
fn masks_are_keyed_per_run() {
    let dir = tempfile::tempdir().unwrap();
    let mint = |n: i64| {
        let mut claims = mfacheck::sample::seed_claims();
        mfacheck::sample::apply(&mut claims, [("n".to_owned(), json!(n))]);
        mfacheck::sample::encode(&mfacheck::sample::header(None, None), &claims, None).unwrap()
    };
    std::fs::write(dir.path().join("t.txt"), format!("{}\n{}\n", mint(1), mint(2))).unwrap();
    let users = || -> Vec<String> {
        output(&["check", "--format", "ndjson", "--redact", "@t.txt"], dir.path())
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap()["token"]["user"].as_str().unwrap().to_owned())
            .collect()
    };
    let (first, second) = (users(), users());
    assert_eq!(first.len(), 2);
    assert!(is_mask(&first[0]), "{first:?}");
    assert_eq!(first[0], first[1], "one run: the same user, the same mask");
    assert_eq!(second[0], second[1]);
    assert_ne!(first[0], second[0], "another run, another key");
    // Not the unkeyed SHA-256 of old (its first 8 hex digits, `7c33b2e6` for alice@contoso.com).
    let sha = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, b"Isaiah.Williams@testtestpartner.onmicrosoft.com");
    let old: String = sha.as_ref()[..4].iter().map(|b| format!("{b:02x}")).collect();
    assert!(!first[0].contains(&old) && !second[0].contains(&old));
}

#[test]
fn serve_masks_every_identifying_claim_on_the_page_and_in_the_log() {
    let token = identifying_token();
    let mut server = crate::support::serve::Server::start(&["--now", "1549090000", "--redact"]);
    let body = json!({ "text": token }).to_string();
    let page = server.request(&format!(
        "POST /_mfacheck/check HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        server.addr,
        body.len()
    ));
    assert_eq!(page.status(), 200);
    let page = String::from_utf8(page.body).unwrap();
    assert!(page.contains("onprem_sid"), "the page explains the claims: {page}");
    let gate = String::from_utf8(server.get_with_token("/", &token).body).unwrap();
    server.log_lines(2);
    let log = server.stop();
    for (name, value) in IDENTIFYING {
        for (what, text) in [("page", &page), ("gate", &gate), ("log", &log)] {
            assert!(!text.contains(value), "the {what} shows {name}: {text}");
        }
    }
}

/// Secret parameters, whatever their case or percent-encoding, in the HAR request shown.
#[test]
fn scan_redact_masks_secret_parameters_in_any_spelling() {
    let token = identifying_token();
    let url = "https://login.example/cb?Client_Secret=SECRET1&CODE=SECRET2&%63ode=SECRET3&sig=SECRET4\
               &api_key=SECRET5&token=SECRET6&client_assertion=SECRET7&state=keep&Refresh_Token=SECRET8\
               &cl%69ent_secret=SECRET9&PassWord=SECRETA&%41ccess_token=SECRETB#ID_TOKEN=SECRETC";
    let capture = json!({"log": {"entries": [{"request": {"method": "POST", "url": url,
        "headers": [{"name": "Authorization", "value": format!("Bearer {token}")}]}}]}});
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.har"), capture.to_string()).unwrap();
    for format in ["text", "json", "ndjson"] {
        let out = output(&["scan", "--redact", "--format", format, "s.har"], dir.path());
        assert!(!out.contains("SECRET"), "{format}: {out}");
        assert!(out.contains("state=keep") && out.contains("Client_Secret=***") && out.contains("%63ode=***"), "{out}");
    }
}
