//! Fuzzes the whole pipeline on arbitrary input: reading lines and JSON wrappers, decoding,
//! classification, the verdict with every check switched on (signature, time, issuer,
//! audience), redaction and the JSON rendering. A panic is a bug, and so is an app+user token
//! found compliant without the exact element "mfa" in an amr array of strings.
//!
//!     cargo +nightly fuzz run decode fuzz/corpus/decode fixtures fixtures/attack

#![no_main]

use libfuzzer_sys::fuzz_target;
use mfacheck::Kind;
use mfacheck::internal::input::{self, Item};
use mfacheck::Policy;
use mfacheck::{Keys, Signature};
use serde_json::{Value, json};
use std::sync::{Arc, LazyLock};

static POLICY: LazyLock<Policy> = LazyLock::new(|| {
    let jwks = include_bytes!("../../fixtures/keys/jwks.json");
    Policy::builder()
        .now(1_800_000_000)
        .require_valid_time(true)
        .issuer("https://sts.windows.net/df845f1a-7b35-40a2-ba78-6481de91f8ae/")
        .audience("https://api.partnercenter.microsoft.com")
        .keys(Arc::new(Keys::from_jwks(jwks, "jwks.json").unwrap()))
        .build()
});

fuzz_target!(|data: &[u8]| {
    let policy = &*POLICY;
    let _ = input::read_stream(data, "fuzz", &mut |item: Item| {
        let outcome = mfacheck::internal::judge::check_item(item.clone(), policy);
        if outcome.kind == Some(Kind::AppUser) && outcome.compliant {
            let amr = serde_json::to_value(&outcome.amr).unwrap();
            let exact = amr.as_array().is_some_and(|items| {
                items.iter().all(Value::is_string) && items.contains(&json!("mfa"))
            });
            assert!(exact, "compliant app+user token without the exact mfa element: {:?}", outcome.amr);
            // Compliance under this policy needs a verified signature from a fixture key.
            assert_eq!(outcome.signature.signature, Signature::Verified);
        }
        let _ = serde_json::to_string(&mfacheck::internal::report::redact::outcome(&outcome)).unwrap();
        let decoded = mfacheck::internal::token::decode_item(item, policy.keys());
        let _ = serde_json::to_string(&mfacheck::internal::report::redact::decoded(&decoded)).unwrap();
        Ok(())
    });
});
