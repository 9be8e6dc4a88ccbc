//! Would Partner Center accept the call? The MFA verdict answers one rule; people ask about the
//! token as a whole. Every reason Partner Center would refuse it that the token shows, in one
//! fixed order, and whether it would be accepted (only a verified signature can say yes).

use crate::clock;
use crate::judge::code::Mfa;
use crate::judge::policy::Policy;
use crate::token::claims::{Claims, Header, TokenType};
use crate::token::signature::{Signature, Verification};
use serde::Serialize;

/// One reason Partner Center would refuse the call, in the order results list them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Refusal {
    /// An OpenID Connect ID token: no API accepts one as a bearer token.
    IdToken,
    /// An Azure AD B2C token: it signs in an app's customers, never a partner's staff.
    B2cToken,
    /// `alg: none` or an empty signature.
    Unsigned,
    /// The signature was checked and does not verify, or no key given names it.
    Signature,
    /// The signature is shorter than any Entra ID makes: cut when copied.
    TruncatedSignature,
    /// `aud` is not Partner Center (in either spelling).
    Audience,
    /// `exp` has passed (beyond the leeway).
    Expired,
    /// `nbf` is still to come (beyond the leeway).
    NotYetValid,
    /// An app+user token without `mfa` in `amr`: the 401 of the MFA rule.
    Mfa,
}

impl Refusal {
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::IdToken => "id-token",
            Refusal::B2cToken => "b2c-token",
            Refusal::Unsigned => "unsigned",
            Refusal::Signature => "signature",
            Refusal::TruncatedSignature => "truncated-signature",
            Refusal::Audience => "audience",
            Refusal::Expired => "expired",
            Refusal::NotYetValid => "not-yet-valid",
            Refusal::Mfa => "mfa",
        }
    }
}

/// The `partner_center` member of the result object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PartnerCenter {
    /// `false` when a refusal is seen, `true` when none is and the signature was verified, `null`
    /// otherwise: nothing seen, but nothing proves the token is Entra ID's either.
    pub accepted: Option<bool>,
    pub refusals: Vec<Refusal>,
}

/// What Partner Center would do with the token. Times allow `policy.leeway` of clock skew, as
/// Partner Center's token validation does (five minutes by default).
pub fn judge(header: &Header, claims: &Claims, mfa: Mfa, signature: &Verification, policy: &Policy) -> PartnerCenter {
    let now = policy.now.as_second();
    let id_token = claims.token_type() == TokenType::Id;
    let mut refusals = Vec::new();
    let mut refuse = |refusal, seen: bool| {
        if seen {
            refusals.push(refusal);
        }
    };
    refuse(Refusal::IdToken, id_token);
    refuse(Refusal::B2cToken, claims.is_b2c());
    refuse(Refusal::Unsigned, header.alg.eq_ignore_ascii_case("none") || header.signature_empty);
    refuse(Refusal::Signature, matches!(signature.signature, Signature::Invalid | Signature::UnknownKey));
    refuse(Refusal::TruncatedSignature, header.truncated_signature().is_some());
    refuse(Refusal::Audience, !claims.is_partner_center());
    refuse(Refusal::Expired, claims.exp.is_some_and(|exp| now.saturating_sub(exp) > policy.leeway));
    refuse(Refusal::NotYetValid, claims.nbf.is_some_and(|nbf| nbf.saturating_sub(now) > policy.leeway));
    // An ID token is refused as one whatever its amr: the MFA rule's 401 is not what it gets.
    refuse(Refusal::Mfa, mfa == Mfa::Missing && !id_token);
    let accepted = if !refusals.is_empty() {
        Some(false)
    } else if signature.signature == Signature::Verified {
        Some(true)
    } else {
        None
    };
    PartnerCenter { accepted, refusals }
}

/// The refusals other than the MFA rule's, in words for the text headline: `audience is Microsoft
/// Graph; expired 10 years ago`. Empty when there are none.
pub fn phrase(partner_center: &PartnerCenter, token: Option<&crate::judge::TokenSummary>, now: i64) -> String {
    let words = |refusal: Refusal| -> Option<String> {
        Some(match refusal {
            Refusal::IdToken => "an ID token, not an access token".into(),
            Refusal::B2cToken => "an Azure AD B2C token".into(),
            Refusal::Unsigned => "unsigned".into(),
            Refusal::Signature => "the signature does not verify".into(),
            Refusal::TruncatedSignature => "the signature was cut short".into(),
            Refusal::Audience => match token.and_then(|t| t.audience_name.or(t.aud.as_deref())) {
                Some(name) => format!("audience is {name}"),
                None => "no audience".into(),
            },
            Refusal::Expired => match token.and_then(|t| t.exp) {
                Some(exp) => clock::expiry_phrase(exp.seconds(), now),
                None => "expired".into(),
            },
            Refusal::NotYetValid => match token.and_then(|t| t.nbf) {
                Some(nbf) => format!("not valid for another {}", clock::span(nbf.seconds().saturating_sub(now))),
                None => "not yet valid".into(),
            },
            Refusal::Mfa => return None,
        })
    };
    // An ID token's audience is its client's own id, which "an ID token" already says.
    let id_token = partner_center.refusals.contains(&Refusal::IdToken);
    let shown = partner_center.refusals.iter().filter(|&&r| !(id_token && r == Refusal::Audience));
    shown.filter_map(|&r| words(r)).collect::<Vec<_>>().join("; ")
}
