//! The vocabulary: the finding codes (what can be wrong with a token or a sign-in:
//! `findings[].code` in the result object), their levels, and the MFA states with the words every
//! output shows for them. The kebab-case strings are a contract; the level, where a code always
//! has one, the one-line meaning (for the reference documentation) and the labels are written
//! here once.

use serde::{Serialize, Serializer};

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Code {
    Expired,
    NotYetValid,
    NoExp,
    Unsigned,
    TruncatedSignature,
    CrossTenant,
    IssuerTenantMismatch,
    NotPartnerCenter,
    KindAssumed,
    IdToken,
    B2cToken,
    AmrNotArray,
    NoAmr,
    AmrCase,
    NoMfa,
    PasswordOnly,
    FederatedNoMfa,
    WiaNoMfa,
    StrongMethodNotMfa,
    BadSignature,
    UnknownKey,
    GraphTokenUnverifiable,
    IssuerNotMicrosoft,
    KeysUnavailable,
    NotVerified,
    IssuerMismatch,
    AudienceMismatch,
    SigninMfaRequired,
    SigninMfaNotRegistered,
    SigninMfaExpired,
    SigninSingleFactor,
    SigninNonInteractive,
    SigninConditionalAccessNotApplied,
    SigninFederatedNoMfa,
}

impl Code {
    /// Every code, in the order of the reference documentation.
    pub const ALL: [Code; 34] = [
        Code::Expired,
        Code::NotYetValid,
        Code::NoExp,
        Code::Unsigned,
        Code::TruncatedSignature,
        Code::CrossTenant,
        Code::IssuerTenantMismatch,
        Code::NotPartnerCenter,
        Code::KindAssumed,
        Code::IdToken,
        Code::B2cToken,
        Code::AmrNotArray,
        Code::NoAmr,
        Code::AmrCase,
        Code::NoMfa,
        Code::PasswordOnly,
        Code::FederatedNoMfa,
        Code::WiaNoMfa,
        Code::StrongMethodNotMfa,
        Code::BadSignature,
        Code::UnknownKey,
        Code::GraphTokenUnverifiable,
        Code::IssuerNotMicrosoft,
        Code::KeysUnavailable,
        Code::NotVerified,
        Code::IssuerMismatch,
        Code::AudienceMismatch,
        Code::SigninMfaRequired,
        Code::SigninMfaNotRegistered,
        Code::SigninMfaExpired,
        Code::SigninSingleFactor,
        Code::SigninNonInteractive,
        Code::SigninConditionalAccessNotApplied,
        Code::SigninFederatedNoMfa,
    ];

    /// The kebab-case code of the result object.
    pub fn as_str(self) -> &'static str {
        self.describe().0
    }

    /// The level a finding of this code always has; `None` for the time checks, an error under
    /// `--require-valid-time` and a warning otherwise.
    pub fn level(self) -> Option<Level> {
        self.describe().1
    }

    /// What the code means, in one line.
    pub fn meaning(self) -> &'static str {
        self.describe().2
    }

    fn describe(self) -> (&'static str, Option<Level>, &'static str) {
        use Level::*;
        // No wildcard: a new code does not compile until it is described here.
        match self {
            Code::Expired => ("expired", None, "the token's exp is past"),
            Code::NotYetValid => ("not-yet-valid", None, "the token's nbf (or iat) is in the future"),
            Code::NoExp => ("no-exp", Some(Error), "the token has no exp, and a valid time was required"),
            Code::Unsigned => ("unsigned", Some(Warning), "alg none: anyone could have written the token"),
            Code::TruncatedSignature => {
                ("truncated-signature", Some(Warning), "the signature is shorter than its algorithm makes")
            }
            Code::CrossTenant => ("cross-tenant", Some(Info), "the user signed in from another tenant (idp)"),
            Code::IssuerTenantMismatch => {
                ("issuer-tenant-mismatch", Some(Warning), "the issuer names another tenant than tid")
            }
            Code::NotPartnerCenter => {
                ("not-partner-center", Some(Info), "the audience is not Partner Center, which would refuse it")
            }
            Code::KindAssumed => {
                ("kind-assumed", Some(Warning), "app-only or app+user was inferred from incomplete claims")
            }
            Code::IdToken => ("id-token", Some(Error), "an OpenID Connect ID token, which no API takes"),
            Code::B2cToken => ("b2c-token", Some(Warning), "an Azure AD B2C token, which Partner Center does not take"),
            Code::AmrNotArray => ("amr-not-array", Some(Error), "amr is not an array of strings"),
            Code::NoAmr => ("no-amr", Some(Hint), "the token has no (or an empty) amr, so no MFA is recorded"),
            Code::AmrCase => ("amr-case", Some(Warning), "amr holds mfa in another case, which does not count"),
            Code::NoMfa => ("no-mfa", Some(Hint), "an app+user token without mfa in amr: how to get one"),
            Code::PasswordOnly => ("password-only", Some(Hint), "amr is only pwd: a flow that cannot do MFA"),
            Code::FederatedNoMfa => {
                ("federated-no-mfa", Some(Hint), "a federated sign-in whose provider did not relay MFA")
            }
            Code::WiaNoMfa => ("wia-no-mfa", Some(Hint), "Windows integrated authentication without MFA"),
            Code::StrongMethodNotMfa => {
                ("strong-method-not-mfa", Some(Hint), "a strong method in amr that is not mfa itself")
            }
            Code::BadSignature => ("bad-signature", Some(Error), "the signature does not verify with the key given"),
            Code::UnknownKey => ("unknown-key", Some(Error), "the key the token names is not among the keys given"),
            Code::GraphTokenUnverifiable => (
                "graph-token-unverifiable",
                Some(Error),
                "a Microsoft Graph token, whose signature only Graph can check",
            ),
            Code::IssuerNotMicrosoft => {
                ("issuer-not-microsoft", Some(Error), "--verify: the issuer is not Microsoft's, so no key is fetched")
            }
            Code::KeysUnavailable => ("keys-unavailable", Some(Error), "--verify: Microsoft's keys could not be had"),
            Code::NotVerified => ("not-verified", Some(Error), "verification was asked for and not done"),
            Code::IssuerMismatch => ("issuer-mismatch", Some(Error), "the issuer is not the one --issuer requires"),
            Code::AudienceMismatch => {
                ("audience-mismatch", Some(Error), "the audience is not the one --audience requires")
            }
            // `signins`: the likely cause of a sign-in Partner Center would refuse.
            Code::SigninMfaRequired => {
                ("signin-mfa-required", Some(Hint), "the sign-in stopped because MFA was required and not completed")
            }
            Code::SigninMfaNotRegistered => {
                ("signin-mfa-not-registered", Some(Hint), "the user has no MFA method registered")
            }
            Code::SigninMfaExpired => {
                ("signin-mfa-expired", Some(Hint), "an earlier MFA expired (sign-in frequency or remember-MFA)")
            }
            Code::SigninSingleFactor => {
                ("signin-single-factor", Some(Hint), "a successful sign-in that satisfied one factor only")
            }
            Code::SigninNonInteractive => {
                ("signin-non-interactive", Some(Hint), "a non-interactive flow redeemed a session without MFA")
            }
            Code::SigninConditionalAccessNotApplied => (
                "signin-conditional-access-not-applied",
                Some(Hint),
                "no Conditional Access policy asked for MFA on the sign-in",
            ),
            Code::SigninFederatedNoMfa => {
                ("signin-federated-no-mfa", Some(Hint), "a federated identity provider did not relay MFA")
            }
        }
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// Whether the sign-in behind an app+user token satisfied Partner Center's MFA rule (`mfa` in
/// the result object); app-only tokens don't need MFA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Mfa {
    Satisfied,
    Missing,
    NotRequired,
}

impl Mfa {
    pub fn as_str(self) -> &'static str {
        match self {
            Mfa::Satisfied => "satisfied",
            Mfa::Missing => "missing",
            Mfa::NotRequired => "not-required",
        }
    }

    /// The words every output shows for the state.
    pub fn label(self) -> &'static str {
        match self {
            Mfa::Satisfied => "MFA satisfied",
            Mfa::Missing => "MFA missing",
            Mfa::NotRequired => "MFA not required",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn all_lists_every_code_once_with_a_unique_string() {
        // No wildcard: a new variant does not compile here until it gets the next position, and
        // then ALL must hold it there.
        let position = |code: Code| match code {
            Code::Expired => 0,
            Code::NotYetValid => 1,
            Code::NoExp => 2,
            Code::Unsigned => 3,
            Code::TruncatedSignature => 4,
            Code::CrossTenant => 5,
            Code::IssuerTenantMismatch => 6,
            Code::NotPartnerCenter => 7,
            Code::KindAssumed => 8,
            Code::IdToken => 9,
            Code::B2cToken => 10,
            Code::AmrNotArray => 11,
            Code::NoAmr => 12,
            Code::AmrCase => 13,
            Code::NoMfa => 14,
            Code::PasswordOnly => 15,
            Code::FederatedNoMfa => 16,
            Code::WiaNoMfa => 17,
            Code::StrongMethodNotMfa => 18,
            Code::BadSignature => 19,
            Code::UnknownKey => 20,
            Code::GraphTokenUnverifiable => 21,
            Code::IssuerNotMicrosoft => 22,
            Code::KeysUnavailable => 23,
            Code::NotVerified => 24,
            Code::IssuerMismatch => 25,
            Code::AudienceMismatch => 26,
            Code::SigninMfaRequired => 27,
            Code::SigninMfaNotRegistered => 28,
            Code::SigninMfaExpired => 29,
            Code::SigninSingleFactor => 30,
            Code::SigninNonInteractive => 31,
            Code::SigninConditionalAccessNotApplied => 32,
            Code::SigninFederatedNoMfa => 33,
        };
        let arms = 34;
        assert_eq!(Code::ALL.len(), arms);
        for (i, code) in Code::ALL.into_iter().enumerate() {
            assert_eq!(position(code), i, "{code}");
        }
        let variants: HashSet<Code> = Code::ALL.into_iter().collect();
        assert_eq!(variants.len(), Code::ALL.len(), "a code listed twice in ALL");
        let strings: HashSet<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(strings.len(), Code::ALL.len(), "two codes share a string");
        for code in Code::ALL {
            let s = code.as_str();
            assert!(s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'), "{s}");
            assert!(!code.meaning().is_empty(), "{s}");
            assert_eq!(serde_json::to_value(code).unwrap(), serde_json::json!(s));
        }
    }
}

/// How much a finding matters. Only `error` findings make a token not compliant on their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Level {
    Error,
    Warning,
    Hint,
    Info,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Hint => "hint",
            Level::Info => "info",
        }
    }
}
