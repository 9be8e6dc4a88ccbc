//! What `scan` must hold on any input, as text and as a HAR (the streaming reader, truncated and
//! invalid captures included): no panic, no "token" without a token's shape, and counts that add
//! up. Shared by the fuzz target and by `tests/fuzz_regressions.rs`, which replays the inputs
//! the fuzzer once found.

use mfacheck::internal::input::scan::scan_stream;

pub fn check(data: &[u8]) {
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
    let url = |s: &str| s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'));
    for sighting in &sightings {
        let Ok(token) = &sighting.token else { continue };
        assert!(token.starts_with("eyJ"), "{token:?}");
        let segments: Vec<&str> = token.split('.').collect();
        assert!(segments.len() >= 3, "{token:?}");
        // A malformed candidate (4 segments, or 6 and more) is taken whole so it gets `check`'s
        // error: it never comes out as a token judged on its prefix.
        let jws_or_jwe = segments.len() == 3 || (segments.len() == 5 && segments[2..].iter().all(|s| !s.is_empty()));
        assert!(jws_or_jwe || mfacheck::token::jws::decode(token).is_err(), "{token:?}");
        // base64url, but for a re-encoded documentation sample: `+`, `/` or `=` in its header or
        // payload (and then anywhere), or `+` or `=` in its signature (scan's rule,
        // `scan::token_end`).
        let loose =
            |s: &str| s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'+' | b'/' | b'='));
        assert!(segments.iter().all(|s| loose(s)), "{token:?}");
        let padded_signature = segments[2..].iter().any(|s| s.contains(['+', '=']));
        assert!(
            segments.iter().all(|s| url(s)) || !url(segments[0]) || !url(segments[1]) || padded_signature,
            "{token:?}"
        );
        // JSON escapes can spell a token's characters, but never its dots and letters apart:
        // a token found in a HAR string is in the input, or spelled with escapes.
        assert!(sighting.count >= 1);
    }
}
