//! mfacheck: does an Entra ID access token satisfy Partner Center's MFA rule?
//!
//! One pipeline, one direction, each step a pure function:
//! input ([`input`]) → token ([`token`]) → claims ([`claims`]) → classification ([`classify`])
//! → verdict ([`verdict`]) → report ([`report`]). Errors are values: an input that cannot be
//! decoded becomes an [`report::Outcome`] with an `error`, so a batch never stops on one bad line.
//!
//! [`hotpath`] runs the same classification and verdict for ordinary tokens without building JSON
//! values or allocating, and defers everything else to [`check_token`]; [`batch`] uses it, on
//! every core for large inputs.

pub mod batch;
pub mod claims;
pub mod classify;
pub mod cli;
pub mod clock;
pub mod corpus;
pub mod docs;
pub mod error;
pub mod exit_status;
pub mod explain;
pub mod hotpath;
pub mod input;
pub mod redact;
pub mod report;
pub mod sample;
pub mod scan;
#[cfg(feature = "serve")]
pub mod serve;
pub mod token;
pub mod verdict;
pub mod verify;

use claims::Claims;
use input::Item;
use report::{Decoded, Outcome, TokenSummary};
use verdict::Policy;
use verify::Keys;

/// Checks one input item: its token, or the reason it has none.
pub fn check_item(item: Item, policy: &Policy) -> Outcome {
    match item.token {
        Ok(token) => check_token(item.source, &token, policy),
        Err(error) => Outcome::failed(item.source, error),
    }
}

/// Decodes, classifies and judges one cleaned token.
pub fn check_token(source: String, token: &str, policy: &Policy) -> Outcome {
    let jws = match token::decode(token) {
        Ok(jws) => jws,
        Err(error) => return Outcome::failed(source, error),
    };
    let claims = Claims::new(&jws.claims);
    let class = classify::classify(&claims);
    let signature = verify::check(policy.keys.as_deref(), &jws.header, token);
    let verdict = verdict::judge(&jws, &claims, &class, policy, &signature);
    Outcome {
        source,
        kind: Some(class.kind),
        kind_reason: Some(class.reason.into_owned()),
        mfa: Some(verdict.mfa),
        compliant: verdict.compliant,
        signature,
        amr: jws.claims.get("amr").cloned(),
        token: Some(TokenSummary::new(&jws, &claims, policy.now.as_second())),
        response: verdict.response,
        findings: verdict.findings,
        error: None,
    }
}

/// The header and claims of one input item, for `decode`, and its signature check when `keys`
/// are given.
pub fn decode_item(item: Item, keys: Option<&Keys>) -> Decoded {
    let decoded = item.token.and_then(|token| token::decode(&token).map(|jws| (jws, token)));
    match decoded {
        Ok((jws, token)) => Decoded {
            source: item.source,
            signature: keys.map(|keys| keys.verify(&jws.header, &token)),
            header: Some(jws.header),
            claims: Some(jws.claims),
            error: None,
        },
        Err(error) => Decoded { source: item.source, header: None, claims: None, signature: None, error: Some(error) },
    }
}
