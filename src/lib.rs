//! mfacheck: does an Entra ID access token satisfy Partner Center's MFA rule?
//!
//! Decodes a token offline, says whether it is app-only or app+user, whether `mfa` is in its
//! `amr` where Partner Center requires it, what else is wrong (the [`Finding`]s) and the 401
//! Partner Center would send. Nothing here makes a network request unless keys are fetched.
//!
//! ```
//! use mfacheck::{Mfa, Policy, check_token};
//!
//! let token = include_str!("../fixtures/password-only.jwt").trim();
//! let policy = Policy::builder().now(1_700_000_000).build();
//! let outcome = check_token("example", token, &policy);
//! assert_eq!(outcome.mfa, Some(Mfa::Missing));
//! assert!(!outcome.compliant);
//! assert!(outcome.findings.iter().any(|f| f.code == mfacheck::Code::PasswordOnly));
//! ```
//!
//! The API for programs is what this page lists: [`check_token`] (one token under a [`Policy`]),
//! [`decode_token`], [`Keys`] and the result types. Errors are values: an input that cannot be
//! decoded is an [`Outcome`] with an `error` ([`InputError`]). `ARCHITECTURE.md` has the map of
//! the code.

mod checked_json;
#[doc(hidden)]
pub mod clock;
#[doc(hidden)]
pub mod corpus;
#[doc(hidden)]
pub mod error;
#[doc(hidden)]
pub mod exit_status;
#[doc(hidden)]
pub mod input;
#[doc(hidden)]
pub mod judge;
#[doc(hidden)]
pub mod net;
#[doc(hidden)]
pub mod redeem;
#[doc(hidden)]
pub mod report;
#[doc(hidden)]
pub mod run;
#[doc(hidden)]
pub mod sample;
#[doc(hidden)]
pub mod token;

pub use error::{ErrorCode, InputError};
pub use judge::acceptance::{PartnerCenter, Refusal};
pub use judge::classify::Kind;
pub use judge::code::{Code, Level, Mfa};
pub use judge::policy::{Policy, PolicyBuilder};
pub use judge::verdict::Finding;
pub use judge::{Outcome, TokenSummary, check_token};
pub use token::Decoded;
pub use token::keys::{KeyError, Keys};
pub use token::signature::Signature;

/// Decodes one token (whitespace, quotes and `Bearer ` already removed): its header and claims,
/// and its signature check when `keys` are given. Nothing is judged.
pub fn decode_token(source: &str, token: &str, keys: Option<&Keys>) -> Decoded {
    token::decode_item(input::Item { source: source.to_owned(), token: Ok(token.to_owned()) }, keys)
}

/// The crate's modules, for the binary, the tests, the benches and the fuzz targets: not an API,
/// and changed without notice. (They are declared hidden at the root, which a re-export needs.)
#[doc(hidden)]
pub mod internal {
    pub use crate::{clock, corpus, error, exit_status, input, judge, net, redeem, report, run, sample, token};
}
