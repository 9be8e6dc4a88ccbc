//! Reading a token: the strict general decoder ([`jws`]), the fast one for ordinary tokens
//! ([`fast`]), the claim slots both fill and what they mean ([`claims`]), and signatures
//! ([`signature`], [`keys`]).

pub mod audience;
pub mod claims;
pub mod fast;
pub mod issuer;
pub mod jws;
pub mod keys;
pub mod signature;

use crate::error::InputError;
use crate::exit_status::ExitStatus;
use crate::input::Item;
use keys::Keys;
use serde::Serialize;
use serde_json::{Map, Value};
use signature::Verification;

/// One input's header and claims, for `decode`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Decoded {
    pub source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header: Option<Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claims: Option<Map<String, Value>>,
    /// Why the token is not a valid compact JWS although its claims could be read (a padded or
    /// standard-alphabet documentation sample).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
    /// Present only when a key was given (`--jwks`, `--key`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<Verification>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<InputError>,
}

impl Decoded {
    /// 2 for an input that is not a token, 1 for a signature check that failed, else 0.
    pub fn exit_status(&self) -> ExitStatus {
        if self.error.is_some() {
            ExitStatus::Error
        } else if self.signature.as_ref().is_some_and(Verification::failed) {
            ExitStatus::NonCompliant
        } else {
            ExitStatus::Compliant
        }
    }
}

/// The header and claims of one input item, for `decode`, and its signature check when `keys`
/// are given.
pub fn decode_item(item: Item, keys: Option<&Keys>) -> Decoded {
    let decoded = item.token.and_then(|token| jws::decode_lenient(&token).map(|jws| (jws, token)));
    match decoded {
        Ok(((jws, warning), token)) => Decoded {
            source: item.source,
            signature: keys.map(|keys| keys.verify(&jws.header, &token, &claims::Claims::of_map(&jws.claims))),
            header: Some(jws.header),
            claims: Some(jws.claims),
            warning,
            error: None,
        },
        Err(error) => Decoded {
            source: item.source,
            header: None,
            claims: None,
            warning: None,
            signature: None,
            error: Some(error),
        },
    }
}
