//! What several test files share.

/// A fixture file's text, trimmed (a token file ends with a newline).
pub fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap().trim().to_owned()
}
