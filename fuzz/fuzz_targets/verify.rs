//! Mutations of tokens the test keys signed (a header, payload or signature replaced or edited,
//! members inserted, segments of different tokens put together) through both decoders and the
//! cached and uncached checks: never `verified` unless the bytes are the signed ones, never
//! compliant under requested verification unless `verified` (`oracle/verify.rs`).
//!
//!     cargo +nightly fuzz run verify fuzz/corpus/verify fuzz/seeds/verify

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "oracle/verify.rs"]
mod oracle;

fuzz_target!(|data: &[u8]| oracle::check(data));
