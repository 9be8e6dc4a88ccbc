//! What the test modules share: the built binary, fixture files, and reading result objects.
#![allow(dead_code)] // each test module uses its own part of this

pub mod fed;
#[cfg(feature = "serve")]
pub mod serve;

use serde_json::Value;
use std::path::{Path, PathBuf};

/// The repository root: tests run the binary from here, so `fixtures/…` paths resolve.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The built binary's path, for `std::process::Command` (pipes, terminals, signals).
pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_mfacheck"))
}

/// The built binary, run from the repository root, with the caller's `NO_COLOR` removed so that
/// colour follows only what a test sets.
pub fn mfacheck() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new(binary());
    cmd.current_dir(root()).env_remove("NO_COLOR");
    cmd
}

/// A fixture file's text, trimmed (a token file ends with a newline).
pub fn fixture(name: &str) -> String {
    std::fs::read_to_string(root().join("fixtures").join(name)).unwrap().trim().to_owned()
}

/// The finding codes of a result object, in order. A result without a findings array (an error
/// result) is a test failure, not an empty list: an absent finding must not pass by accident.
pub fn codes(result: &Value) -> Vec<&str> {
    let findings = result["findings"].as_array().unwrap_or_else(|| panic!("no findings in {result}"));
    findings.iter().map(|f| f["code"].as_str().unwrap()).collect()
}
