//! mfacheck: does an Entra ID access token satisfy Partner Center's MFA rule?
//!
//! One pipeline, one direction: [`input`] (arguments, lines, paste clean-up) → [`token`]
//! (decoding into the claim slots, signatures) → [`judge`] (classification, verdict, findings:
//! the rulebook) → [`report`] (text, json, ndjson). [`run`] holds the engines that schedule the
//! pipeline over many inputs, serially or on every core; they decide nothing. Errors are values:
//! an input that cannot be decoded becomes an [`Outcome`] with an `error`, so a batch never stops
//! on one bad line. `ARCHITECTURE.md` has the map.
//!
//! The library's API for programs: [`check_token`] (one token under a [`Policy`]),
//! [`decode_token`], and the result types. The modules are public for the binary, the tests, the
//! benches and the fuzz targets; their contents are not a stable API.

pub mod clock;
#[doc(hidden)]
pub mod corpus;
pub mod error;
pub mod exit_status;
pub mod input;
pub mod judge;
pub mod report;
pub mod run;
pub mod sample;
pub mod token;

pub use error::{ErrorCode, InputError};
pub use judge::classify::Kind;
pub use judge::verdict::{Finding, Level, Mfa, Policy};
pub use judge::{Outcome, TokenSummary, check_item, check_token};
pub use token::Decoded;
pub use token::keys::Keys;
pub use token::signature::Signature;

/// Decodes one cleaned token (see [`input::clean`]): its header and claims, and its signature
/// check when `keys` are given.
pub fn decode_token(source: &str, token: &str, keys: Option<&Keys>) -> Decoded {
    token::decode_item(input::Item { source: source.to_owned(), token: Ok(token.to_owned()) }, keys)
}
