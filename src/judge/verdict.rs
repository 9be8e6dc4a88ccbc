//! The MFA verdict: the MFA state, compliance, findings (what is wrong and what to change) and
//! the 401 Partner Center answers when MFA is missing.

use crate::clock;
use crate::judge::acceptance::{self, PartnerCenter, Refusal};
use crate::judge::classify::{Classification, Kind};
use crate::judge::code::{Code, Level, Mfa};
use crate::judge::hint;
use crate::judge::policy::Policy;
use crate::token::audience;
use crate::token::claims::{Amr, Claims, Header, TokenType};
use crate::token::signature::{Signature, Unchecked, Verification};
use jiff::Timestamp;
use serde::Serialize;
use std::borrow::Cow;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Finding {
    pub code: Code,
    pub level: Level,
    pub message: String,
}

impl Finding {
    /// A finding of a code that always has one level.
    pub(crate) fn new(code: Code, message: String) -> Finding {
        let level = code.level().expect("a code of one level");
        Finding { code, level, message }
    }
}

/// The response Partner Center sends for an app+user token without `mfa`, as a value: each
/// output renders it (the JSON `text`, the text report's lines, the bytes `serve` writes) from
/// these fields, so none has to parse another's rendering.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Response {
    pub status: u16,
    /// The reason phrase of the status line, as Partner Center sends it.
    pub reason: &'static str,
    /// The header lines in order, names in their documented case; `Date` is the request's time.
    pub headers: Vec<(&'static str, Cow<'static, str>)>,
    /// The error code Partner Center reports the refusal with since its 2026 enforcement.
    pub error_code: u32,
}

// The JSON contract predates the structure: `{status, text, error_code}`, `text` the response as
// Microsoft documents it.
impl Serialize for Response {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("Response", 3)?;
        s.serialize_field("status", &self.status)?;
        s.serialize_field("text", &self.text())?;
        s.serialize_field("error_code", &self.error_code)?;
        s.end()
    }
}

/// Today's enforcement, beside the documented 401, so that a search for the error code finds
/// this explanation. Said once per run, not once per token.
pub const ENFORCEMENT: &str = "Since 2026 Partner Center enforces the MFA rule on every app+user API call (progressively \
     from April 2026) and reports the refusal as a 401 with error code 900421; app-only calls are not affected.";

/// The error code of Partner Center's MFA refusal since 2026.
pub const MFA_ERROR_CODE: u32 = 900421;

impl Response {
    /// Exactly as Microsoft documents it; `Date` is the time of the request. Formatting the date
    /// costs more than the rest of a verdict, so each thread keeps the last one.
    pub fn mfa_required(now: Timestamp) -> Self {
        thread_local! {
            static LAST: std::cell::RefCell<Option<(Timestamp, Response)>> = const { std::cell::RefCell::new(None) };
        }
        LAST.with_borrow_mut(|last| match last {
            Some((at, response)) if *at == now => response.clone(),
            _ => last.insert((now, Self::at(now))).1.clone(),
        })
    }

    fn at(now: Timestamp) -> Self {
        Response {
            status: 401,
            reason: "Unauthorized - MFA required",
            headers: vec![
                ("Transfer-Encoding", Cow::Borrowed("chunked")),
                ("Request-Context", Cow::Borrowed("appId=cid-v1:03ce8ca8-8373-4021-8f25-d5dd45c7b12f")),
                ("WWW-Authenticate", Cow::Borrowed("Bearer error=\"invalid_token\"")),
                ("Date", Cow::Owned(clock::http_date(now))),
            ],
            error_code: MFA_ERROR_CODE,
        }
    }

    /// The status line, as HTTP/1.1 writes it.
    pub fn status_line(&self) -> String {
        format!("HTTP/1.1 {} {}", self.status, self.reason)
    }

    /// Status line and header lines, each ended by CRLF: the response as Microsoft documents it.
    pub fn text(&self) -> String {
        let mut text = self.status_line();
        text.push_str("\r\n");
        for (name, value) in &self.headers {
            for part in [name, ": ", value, "\r\n"] {
                text.push_str(part);
            }
        }
        text
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub mfa: Mfa,
    pub compliant: bool,
    pub partner_center: PartnerCenter,
    pub findings: Vec<Finding>,
    pub response: Option<Response>,
}

/// Partner Center's audience, as findings name it.
const PC_URI: &str = audience::PARTNER_CENTER_URI;

/// Methods that prove more than a password but that Partner Center does not count: it looks for
/// the exact element `mfa`.
const STRONG_METHODS: [&str; 12] =
    ["rsa", "ngcmfa", "otp", "fido", "hwk", "swk", "sc", "sms", "tel", "face", "fpt", "wiaormfa"];

/// The verdict on one token; `signature` is the outcome of [`crate::token::keys::check`] for it
/// under `policy.keys`.
pub fn judge(
    header: &Header,
    claims: &Claims,
    class: &Classification,
    policy: &Policy,
    signature: &Verification,
) -> Verdict {
    let (alg, signature_empty) = (header.alg, header.signature_empty);
    let mfa = match class.kind {
        Kind::AppOnly => Mfa::NotRequired,
        Kind::AppUser if claims.amr.has_mfa() => Mfa::Satisfied,
        Kind::AppUser => Mfa::Missing,
    };
    let mut findings = Vec::new();
    what_token_and_why(claims, mfa, &mut findings);
    let now = policy.now.as_second();
    if let Some(exp) = claims.exp.filter(|&exp| now >= exp) {
        let hard = policy.require_valid_time && now.saturating_sub(exp) > policy.leeway;
        let grace = if policy.require_valid_time && !hard {
            format!(" (within the {} s leeway)", policy.leeway)
        } else {
            String::new()
        };
        findings.push(Finding {
            code: Code::Expired,
            level: if hard { Level::Error } else { Level::Warning },
            message: format!(
                "token {} (exp {}){grace}: request a new token",
                clock::expiry_phrase(exp, now),
                clock::rfc3339(exp).unwrap_or_else(|| exp.to_string())
            ),
        });
    }
    if let Some(nbf) = claims.nbf.filter(|&nbf| now < nbf) {
        let hard = policy.require_valid_time && nbf.saturating_sub(now) > policy.leeway;
        findings.push(Finding {
            code: Code::NotYetValid,
            level: if hard { Level::Error } else { Level::Warning },
            message: format!(
                "token is not valid for another {} (nbf {}): check the clock of the machine that made or checks it",
                clock::span(nbf.saturating_sub(now)),
                clock::rfc3339(nbf).unwrap_or_else(|| nbf.to_string())
            ),
        });
    }
    let mut add = |code, message: String| findings.push(Finding::new(code, message));
    expectations(header, claims, policy, signature, &mut add);
    if alg.eq_ignore_ascii_case("none") || signature_empty {
        add(
            Code::Unsigned,
            format!(
                "unsigned token (alg {:?}{}): anyone could have written these claims, and Partner Center \
                 rejects it whatever they say",
                alg,
                if signature_empty { ", empty signature" } else { "" }
            ),
        );
    }
    if let Some(len) = header.truncated_signature() {
        add(
            Code::TruncatedSignature,
            format!(
                "the {alg} signature is {len} bytes, {}: the token was cut when copied. Copy it whole \
                 (Partner Center would reject it as it stands)",
                if alg == "ES256" { "not 64" } else { "under the 256 of a 2048-bit RSA key, the least Entra ID uses" }
            ),
        );
    }
    let cross_tenant = claims.cross_tenant();
    if cross_tenant && claims.personal_account() {
        add(
            Code::CrossTenant,
            format!(
                "idp ({}): a guest who signed in with a personal Microsoft account, not a partner's \
                 delegated-admin (DAP/GDAP) sign-in; amr must still hold mfa",
                claims.idp.unwrap_or_default()
            ),
        );
    } else if cross_tenant {
        add(
            Code::CrossTenant,
            format!(
                "idp ({}) differs from iss: the user signed in from another tenant, as in a partner's \
                 delegated-admin (DAP/GDAP) sign-in into a customer tenant; amr must still hold mfa",
                claims.idp.unwrap_or_default()
            ),
        );
    }
    if let Some(tenant) = claims.issuer_tenant_mismatch() {
        add(
            Code::IssuerTenantMismatch,
            format!(
                "iss names tenant {tenant}, tid is {}: Entra ID issues a token in the tenant it names, so \
                 the claims were edited or the token was not issued by Entra ID",
                claims.tid.unwrap_or_default()
            ),
        );
    }
    // An ID token's aud is its client, which the id-token finding already says.
    let other_api = !claims.is_partner_center() && claims.token_type() == TokenType::Access;
    if let Some(aud) = claims.aud.filter(|_| other_api) {
        let name = claims.audience_name().map(|n| format!(" ({n})")).unwrap_or_default();
        let tail = if claims.is_b2c() {
            "a B2C token is for the app's own API, never Partner Center's (see b2c-token)"
        } else if class.kind == Kind::AppOnly {
            "it is an app-only token, to which the MFA rule does not apply"
        } else {
            "for delegated-admin access to other Microsoft APIs, Entra ID itself enforces MFA at sign-in"
        };
        add(
            Code::NotPartnerCenter,
            format!(
                "aud is {aud}{name}, not Partner Center ({PC_URI}); the Partner Center rule was applied anyway: {tail}"
            ),
        );
    }
    if class.assumed {
        add(
            Code::KindAssumed,
            "no claim tells app-only from app+user (no idtyp, scp, oid = sub, user claim or roles): \
             treated as app+user, which needs MFA"
                .into(),
        );
    }

    // Verification decides when it was asked for: nothing but `verified` passes (each other
    // outcome also has its error finding, which says why).
    let unverified = policy.verification_requested() && signature.signature != Signature::Verified;
    let partner_center = acceptance::judge(header, claims, mfa, signature, policy);
    let compliant = mfa != Mfa::Missing
        && !unverified
        && !findings.iter().any(|f| f.level == Level::Error)
        && (!policy.partner_center || partner_center.accepted == Some(true));
    // The 401 is the MFA rule's answer: shown only when that rule is what refuses the token.
    let response = partner_center.refusals.contains(&Refusal::Mfa).then(|| Response::mfa_required(policy.now));
    Verdict { mfa, compliant, partner_center, findings, response }
}

/// Which token it is (an ID token, a B2C token) and, when MFA is missing, its cause and fix.
fn what_token_and_why(claims: &Claims, mfa: Mfa, out: &mut Vec<Finding>) {
    let add = |out: &mut Vec<Finding>, code, message: String| out.push(Finding::new(code, message));
    let id_token = claims.token_type() == TokenType::Id;
    if id_token {
        let signs = if claims.id_token_claims { " and carries OpenID Connect's nonce/at_hash/c_hash" } else { "" };
        add(
            out,
            Code::IdToken,
            format!(
                "an ID token, not an access token: it names no calling app (no appid/azp) and no permissions \
                 (no scp/roles), its aud is the client's own id{signs}. No API accepts an ID token as a bearer \
                 token, and Partner Center refuses it whatever its amr: send the access token of the same \
                 sign-in (accessToken / access_token, requested for {PC_URI}) instead"
            ),
        );
    }
    let b2c = claims.is_b2c();
    if b2c {
        let policy_name = claims.tfp.or(claims.acr).map(|p| format!(" (policy {p})")).unwrap_or_default();
        add(
            out,
            Code::B2cToken,
            format!(
                "an Azure AD B2C token{policy_name}: B2C signs in an app's customers, never a partner's staff, \
                 so Partner Center does not accept it and no sign-in change (MFA or otherwise) makes it \
                 acceptable. Call Partner Center with an access token from your partner tenant's Entra ID \
                 for {PC_URI}"
            ),
        );
    }

    if mfa == Mfa::Missing && !id_token {
        let before = out.len();
        match &claims.amr {
            Amr::Malformed(type_name) => add(
                out,
                Code::AmrNotArray,
                format!("amr is a {type_name}, not an array of strings: it cannot satisfy MFA"),
            ),
            _ if b2c => {}
            Amr::Absent if claims.ver == Some("2.0") => add(
                out,
                Code::NoAmr,
                "no amr claim: v2.0 access tokens omit amr unless the app requests it. Add amr as an \
                 optional claim of the access token in the app registration, or request a v1.0 token \
                 (Partner Center's tokens are v1.0)"
                    .into(),
            ),
            Amr::Absent => add(
                out,
                Code::NoAmr,
                "no amr claim, so no MFA can be seen: v1.0 user tokens always carry amr, so this token \
                 was not issued by an ordinary Entra ID sign-in. Get the token through an interactive \
                 sign-in (OpenID Connect / authorization code) with an MFA-enabled account"
                    .into(),
            ),
            Amr::Methods(methods) => method_findings(methods, &mut |code, message| add(out, code, message)),
        }
        // Every app+user token without MFA gets a cause and a fix for that token.
        if !out[before..].iter().any(|f| f.level == Level::Hint) {
            let message = if b2c {
                "no mfa in amr: this B2C token records its own user flow's methods, and no sign-in change \
                 makes a B2C token acceptable to Partner Center (see b2c-token)"
                    .to_owned()
            } else {
                let methods = match &claims.amr {
                    Amr::Methods(methods) => format!("amr [{}] has", methods.join(", ")),
                    // Entra ID never issues one: the claims were edited.
                    _ => "amr is not as Entra ID issues it and has".to_owned(),
                };
                format!(
                    "{methods} no mfa element and no method Partner Center counts: require MFA for this user \
                     and app (Conditional Access or security defaults), then get a new token through an \
                     interactive sign-in"
                )
            };
            add(out, Code::NoMfa, message);
        }
    }
}

/// The checks asked for beyond the MFA rule (`--jwks`/`--key`/`--verify`, `--issuer`,
/// `--audience`, and `exp` under `--require-valid-time`): each failure is an `error` finding.
fn expectations(
    header: &Header,
    claims: &Claims,
    policy: &Policy,
    signature: &Verification,
    add: &mut impl FnMut(Code, String),
) {
    if policy.require_valid_time && claims.exp.is_none() {
        add(
            Code::NoExp,
            "no exp claim (or not a number): the token's lifetime is unknown, so --require-valid-time \
             cannot accept it"
                .into(),
        );
    }
    match signature.signature {
        Signature::Invalid if header.nonce => add(
            Code::BadSignature,
            format!(
                "{} (the header carries a nonce, as Microsoft Graph's tokens do, but this token is not for \
                 Microsoft Graph alone, so the nonce excuses nothing)",
                signature.detail
            ),
        ),
        Signature::Invalid => add(Code::BadSignature, signature.detail.clone()),
        Signature::UnknownKey => add(Code::UnknownKey, signature.detail.clone()),
        // Nobody but Graph can check it, so it is neither verified nor invalid; and verification
        // was asked for, so what cannot be verified does not pass.
        Signature::Unchecked(Unchecked::GraphNonce) => add(
            Code::GraphTokenUnverifiable,
            "a Microsoft Graph access token: its header carries a nonce, which Graph replaces by a hash \
             before checking the signature, so only Graph can verify it; not verified, so not compliant \
             when a signature check is asked for. It is not a Partner Center token either: request one \
             for https://api.partnercenter.microsoft.com"
                .into(),
        ),
        Signature::Unchecked(Unchecked::IssuerNotMicrosoft) => add(
            Code::IssuerNotMicrosoft,
            format!(
                "iss is {}, not an Entra ID issuer on Microsoft's login hosts (login.microsoftonline.com, \
                 sts.windows.net, or a national cloud's): --verify takes keys only from those, never from \
                 a host the token names; give this issuer's keys with --jwks or --key",
                claims.iss.map_or("absent".into(), |iss| format!("{iss:?}"))
            ),
        ),
        Signature::Unchecked(Unchecked::KeysUnavailable) => {
            add(Code::KeysUnavailable, format!("the signature could not be checked: {}", signature.detail))
        }
        Signature::NotChecked if policy.verification_requested() => add(
            Code::NotVerified,
            "keys were given (--jwks, --key or --verify), but this token's signature was not checked: \
             only a verified signature passes"
                .into(),
        ),
        Signature::Verified | Signature::NotChecked => {}
    }
    if !policy.issuers.is_empty() && !claims.iss.is_some_and(|iss| policy.issuers.iter().any(|want| want == iss)) {
        add(
            Code::IssuerMismatch,
            format!(
                "iss is {}, not the expected {}: the token was issued by another authority or tenant",
                claims.iss.map_or("absent".into(), |iss| format!("{iss:?}")),
                one_of(&policy.issuers)
            ),
        );
    }
    if !policy.audiences.is_empty() {
        let found = &claims.audiences;
        if !found.iter().any(|aud| policy.audiences.iter().any(|want| audience::same(want, aud))) {
            add(
                Code::AudienceMismatch,
                format!(
                    "aud is {}, not the expected {}: the token is meant for another API",
                    if found.is_empty() { "absent".into() } else { format!("{:?}", found.join(", ")) },
                    one_of(&policy.audiences)
                ),
            );
        }
    }
}

/// Why an array of methods lacks `mfa`, and what to change (from Microsoft's document).
fn method_findings(methods: &[&str], add: &mut impl FnMut(Code, String)) {
    if methods.is_empty() {
        add(Code::NoAmr, "amr is empty: the sign-in recorded no method, so no MFA".into());
        return;
    }
    if let Some(lookalike) = methods.iter().find(|m| m.eq_ignore_ascii_case("mfa")) {
        add(
            Code::AmrCase,
            format!(
                "amr holds {lookalike:?}, but values are case-sensitive: Partner Center looks for exactly \"mfa\"; \
                 this token was not issued by Entra ID as it stands"
            ),
        );
    }
    if methods.iter().all(|m| *m == "pwd") {
        add(
            Code::PasswordOnly,
            format!(
                "amr is only [\"pwd\"]: a non-interactive flow (resource-owner password credentials) cannot \
                 prompt for MFA, or MFA is not enforced for this user. {}; the user can register \
                 for MFA when prompted",
                hint::INTERACTIVE_FLOW
            ),
        );
    }
    if methods.contains(&"fed") {
        add(
            Code::FederatedNoMfa,
            format!(
                "amr has fed but not mfa: {}; if it cannot, this is a valid reason for a \
                 technical-exception request",
                hint::FEDERATED_NO_RELAY
            ),
        );
    }
    if methods.contains(&"wia") {
        add(
            Code::WiaNoMfa,
            "amr has wia but not mfa: Windows integrated authentication is one factor (the Windows \
             sign-in), so Entra ID asked for no second one. Require MFA for this user and app with \
             Conditional Access, then get a new token"
                .into(),
        );
    }
    let strong: Vec<&str> = methods.iter().copied().filter(|m| STRONG_METHODS.contains(m)).collect();
    if !strong.is_empty() {
        add(
            Code::StrongMethodNotMfa,
            format!(
                "amr has {} but not mfa: Partner Center checks for the element mfa itself and does not \
                 count other methods. Make Entra ID record MFA for this sign-in (require MFA for the \
                 user, e.g. by Conditional Access or security defaults)",
                strong.join(", ")
            ),
        );
    }
}

/// `"a"` or `one of "a", "b"`, for messages.
fn one_of(values: &[String]) -> String {
    let quoted: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
    if quoted.len() == 1 { quoted[0].clone() } else { format!("one of {}", quoted.join(", ")) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::judge::classify::classify;
    use crate::token::keys::Keys;
    use serde_json::{Value, json};
    use std::sync::Arc;

    fn verdict(claims: Value, alg: &str, policy: &Policy) -> Verdict {
        let header = Header { alg, signature_empty: alg == "none", signature_len: 256, ..Header::default() };
        let claims = claims.as_object().unwrap().clone();
        let view = Claims::of_map(&claims);
        judge(&header, &view, &classify(&view), policy, &Verification::not_checked())
    }

    fn policy() -> Policy {
        Policy::at(Timestamp::from_second(1_550_181_298).unwrap())
    }

    fn codes(v: &Verdict) -> Vec<&'static str> {
        v.findings.iter().map(|f| f.code.as_str()).collect()
    }

    const PC: &str = "https://api.partnercenter.microsoft.com";

    #[test]
    fn mfa_satisfied_only_by_the_exact_element() {
        let v = verdict(json!({"aud":PC,"scp":"x","amr":["pwd","mfa"]}), "RS256", &policy());
        assert_eq!((v.mfa, v.compliant, v.response.is_none()), (Mfa::Satisfied, true, true));
        for amr in [json!(["MFA"]), json!(["nomfa"]), json!("mfa"), json!(["mfa", 1]), json!([])] {
            let v = verdict(json!({"aud":PC,"scp":"x","amr":amr}), "RS256", &policy());
            assert_eq!((v.mfa, v.compliant), (Mfa::Missing, false), "{amr}");
            assert_eq!(v.response.as_ref().unwrap().status, 401);
        }
    }

    #[test]
    fn app_only_needs_no_mfa() {
        let v = verdict(json!({"aud":PC,"idtyp":"app","roles":["r"]}), "RS256", &policy());
        assert_eq!((v.mfa, v.compliant), (Mfa::NotRequired, true));
        assert!(v.findings.is_empty());
    }

    #[test]
    fn each_cause_has_its_finding() {
        let p = policy();
        let cases = [
            (json!(["pwd"]), "password-only"),
            (json!(["fed"]), "federated-no-mfa"),
            (json!(["pwd", "rsa"]), "strong-method-not-mfa"),
            (json!(["ngcmfa"]), "strong-method-not-mfa"),
            (json!(["wia"]), "wia-no-mfa"),
            (json!(["nomfa"]), "no-mfa"),
        ];
        for (amr, code) in cases {
            let v = verdict(json!({"aud":PC,"scp":"x","amr":amr}), "RS256", &p);
            assert_eq!(codes(&v), [code], "{amr}");
        }
        // A warning is not a cause: a hint says what to change.
        let v = verdict(json!({"aud":PC,"scp":"x","amr":["pwd", "Mfa"]}), "RS256", &p);
        assert_eq!(codes(&v), ["amr-case", "no-mfa"]);
        let v = verdict(json!({"aud":PC,"scp":"x","amr":{"m": 1}}), "RS256", &p);
        assert_eq!(codes(&v), ["amr-not-array", "no-mfa"]);
        let v = verdict(json!({"aud":PC,"scp":"x","ver":"2.0"}), "RS256", &p);
        assert_eq!(codes(&v), ["no-amr"]);
        assert!(v.findings[0].message.contains("v2.0"));
    }

    #[test]
    fn response_is_the_documented_401() {
        let v = verdict(json!({"aud":PC,"scp":"x","amr":["pwd"]}), "RS256", &policy());
        let response = v.response.unwrap();
        assert_eq!(
            (response.status, response.reason, response.error_code),
            (401, "Unauthorized - MFA required", 900421)
        );
        let names: Vec<_> = response.headers.iter().map(|(name, _)| *name).collect();
        assert_eq!(names, ["Transfer-Encoding", "Request-Context", "WWW-Authenticate", "Date"]);
        assert_eq!(
            response.text(),
            "HTTP/1.1 401 Unauthorized - MFA required\r\nTransfer-Encoding: chunked\r\n\
             Request-Context: appId=cid-v1:03ce8ca8-8373-4021-8f25-d5dd45c7b12f\r\n\
             WWW-Authenticate: Bearer error=\"invalid_token\"\r\nDate: Thu, 14 Feb 2019 21:54:58 GMT\r\n"
        );
    }

    #[test]
    fn time_only_counts_when_required() {
        let claims = json!({"aud":PC,"scp":"x","amr":["mfa"],"exp":1_550_000_000});
        let v = verdict(claims.clone(), "RS256", &policy());
        assert_eq!((v.compliant, codes(&v)), (true, vec!["expired"]));
        assert_eq!(v.findings[0].level, Level::Warning);
        let strict = Policy { require_valid_time: true, ..policy() };
        let v = verdict(claims, "RS256", &strict);
        assert_eq!((v.compliant, v.findings[0].level), (false, Level::Error));
        assert!(v.response.is_none(), "the 401 is the MFA response only");

        let within = json!({"aud":PC,"scp":"x","amr":["mfa"],"exp":1_550_181_200});
        assert!(verdict(within, "RS256", &strict).compliant, "inside the leeway");
        let future = json!({"aud":PC,"scp":"x","amr":["mfa"],"nbf":1_560_000_000,"exp":1_570_000_000});
        let v = verdict(future, "RS256", &strict);
        assert_eq!((v.compliant, codes(&v)), (false, vec!["not-yet-valid"]));
    }

    #[test]
    fn expected_issuer_and_audience() {
        let iss = "https://sts.windows.net/t/";
        let claims = json!({"aud":PC,"iss":iss,"scp":"x","amr":["mfa"]});
        let p = Policy { issuers: vec![iss.into()], audiences: vec![PC.into()], ..policy() };
        let v = verdict(claims.clone(), "RS256", &p);
        assert!(v.compliant && v.findings.is_empty(), "{:?}", v.findings);

        let p = Policy { issuers: vec!["https://sts.windows.net/other/".into()], ..policy() };
        let v = verdict(claims.clone(), "RS256", &p);
        assert_eq!((v.compliant, codes(&v)), (false, vec!["issuer-mismatch"]));
        assert!(v.response.is_none(), "MFA itself is satisfied");

        let p = Policy { audiences: vec!["https://graph.microsoft.com".into(), "api://x".into()], ..policy() };
        let v = verdict(claims, "RS256", &p);
        assert_eq!((v.compliant, codes(&v)), (false, vec!["audience-mismatch"]));
        assert!(v.findings[0].message.contains("one of \"https://graph.microsoft.com\", \"api://x\""));

        // aud may be an array: any element may match; an absent claim never does.
        let p = Policy { audiences: vec![PC.into()], issuers: vec![iss.into()], ..policy() };
        let v = verdict(json!({"aud":["api://x", PC],"iss":iss,"scp":"x","amr":["mfa"]}), "RS256", &p);
        assert!(v.compliant);
        let v = verdict(json!({"scp":"x","amr":["mfa"]}), "RS256", &p);
        assert_eq!(codes(&v), ["issuer-mismatch", "audience-mismatch"]);
        assert!(v.findings[0].message.starts_with("iss is absent"));
    }

    #[test]
    fn valid_time_requires_an_exp() {
        let strict = Policy { require_valid_time: true, ..policy() };
        let v = verdict(json!({"aud":PC,"scp":"x","amr":["mfa"]}), "RS256", &strict);
        assert_eq!((v.compliant, codes(&v)), (false, vec!["no-exp"]));
        let v = verdict(json!({"aud":PC,"scp":"x","amr":["mfa"],"exp":"tomorrow"}), "RS256", &strict);
        assert_eq!(codes(&v), ["no-exp"]);
        assert!(verdict(json!({"aud":PC,"scp":"x","amr":["mfa"]}), "RS256", &policy()).compliant);
    }

    #[test]
    fn a_failed_signature_check_is_an_error() {
        let header = Header { alg: "RS256", signature_len: 256, ..Header::default() };
        let claims = json!({"aud":PC,"scp":"x","amr":["mfa"]}).as_object().unwrap().clone();
        let view = Claims::of_map(&claims);
        let with = |signature, detail: &str| {
            judge(&header, &view, &classify(&view), &policy(), &Verification { signature, detail: detail.into() })
        };
        let v = with(Signature::Invalid, "does not match");
        assert_eq!((v.mfa, v.compliant, codes(&v)), (Mfa::Satisfied, false, vec!["bad-signature"]));
        assert_eq!(v.findings[0].message, "does not match");
        let v = with(Signature::UnknownKey, "no such kid");
        assert_eq!((v.compliant, codes(&v)), (false, vec!["unknown-key"]));
        assert!(with(Signature::Verified, "RS256").compliant);
    }

    #[test]
    fn under_requested_verification_only_verified_passes() {
        let keys = Keys::from_jwks(include_bytes!("../../fixtures/keys/jwks.json"), "jwks").unwrap();
        let asked = Policy { keys: Some(Arc::new(keys)), ..policy() };
        assert!(asked.verification_requested() && !policy().verification_requested());
        let header = Header { alg: "RS256", signature_len: 256, nonce: true, ..Header::default() };
        let claims = json!({"aud":"https://graph.microsoft.com","scp":"x","amr":["mfa"]}).as_object().unwrap().clone();
        let view = Claims::of_map(&claims);
        let with = |signature| {
            judge(&header, &view, &classify(&view), &asked, &Verification { signature, detail: "d".into() })
        };
        let unchecked = [
            (Signature::NotChecked, "not-verified"),
            (Signature::Unchecked(Unchecked::GraphNonce), "graph-token-unverifiable"),
            (Signature::Unchecked(Unchecked::IssuerNotMicrosoft), "issuer-not-microsoft"),
            (Signature::Unchecked(Unchecked::KeysUnavailable), "keys-unavailable"),
            (Signature::Invalid, "bad-signature"),
            (Signature::UnknownKey, "unknown-key"),
        ];
        for (signature, code) in unchecked {
            let v = with(signature);
            assert!(!v.compliant, "{signature:?}");
            let finding = v.findings.iter().find(|f| f.code.as_str() == code).expect(code);
            assert_eq!(finding.level, Level::Error, "{code}");
        }
        assert!(with(Signature::Verified).compliant);
        // A header nonce on a token that is not for Graph alone is named as no excuse.
        assert!(with(Signature::Invalid).findings[0].message.contains("not for Microsoft Graph alone"));
    }

    #[test]
    fn every_missing_mfa_has_a_hint() {
        for amr in [json!(["wia"]), json!(["none"]), json!(["pwd", "x"]), json!([]), json!(null), json!(["MFA"])] {
            for ver in ["1.0", "2.0"] {
                let v = verdict(json!({"aud":PC,"scp":"x","amr":amr,"ver":ver}), "RS256", &policy());
                assert!(v.findings.iter().any(|f| f.level == Level::Hint), "{amr} {ver}: {:?}", codes(&v));
            }
        }
    }

    #[test]
    fn id_tokens_are_refused_whatever_their_mfa() {
        let id = json!({"aud":"6e74172b-be56-4843-9ff4-e66a39bb12e3","nonce":"n","amr":["pwd","mfa"],"upn":"u@x",
                        "iss":"https://sts.windows.net/t/","ver":"1.0"});
        let v = verdict(id.clone(), "RS256", &policy());
        assert_eq!((v.compliant, codes(&v)[0]), (false, "id-token"));
        let mut no_amr = id.clone();
        no_amr["amr"] = json!(null);
        no_amr["ver"] = json!("2.0");
        let v = verdict(no_amr, "RS256", &policy());
        assert!(!codes(&v).contains(&"no-amr"), "no optional-claim advice for an ID token: {:?}", codes(&v));
        // Look-alikes: a v2 access token for the app's own API (aud = azp), a token with scp.
        let own = json!({"aud":"6e74172b-be56-4843-9ff4-e66a39bb12e3","azp":"6e74172b-be56-4843-9ff4-e66a39bb12e3",
                         "scp":"access_as_user","amr":["mfa"],"ver":"2.0"});
        assert!(!codes(&verdict(own, "RS256", &policy())).contains(&"id-token"));
    }

    #[test]
    fn b2c_tokens_get_no_sign_in_advice() {
        let b2c = json!({"iss":"https://contoso.b2clogin.com/775527ff-9a37-4307-8b3d-cc311f58d925/v2.0/",
                         "aud":"90c0fe63-bcf2-44d5-8fb7-b8bbc0b29dc6","azp":"90c0fe63-bcf2-44d5-8fb7-b8bbc0b29dc6",
                         "tfp":"B2C_1_signupsignin1","ver":"1.0","scp":"read","name":"x"});
        let v = verdict(b2c, "RS256", &policy());
        assert_eq!(codes(&v), ["b2c-token", "no-mfa", "not-partner-center"]);
        assert!(!v.findings[1].message.contains("interactive"), "{}", v.findings[1].message);
        assert!(!v.findings[2].message.contains("delegated-admin"), "{}", v.findings[2].message);
    }

    #[test]
    fn tenants_signatures_and_personal_accounts() {
        let v = verdict(
            json!({"aud":PC,"scp":"x","amr":["mfa"],"iss":"https://login.microsoftonline.com/11111111-1111-1111-1111-111111111111/v2.0",
                   "tid":"22222222-2222-2222-2222-222222222222"}),
            "RS256",
            &policy(),
        );
        assert_eq!(codes(&v), ["issuer-tenant-mismatch"]);
        let v = verdict(
            json!({"aud":PC,"scp":"x","amr":["mfa"],"iss":"https://sts.windows.net/a/","idp":"live.com"}),
            "RS256",
            &policy(),
        );
        assert!(
            v.findings[0].message.contains("personal Microsoft account, not a partner"),
            "{}",
            v.findings[0].message
        );
        let short = Header { alg: "RS256", signature_len: 200, ..Header::default() };
        let claims = json!({"aud":PC,"scp":"x","amr":["mfa"]}).as_object().unwrap().clone();
        let view = Claims::of_map(&claims);
        let v = judge(&short, &view, &classify(&view), &policy(), &Verification::not_checked());
        assert_eq!(codes(&v), ["truncated-signature"]);
        let es = Header { alg: "ES256", signature_len: 64, ..Header::default() };
        assert!(judge(&es, &view, &classify(&view), &policy(), &Verification::not_checked()).findings.is_empty());
    }

    #[test]
    fn partner_center_in_either_spelling() {
        let app_id = "fa3d9a0c-3fb0-42cc-9193-47c7ecd2edbd";
        let p = Policy { audiences: vec![PC.into()], ..policy() };
        let v = verdict(json!({"aud":app_id,"scp":"x","amr":["mfa"]}), "RS256", &p);
        assert!(v.compliant && v.findings.is_empty(), "{:?}", codes(&v));
        let p = Policy { audiences: vec![app_id.into()], ..policy() };
        assert!(verdict(json!({"aud":PC,"scp":"x","amr":["mfa"]}), "RS256", &p).compliant);
        let v = verdict(json!({"aud":"https://graph.microsoft.com","idtyp":"app","roles":["r"]}), "RS256", &policy());
        assert!(v.findings[0].message.contains("(Microsoft Graph)") && !v.findings[0].message.contains("delegated"));
    }

    #[test]
    fn context_findings() {
        let v = verdict(json!({"aud":"https://graph.microsoft.com","scp":"x","amr":["mfa"]}), "none", &policy());
        assert_eq!(codes(&v), ["unsigned", "not-partner-center"]);
        assert!(v.compliant, "context findings do not change the verdict");
        let v = verdict(
            json!({"aud":PC,"scp":"x","amr":["mfa"],"iss":"https://sts.windows.net/a/","idp":"https://sts.windows.net/b/"}),
            "RS256",
            &policy(),
        );
        assert_eq!(codes(&v), ["cross-tenant"]);
        let v = verdict(json!({"aud":PC}), "RS256", &policy());
        assert_eq!(codes(&v), ["no-amr", "kind-assumed"]);
    }
}
