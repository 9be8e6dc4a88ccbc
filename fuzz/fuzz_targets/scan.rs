//! Fuzzes `scan`'s extraction on arbitrary input, as text and as a HAR (the streaming reader,
//! truncated and invalid captures included): a panic is a bug, and so is a "token" that does not
//! have a token's shape, or a count that does not add up (`oracle/scan.rs`).
//!
//!     fuzz/run.sh, or: cargo +nightly fuzz run scan fuzz/corpus/scan fixtures/scan

#![no_main]

#[path = "oracle/scan.rs"]
mod oracle;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| oracle::check(data));
