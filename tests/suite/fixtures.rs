//! Every fixture in `fixtures/manifest.json` gets the verdict, exit status, findings or error the
//! manifest (and `fixtures/README.md`) promises, from the built binary.

use assert_cmd::Command;
use serde_json::Value;
use std::path::Path;

/// A fixed clock, so expiry findings do not depend on the day the tests run.
const NOW: &str = "2026-11-26T12:00:00Z";

fn manifest() -> Vec<Value> {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/manifest.json")).unwrap();
    serde_json::from_str::<Value>(&text).unwrap().as_array().unwrap().clone()
}

/// Runs the manifest's command (`check`, or `scan` for captures) on one fixture, as JSON.
fn run_json(command: &str, file: &str) -> (i32, Vec<Value>) {
    let out = Command::cargo_bin("mfacheck")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([command, "--format", "json", "--now", NOW, &format!("@fixtures/{file}")])
        .output()
        .unwrap();
    let results: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{file}: {e}"));
    (out.status.code().unwrap(), results.as_array().unwrap().clone())
}

#[test]
fn every_fixture_gets_its_documented_verdict() {
    let entries = manifest();
    assert!(entries.len() >= 40, "the manifest lists every fixture");
    for entry in entries {
        let file = entry["file"].as_str().unwrap();
        let (code, results) = run_json(entry["command"].as_str().unwrap_or("check"), file);
        assert_eq!(i64::from(code), entry["exit"].as_i64().unwrap(), "exit status of {file}");
        if entry["kind"].is_null() && entry["error"].is_null() {
            continue; // a multi-token input: its exit status is what the manifest promises
        }
        assert_eq!(results.len(), 1, "{file} holds one token");
        let result = &results[0];
        assert_eq!(result["kind"], entry["kind"], "kind of {file}");
        assert_eq!(result["mfa"], entry["mfa"], "mfa of {file}");
        assert_eq!(result["error"]["code"], entry["error"], "error of {file}");
        if entry["error"].is_null() {
            let codes: Vec<&Value> = result["findings"].as_array().unwrap().iter().map(|f| &f["code"]).collect();
            let expected: Vec<&Value> = entry["findings"].as_array().unwrap().iter().collect();
            assert_eq!(codes, expected, "findings of {file}");
            assert_eq!(result["compliant"], entry["exit"] == 0, "compliant of {file}");
        } else {
            assert_eq!(result["compliant"], false);
            assert!(result["kind"].is_null() && result["mfa"].is_null() && result["token"].is_null());
        }
    }
}

#[test]
fn errors_never_echo_a_whole_token() {
    for entry in manifest().iter().filter(|e| !e["error"].is_null()) {
        let file = entry["file"].as_str().unwrap();
        let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(file))
            .unwrap_or_default();
        let (_, results) = run_json("check", file);
        let message = results[0]["error"]["message"].as_str().unwrap();
        for token in text.lines().filter(|l| l.len() > 12) {
            assert!(!message.contains(token), "{file}: the message echoes the token");
            assert!(!message.contains(&token[..13]), "{file}: more than 12 characters of the token in {message:?}");
        }
    }
}
