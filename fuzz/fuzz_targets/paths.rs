//! Feeds arbitrary bytes to both decoders: whenever the fast decoder reads a token, its result
//! object must equal the general decoder's, byte for byte, under a strict policy; neither may
//! panic. Built from the fixtures' tokens as seeds, it explores the JSON subset the fast decoder
//! accepts and the edges where it must defer.
//!
//!     cargo +nightly fuzz run paths fuzz/corpus/paths fixtures

#![no_main]

use libfuzzer_sys::fuzz_target;
use mfacheck::internal::judge::{Policy, check_token, judge};
use mfacheck::internal::report::json::write_outcome;
use mfacheck::internal::token::claims::Claims;
use mfacheck::internal::token::fast::Decoder;
use mfacheck::internal::token::signature::Verification;
use std::sync::LazyLock;

static POLICY: LazyLock<Policy> = LazyLock::new(|| {
    Policy::builder().now(1_800_000_000).require_valid_time(true).audience("https://api.partnercenter.microsoft.com").build()
});

fn json(outcome: &mfacheck::Outcome) -> Vec<u8> {
    let mut out = Vec::new();
    write_outcome(&mut out, outcome).unwrap();
    assert_eq!(out, serde_json::to_vec(outcome).unwrap(), "the ndjson encoder differs from serde's");
    out
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let token = text.trim();
    let policy = &*POLICY;
    let general = json(&check_token("fuzz", token, policy));
    let fast = Decoder::default().decode(token, |header, slots| {
        json(&judge("fuzz".into(), &header, &Claims::new(slots), Verification::not_checked(), policy))
    });
    if let Some(fast) = fast {
        assert!(fast == general, "paths differ:\nfast    {}\ngeneral {}", String::from_utf8_lossy(&fast), String::from_utf8_lossy(&general));
    }
});
