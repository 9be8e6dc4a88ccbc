//! `--redact`: no personal value of a fixture appears in any output format of `check` or `decode`,
//! and the digests that stand in for them are stable across formats and commands.

use assert_cmd::Command;
use mfacheck::internal::report::redact::{PERSONAL_CLAIMS, digest};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

/// Fixtures holding every personal claim between them: v1.0 and v2.0 users, the seed (name,
/// given_name, family_name, ipaddr), a user named by email, a cross-tenant user, and an app (oid, sub).
const FILES: [&str; 7] =
    ["seed.jwt", "mfa.jwt", "v2-mfa.jwt", "v2-email.jwt", "cross-tenant.jwt", "app-only.jwt", "user-roles.jwt"];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The personal claims found in the fixtures, and their values, read with the library's decoder.
fn personal_values() -> (BTreeSet<&'static str>, BTreeSet<String>) {
    let (mut names, mut values) = (BTreeSet::new(), BTreeSet::new());
    for file in FILES {
        let token = std::fs::read_to_string(root().join("fixtures").join(file)).unwrap();
        let jws = mfacheck::internal::token::jws::decode(token.trim()).unwrap();
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
    // Every listed claim is present in the fixtures, so each is really tested.
    assert_eq!(names, BTreeSet::from(PERSONAL_CLAIMS));
    assert!(values.contains("127.0.0.1") && values.contains("Isaiah") && values.contains("Williams"));
    let upn = digest(&Value::String("Isaiah.Williams@testtestpartner.onmicrosoft.com".into()));
    for command in ["check", "decode"] {
        for format in ["text", "json", "ndjson"] {
            let plain = run(command, format, false);
            let redacted = run(command, format, true);
            assert!(plain.contains("Isaiah.Williams@testtestpartner.onmicrosoft.com"), "{command} {format}");
            for value in &values {
                assert!(!redacted.contains(value.as_str()), "{command} --format {format} --redact shows {value:?}");
            }
            assert!(redacted.contains(&upn), "{command} {format}: the stable digest stands in for the upn");
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
            if let Some(value) = p["token"][field].as_str() {
                assert_eq!(r["token"][field], digest(&Value::String(value.into())));
                p["token"][field] = r["token"][field].clone();
            }
        }
        assert_eq!(p, r, "only user and oid differ");
    }
}
