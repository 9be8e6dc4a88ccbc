//! The rulebook: what a decoded token is (classification), whether it passes (verdict and
//! findings), and what its claims mean (explanations). [`judge`] is the one function that turns a
//! decoded token into its [`Outcome`]; every engine reaches it through [`Checker::check`] or
//! [`check_token`], whichever decoder read the token.

pub mod acceptance;
pub mod classify;
pub mod code;
pub mod entra;
pub mod explain;
pub mod hint;
pub mod outcome;
pub mod policy;
pub mod roles;
pub mod signin;
pub mod verdict;

use crate::input::Item;
use crate::token::claims::{Claims, Header};
use crate::token::fast;
use crate::token::jws::{self, Jws};
use crate::token::keys;
use crate::token::signature::Verification;
pub use outcome::{AmrClaim, Outcome, TokenSummary};
pub use policy::Policy;
use serde_json::{Map, Value};
use std::borrow::Cow;

/// Classifies and judges one decoded token: the result object, whichever decoder read it.
pub fn judge<'a>(
    source: Cow<'a, str>,
    header: &Header<'a>,
    claims: &Claims<'a>,
    signature: Verification,
    policy: &Policy,
) -> Outcome<'a> {
    let class = classify::classify(claims);
    let verdict = verdict::judge(header, claims, &class, policy, &signature);
    Outcome {
        source,
        kind: Some(class.kind),
        kind_reason: Some(class.reason),
        mfa: Some(verdict.mfa),
        compliant: verdict.compliant,
        partner_center: Some(verdict.partner_center),
        signature,
        amr: AmrClaim::of(&claims.amr_raw),
        token: Some(TokenSummary::new(header, claims, policy.now.as_second())),
        response: verdict.response,
        findings: verdict.findings,
        error: None,
    }
}

/// Decodes, classifies and judges one cleaned token with the general decoder.
pub fn check_token(source: &str, token: &str, policy: &Policy) -> Outcome<'static> {
    match jws::decode(token) {
        Ok(jws) => check_decoded(source, &jws, token, policy).into_owned(),
        Err(error) => Outcome::failed(source.to_owned(), error),
    }
}

/// Checks one input item: its token, or the reason it has none.
pub fn check_item(item: Item, policy: &Policy) -> Outcome<'static> {
    match item.token {
        Ok(token) => check_token(&item.source, &token, policy),
        Err(error) => Outcome::failed(item.source, error),
    }
}

/// One token checked, with what explaining it needs: its decoded header and claims (none when it
/// is not a JWT).
#[derive(Debug, Clone)]
pub struct Explained {
    pub outcome: Outcome<'static>,
    pub header: Option<Map<String, Value>>,
    pub claims: Option<Map<String, Value>>,
}

/// Decodes, judges and keeps the decoded token for its explanation, decoding once: the one
/// composition of `check --explain` and the page.
pub fn explained(item: Item, policy: &Policy) -> Explained {
    let Item { source, token } = item;
    match token.and_then(|token| jws::decode(&token).map(|jws| (jws, token))) {
        Ok((jws, token)) => {
            let outcome = check_decoded(&source, &jws, &token, policy).into_owned();
            Explained { outcome, header: Some(jws.header), claims: Some(jws.claims) }
        }
        Err(error) => Explained { outcome: Outcome::failed(source, error), header: None, claims: None },
    }
}

/// Judges a token already decoded (for `--explain`, which shows its claims too).
pub fn check_decoded<'a>(source: &'a str, jws: &'a Jws, token: &str, policy: &Policy) -> Outcome<'a> {
    let header = Header::from_map(&jws.header, jws.signature_empty, jws.signature_len);
    let claims = Claims::of_map(&jws.claims);
    let signature = keys::check(policy.keys.as_deref(), &jws.header, token, &claims);
    judge(Cow::Borrowed(source), &header, &claims, signature, policy)
}

/// The per-token function of every engine: the fast decoder when it can read the token, else the
/// general one; the same [`judge`] either way. One per thread (it keeps the fast decoder's
/// buffers).
#[derive(Default)]
pub struct Checker {
    fast: fast::Decoder,
}

impl Checker {
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks one cleaned token and hands its result to `each`.
    pub fn check<R>(&mut self, source: &str, token: &str, policy: &Policy, each: impl FnOnce(&Outcome<'_>) -> R) -> R {
        let mut each = Some(each);
        let fast = self.fast.decode(token, |header, slots| {
            // Verification (cached: a repeated token costs a digest) reads the header itself, and
            // the claims as this decoder read them, as the verdict does.
            let claims = Claims::new(slots);
            let signature =
                policy.keys.as_deref().map_or_else(Verification::not_checked, |keys| keys.check_token(token, &claims));
            let outcome = judge(Cow::Borrowed(source), &header, &claims, signature, policy);
            each.take().map(|each| each(&outcome))
        });
        if let Some(Some(done)) = fast {
            return done;
        }
        let each = each.take().expect("the fast decoder calls back only when it succeeds");
        each(&check_token(source, token, policy))
    }
}
