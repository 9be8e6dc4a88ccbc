//! The result object of SPEC §2, one per input: one type, whichever decoder read the token. Its
//! strings are borrowed where the fast decoder's buffers hold them and owned otherwise
//! ([`Outcome::into_owned`] detaches one from its input).

use crate::clock::Time;
use crate::error::InputError;
use crate::exit_status::ExitStatus;
use crate::judge::acceptance::PartnerCenter;
use crate::judge::classify::Kind;
use crate::judge::code::Mfa;
use crate::judge::verdict::{Finding, Response};
use crate::token::claims::{Claims, Header, List, Raw, TokenType, app_auth_label};
use crate::token::signature::Verification;
use serde::{Serialize, Serializer};
use serde_json::Value;
use std::borrow::Cow;

/// One input's result (SPEC §2). `kind`, `mfa` and `token` are null when `error` is set.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Outcome<'a> {
    pub source: Cow<'a, str>,
    pub kind: Option<Kind>,
    pub kind_reason: Option<Cow<'a, str>>,
    pub mfa: Option<Mfa>,
    pub compliant: bool,
    /// Would Partner Center accept the token as a whole (null for an input that is no token).
    pub partner_center: Option<PartnerCenter>,
    /// `verified`, `invalid`, `unknown-key` or `not-checked` (no key given, or no token).
    pub signature: Verification,
    /// The `amr` claim as found (null when absent).
    pub amr: Option<AmrClaim<'a>>,
    pub token: Option<TokenSummary<'a>>,
    pub response: Option<Response>,
    pub findings: Vec<Finding>,
    pub error: Option<InputError>,
}

/// The claims worth showing, names reconciled across v1.0 and v2.0, times as RFC 3339.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct TokenSummary<'a> {
    /// `access`, or `id` for an OpenID Connect ID token (which no API accepts).
    #[serde(rename = "type")]
    pub token_type: TokenType,
    pub ver: Option<Cow<'a, str>>,
    pub alg: Cow<'a, str>,
    pub kid: Option<Cow<'a, str>>,
    pub aud: Option<Cow<'a, str>>,
    /// The well-known name of `aud` (`Partner Center`, `Microsoft Graph`…), null when unknown.
    pub audience_name: Option<&'static str>,
    pub iss: Option<Cow<'a, str>>,
    pub tid: Option<Cow<'a, str>>,
    pub app_id: Option<Cow<'a, str>>,
    /// How the client authenticated (`appidacr`/`azpacr`): public-client, client-secret, certificate.
    pub app_auth: Option<Cow<'a, str>>,
    pub user: Option<Cow<'a, str>>,
    pub oid: Option<Cow<'a, str>>,
    pub idp: Option<Cow<'a, str>>,
    pub cross_tenant: bool,
    pub scp: Option<Cow<'a, str>>,
    pub iat: Option<Time>,
    pub nbf: Option<Time>,
    pub exp: Option<Time>,
    pub expired: bool,
}

/// The `amr` claim as found: an array of strings, or any other JSON value.
#[derive(Debug, Clone)]
pub enum AmrClaim<'a> {
    Methods(List<'a>),
    /// [`Self::Methods`], detached from the input.
    Owned(Vec<String>),
    Other(Value),
}

impl AmrClaim<'_> {
    /// The claim as found; `None` when absent.
    pub fn of<'a>(raw: &Raw<'a>) -> Option<AmrClaim<'a>> {
        Some(match raw {
            Raw::Absent => return None,
            Raw::Strings(methods) => AmrClaim::Methods(methods.clone()),
            Raw::Str(text) => AmrClaim::Other(Value::from(*text)),
            Raw::Int(n) => AmrClaim::Other(Value::from(*n)),
            Raw::Other(value) => AmrClaim::Other(value.cloned().unwrap_or(Value::Null)),
        })
    }

    /// The methods, when the claim is an array of strings.
    pub fn methods(&self) -> Option<Vec<&str>> {
        match self {
            AmrClaim::Methods(methods) => Some(methods.to_vec()),
            AmrClaim::Owned(methods) => Some(methods.iter().map(String::as_str).collect()),
            AmrClaim::Other(_) => None,
        }
    }

    pub fn into_owned(self) -> AmrClaim<'static> {
        match self {
            AmrClaim::Methods(methods) => AmrClaim::Owned(methods.iter().map(|&m| m.to_owned()).collect()),
            AmrClaim::Owned(methods) => AmrClaim::Owned(methods),
            AmrClaim::Other(value) => AmrClaim::Other(value),
        }
    }
}

impl PartialEq for AmrClaim<'_> {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (AmrClaim::Other(a), AmrClaim::Other(b)) => a == b,
            _ => self.methods().is_some() && self.methods() == other.methods(),
        }
    }
}

impl Serialize for AmrClaim<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            AmrClaim::Methods(methods) => methods[..].serialize(serializer),
            AmrClaim::Owned(methods) => methods.serialize(serializer),
            AmrClaim::Other(value) => value.serialize(serializer),
        }
    }
}

fn owned(text: Option<Cow<'_, str>>) -> Option<Cow<'static, str>> {
    text.map(|t| Cow::Owned(t.into_owned()))
}

impl<'a> TokenSummary<'a> {
    pub fn new(header: &Header<'a>, claims: &Claims<'a>, now: i64) -> Self {
        let text = |s: Option<&'a str>| s.map(Cow::Borrowed);
        TokenSummary {
            token_type: claims.token_type(),
            ver: text(claims.ver),
            alg: Cow::Borrowed(header.alg),
            kid: text(header.kid),
            aud: text(claims.aud),
            audience_name: claims.audience_name(),
            iss: text(claims.iss),
            tid: text(claims.tid),
            app_id: text(claims.app_id),
            app_auth: text(claims.app_auth.map(app_auth_label)),
            user: text(claims.user),
            oid: text(claims.oid),
            idp: text(claims.idp),
            cross_tenant: claims.cross_tenant(),
            scp: text(claims.scp),
            iat: claims.iat.and_then(Time::new),
            nbf: claims.nbf.and_then(Time::new),
            exp: claims.exp.and_then(Time::new),
            expired: claims.exp.is_some_and(|exp| now >= exp),
        }
    }

    pub fn into_owned(self) -> TokenSummary<'static> {
        TokenSummary {
            token_type: self.token_type,
            ver: owned(self.ver),
            alg: Cow::Owned(self.alg.into_owned()),
            kid: owned(self.kid),
            aud: owned(self.aud),
            audience_name: self.audience_name,
            iss: owned(self.iss),
            tid: owned(self.tid),
            app_id: owned(self.app_id),
            app_auth: owned(self.app_auth),
            user: owned(self.user),
            oid: owned(self.oid),
            idp: owned(self.idp),
            cross_tenant: self.cross_tenant,
            scp: owned(self.scp),
            iat: self.iat,
            nbf: self.nbf,
            exp: self.exp,
            expired: self.expired,
        }
    }
}

impl<'a> Outcome<'a> {
    pub fn failed(source: impl Into<Cow<'a, str>>, error: InputError) -> Self {
        Outcome {
            source: source.into(),
            kind: None,
            kind_reason: None,
            mfa: None,
            compliant: false,
            partner_center: None,
            signature: Verification::not_checked(),
            amr: None,
            token: None,
            response: None,
            findings: Vec::new(),
            error: Some(error),
        }
    }

    pub fn exit_status(&self) -> ExitStatus {
        if self.error.is_some() {
            ExitStatus::Error
        } else if self.compliant {
            ExitStatus::Compliant
        } else {
            ExitStatus::NonCompliant
        }
    }

    /// The same result, owning all its text.
    pub fn into_owned(self) -> Outcome<'static> {
        Outcome {
            source: Cow::Owned(self.source.into_owned()),
            kind: self.kind,
            kind_reason: owned(self.kind_reason),
            mfa: self.mfa,
            compliant: self.compliant,
            partner_center: self.partner_center,
            signature: self.signature,
            amr: self.amr.map(AmrClaim::into_owned),
            token: self.token.map(TokenSummary::into_owned),
            response: self.response,
            findings: self.findings,
            error: self.error,
        }
    }
}
