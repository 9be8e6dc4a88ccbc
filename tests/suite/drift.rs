//! Guards against drift between the two decoders and between the engines: the fast decoder and
//! the general one must give the same result object for every token, under every policy, and the
//! parallel engine the same output as the serial one and as each token checked alone. Payloads
//! are built from every claim name the rulebook reads (`Claim::ALL`, all of them), so a claim
//! read one way on one path and another way on the other fails here.

use assert_cmd::Command;
use mfacheck::internal::judge::{Policy, check_token, judge};
use mfacheck::internal::report::{Format, Printer};
use mfacheck::internal::sample::encode_raw;
use mfacheck::internal::token::claims::{Claim, Claims};
use mfacheck::internal::token::fast::Decoder;
use mfacheck::internal::token::keys::Keys;
use mfacheck::internal::token::signature::Verification;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use std::cell::RefCell;
use std::sync::Arc;

const NOW: i64 = 1_780_000_000;
const PC: &str = "https://api.partnercenter.microsoft.com";
const ISS: &str = "https://sts.windows.net/df845f1a-7b35-40a2-ba78-6481de91f8ae/";

const JWKS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/keys/jwks.json");

/// One policy compared: as the library takes it, and as the binary's options say it (one row, so
/// no policy can be compared on one side and silently dropped on the other).
struct Case {
    name: &'static str,
    policy: Policy,
    redact: bool,
    args: Vec<&'static str>,
}

fn policies() -> Vec<Case> {
    let at = || Policy::builder().now(NOW);
    let strict = at().require_valid_time(true).leeway(60).build();
    let expect = at().audience(PC).audience("fa3d9a0c-3fb0-42cc-9193-47c7ecd2edbd").issuer(ISS).build();
    let keys = Keys::from_jwks(&std::fs::read(JWKS).unwrap(), "jwks.json").unwrap();
    let jwks = at().keys(Arc::new(keys)).build();
    let case = |name, policy, redact, args| Case { name, policy, redact, args };
    vec![
        case("default", at().build(), false, vec![]),
        case("require-valid-time", strict, false, vec!["--require-valid-time", "--leeway", "60"]),
        case(
            "audience-issuer",
            expect,
            false,
            vec!["--audience", PC, "--audience", "fa3d9a0c-3fb0-42cc-9193-47c7ecd2edbd", "--issuer", ISS],
        ),
        case("redact", at().build(), true, vec!["--redact"]),
        case("jwks", jwks, false, vec!["--jwks", JWKS]),
    ]
}

/// `--redact`'s masks are keyed per process: each distinct mask becomes `redacted:N`, N in order
/// first seen, so two processes' outputs compare equal when their values mask alike.
fn relabel_masks(text: &str) -> String {
    let mut seen: Vec<&str> = Vec::new();
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("redacted:") {
        let hex = rest[at + 9..].bytes().take_while(u8::is_ascii_hexdigit).count();
        let mask = &rest[at..at + 9 + hex];
        let n = seen.iter().position(|m| *m == mask).unwrap_or_else(|| {
            seen.push(mask);
            seen.len() - 1
        });
        out.push_str(&rest[..at]);
        out.push_str(&format!("redacted:{n}"));
        rest = &rest[at + 9 + hex..];
    }
    out + rest
}

/// One result object as ndjson, through the printer (so `--redact` applies as in the binary).
fn ndjson(outcome: &mfacheck::Outcome, redact: bool) -> String {
    let mut printer = Printer::new(Vec::new(), Format::Ndjson, false, NOW).redacting(redact);
    printer.outcome(outcome).unwrap();
    String::from_utf8(printer.into_parts().0).unwrap()
}

thread_local! {
    static DECODER: RefCell<Decoder> = RefCell::new(Decoder::default());
}

/// The fast path's result, or `None` when the fast decoder defers to the general one.
fn fast(token: &str, policy: &Policy, redact: bool) -> Option<String> {
    DECODER.with_borrow_mut(|decoder| {
        decoder.decode(token, |header, slots| {
            let claims = Claims::new(slots);
            // As `Checker` does: the header is the general decoder's, the claims this decoder's.
            let signature =
                policy.keys().map_or_else(Verification::not_checked, |keys| keys.check_token(token, &claims));
            ndjson(&judge("arg:1".into(), &header, &claims, signature, policy), redact)
        })
    })
}

fn general(token: &str, policy: &Policy, redact: bool) -> String {
    ndjson(&check_token("arg:1", token, policy), redact)
}

/// A value a claim may have: the values the rules look at, and the shapes that test the readers.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("\"mfa\"".to_string()),
        Just("\"pwd\"".to_string()),
        Just("\"app\"".to_string()),
        Just("\"user\"".to_string()),
        Just("\"1.0\"".to_string()),
        Just("\"2.0\"".to_string()),
        Just("\"0\"".to_string()),
        Just("\"1\"".to_string()),
        Just("\"2\"".to_string()),
        Just(format!("\"{PC}\"")),
        Just("\"fa3d9a0c-3fb0-42cc-9193-47c7ecd2edbd\"".to_string()),
        Just(format!("\"{ISS}\"")),
        Just("\"https://sts.windows.net/00000000-0000-0000-0000-000000000001/\"".to_string()),
        Just("\"live.com\"".to_string()),
        // Which token it is: B2C issuer and policy, the consumer tenant, an own-id audience, Graph.
        Just("\"https://contoso.b2clogin.com/00000000-0000-0000-0000-000000000001/v2.0/\"".to_string()),
        Just("\"B2C_1_signupsignin1\"".to_string()),
        Just("\"https://sts.windows.net/9188040d-6c67-4c5b-b112-36a304b66dad/\"".to_string()),
        Just("\"00000000-0000-0000-0000-000000000001\"".to_string()),
        Just("\"00000003-0000-0000-c000-000000000000\"".to_string()),
        Just("\"638700000000000000.YzBkNzFhZjMtZTY1Ni00\"".to_string()),
        Just("\"someone@contoso.com\"".to_string()),
        Just("\"same-id\"".to_string()),
        Just("\"ü\\u00fc\"".to_string()),
        Just("1779990000".to_string()),
        Just("1780000100".to_string()),
        // Within the leeway of the require-valid-time policy, on either side of now.
        Just("1779999970".to_string()),
        Just("1780000030".to_string()),
        Just("1780999999".to_string()),
        Just("0".to_string()),
        Just("-5".to_string()),
        Just("1.5".to_string()),
        Just("true".to_string()),
        Just("null".to_string()),
        Just("[]".to_string()),
        Just("[\"pwd\",\"mfa\"]".to_string()),
        Just("[\"pwd\"]".to_string()),
        Just("[\"rsa\",\"ngcmfa\",\"fed\",\"wia\"]".to_string()),
        Just("[\"MFA\",\"nomfa\"]".to_string()),
        Just(format!("[\"{PC}\",\"x\"]")),
        Just("[\"mfa\",1]".to_string()),
        Just("{\"a\":1}".to_string()),
    ]
}

/// A claim name: every one the rulebook reads, and some it does not.
fn name() -> impl Strategy<Value = String> {
    let read: Vec<String> = Claim::ALL.iter().map(|claim| claim.name().to_string()).collect();
    prop_oneof![
        8 => proptest::sample::select(read),
        1 => Just("aio".to_string()),
        1 => Just("wids".to_string()),
        1 => Just("xms_tcdt".to_string()),
    ]
}

fn payload() -> impl Strategy<Value = String> {
    proptest::collection::vec((name(), value()), 0..14).prop_map(|members| {
        let mut seen = std::collections::HashSet::new();
        let body: Vec<String> = members
            .into_iter()
            .filter(|(name, _)| seen.insert(name.clone()))
            .map(|(name, value)| format!("\"{name}\":{value}"))
            .collect();
        format!("{{{}}}", body.join(","))
    })
}

/// The signature segment that stands for "signed by the test RSA key" in [`header`].
const SIGNED: &str = "SIGNED";

/// A token of `head`, `payload` and `sig` ([`SIGNED`]: a real RS256 signature by the test key).
fn token(head: &str, payload: &str, sig: &str) -> String {
    if sig != SIGNED {
        return encode_raw(head.as_bytes(), payload.as_bytes(), sig);
    }
    thread_local! {
        static KEY: jsonwebtoken::EncodingKey = jsonwebtoken::EncodingKey::from_rsa_pem(
            &std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/keys/test-rsa.pem")).unwrap(),
        )
        .unwrap();
    }
    let unsigned = encode_raw(head.as_bytes(), payload.as_bytes(), "");
    let input = unsigned.trim_end_matches('.');
    let signature =
        KEY.with(|key| jsonwebtoken::crypto::sign(input.as_bytes(), key, jsonwebtoken::Algorithm::RS256).unwrap());
    format!("{input}.{signature}")
}

fn header() -> impl Strategy<Value = (&'static str, &'static str)> {
    // 342 characters: the 256 bytes of a 2048-bit RSA signature.
    let sig_256: &'static str = "A".repeat(342).leak();
    prop_oneof![
        // Signed by the key of the `jwks` policy: verified there, whatever the payload.
        Just((r#"{"typ":"JWT","alg":"RS256","kid":"mfacheck-test-rsa"}"#, SIGNED)),
        // That key named, a signature it did not make: invalid, or not-checked for Graph alone.
        Just((r#"{"alg":"RS256","kid":"mfacheck-test-rsa","nonce":"n0"}"#, sig_256)),
        Just((r#"{"typ":"JWT","alg":"RS256","kid":"k1"}"#, "c2lnbmF0dXJl")),
        Just((r#"{"alg":"none"}"#, "")),
        Just((r#"{"alg":"ES256","kid":"k2"}"#, "c2ln")),
        // A Graph token's header nonce; a full-length RS256 signature (no truncated-signature).
        Just((r#"{"alg":"RS256","nonce":"n0","kid":"k1"}"#, "c2lnbmF0dXJl")),
        Just((r#"{"alg":"RS256"}"#, sig_256)),
        // Extensions: refused by the general decoder, deferred by the fast one.
        Just((r#"{"alg":"RS256","kid":"k1","crit":["exp"],"exp":1}"#, "c2ln")),
        Just((r#"{"alg":"RS256","crit":[]}"#, "c2ln")),
        Just((r#"{"alg":"RS256","b64":false,"crit":["b64"]}"#, "c2ln")),
        Just((r#"{"alg":"RS256","b64":false}"#, "c2ln")),
        Just((r#"{"alg":"RS256","b64":true}"#, "c2ln")),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]
    #[test]
    fn fast_and_general_paths_agree_on_every_claim_the_rules_read(payload in payload(), (head, sig) in header()) {
        let token = token(head, &payload, sig);
        for Case { name, policy, redact, .. } in policies() {
            if let Some(fast) = fast(&token, &policy, redact) {
                prop_assert_eq!(&fast, &general(&token, &policy, redact), "policy {} payload {}", name, payload);
            }
        }
    }
}

/// The comparison above is only worth something if most tokens take the fast path.
#[test]
fn most_generated_tokens_take_the_fast_path() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let (mut taken, mut total) = (0, 0);
    for _ in 0..500 {
        let payload = payload().new_tree(&mut runner).unwrap().current();
        let token = encode_raw(br#"{"alg":"RS256"}"#, payload.as_bytes(), "c2ln");
        total += 1;
        taken += usize::from(fast(&token, &policies()[0].policy, false).is_some());
    }
    assert!(taken * 2 > total, "{taken} of {total} took the fast path");
}

/// Every claim the rulebook reads is filled by the fast decoder: a token carrying one claim the
/// fast path skipped would show it as absent there and present on the general path.
#[test]
fn each_claim_alone_agrees() {
    let values = ["\"mfa\"", "\"app\"", "1780000100", "[\"mfa\"]", format!("\"{PC}\"").leak(), "\"x@y\"", "\"1\""];
    for claim in Claim::ALL {
        for value in values {
            let payload = format!("{{\"{}\":{value}}}", claim.name());
            let token = encode_raw(br#"{"alg":"RS256"}"#, payload.as_bytes(), "c2ln");
            for Case { name, policy, redact, .. } in policies() {
                if let Some(fast) = fast(&token, &policy, redact) {
                    assert_eq!(fast, general(&token, &policy, redact), "{name}: {payload}");
                }
            }
        }
    }
}

/// The same tokens through the built binary: a batch large enough for the parallel engine, the
/// serial engine (`-j 1`), and each token checked alone on the general path, under each policy.
#[test]
fn engines_agree_through_the_binary() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut lines = Vec::new();
    for i in 0..3000 {
        let payload = payload().new_tree(&mut runner).unwrap().current();
        let (head, sig) = header().new_tree(&mut runner).unwrap().current();
        lines.push(token(head, &payload, sig));
        if i % 500 == 7 {
            lines.push("not a token".into());
        }
    }
    // A token folded at 76 columns last: one result, its source the line range.
    let folded = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/mfa.jwt")).unwrap();
    let folded = folded.trim();
    let fold: Vec<&str> = folded.as_bytes().chunks(76).map(|c| std::str::from_utf8(c).unwrap()).collect();
    let text = lines.join("\n") + "\n" + &fold.join("\n") + "\n";
    assert!(lines.len() > 4 * mfacheck::internal::input::lines::CHUNK_LINES, "several chunks");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.txt");
    std::fs::write(&path, &text).unwrap();
    let file = format!("@{}", path.display());
    let name = path.display().to_string();
    let mut compared = Vec::new();
    for Case { name: label, policy, redact, args } in policies() {
        let mut alone: String = lines
            .iter()
            .enumerate()
            .map(|(i, token)| {
                let mut outcome = check_token(&format!("{name}:{}", i + 1), token, &policy);
                outcome.source = format!("{name}:{}", i + 1).into();
                ndjson(&outcome, redact)
            })
            .collect();
        let range = format!("{name}:{}-{}", lines.len() + 1, lines.len() + fold.len());
        alone.push_str(&ndjson(&check_token(&range, folded, &policy), redact));
        for threads in ["2", "1"] {
            let out = Command::cargo_bin("mfacheck")
                .unwrap()
                .args(["check", "--format", "ndjson", "--now", &NOW.to_string(), "-j", threads])
                .args(&args)
                .arg(&file)
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(2), "{label}: the batch has bad lines");
            let out = String::from_utf8(out.stdout).unwrap();
            assert!(relabel_masks(&out) == relabel_masks(&alone), "{label}, -j {threads}: differs from alone");
        }
        compared.push(label);
    }
    // Every policy ran, signature checks included.
    assert_eq!(compared, ["default", "require-valid-time", "audience-issuer", "redact", "jwks"]);
}
