//! Long outputs people read, kept as insta snapshots (`tests/snapshots/`): a change to any of
//! them shows up as a reviewable diff (`cargo insta review`) instead of a hand-edited string.

use assert_cmd::Command;

const NOW: &str = "2026-11-26T12:00:00Z";

fn stdout(args: &[&str]) -> String {
    let out = Command::cargo_bin("mfacheck")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .args(["--color", "never"])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn check_explain_of_a_password_only_token() {
    insta::assert_snapshot!(stdout(&["check", "--explain", "--now", NOW, "@fixtures/password-only.jwt"]));
}

#[test]
fn decode_of_the_seed_token() {
    insta::assert_snapshot!(stdout(&["decode", "--now", NOW, "@fixtures/seed.jwt"]));
}

#[test]
fn scan_of_a_har_capture() {
    insta::assert_snapshot!(stdout(&["scan", "--now", NOW, "fixtures/scan/session.har"]));
}

#[test]
fn check_of_every_top_level_fixture_as_ndjson() {
    let mut paths: Vec<String> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jwt"))
        .map(|p| format!("@fixtures/{}", p.file_name().unwrap().to_string_lossy()))
        .collect();
    paths.sort();
    let mut args = vec!["check", "--format", "ndjson", "--now", NOW];
    args.extend(paths.iter().map(String::as_str));
    insta::assert_snapshot!(stdout(&args));
}
