//! Entra's refusals of a refresh token grant (`redeem`), explained: what each `AADSTS` code (or
//! OAuth `error`) means for a partner's stored refresh token, and what to do. The one place these
//! fixes are written; the renderers only show them.

use crate::judge::Outcome;
use crate::token::signature::Signature;
use serde::Serialize;

/// Entra's error answer from the token endpoint, as the result object's `error.entra`. Its text
/// fields are sanitised by whoever builds it (a hostile endpoint chooses them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct EntraError {
    /// The HTTP status of the answer.
    pub http_status: u16,
    /// The OAuth `error` (`invalid_grant`, `invalid_client`, `interaction_required`…).
    pub error: String,
    /// The `AADSTS` number of `error_description` (else the first of `error_codes`).
    pub aadsts: Option<u32>,
    pub error_codes: Vec<u32>,
    pub suberror: Option<String>,
    pub trace_id: Option<String>,
    pub correlation_id: Option<String>,
    /// What to do about it; null when mfacheck knows no more than Entra's description.
    pub fix: Option<&'static str>,
}

impl EntraError {
    pub fn new(http_status: u16, error: String, aadsts: Option<u32>, error_codes: Vec<u32>) -> Self {
        let fix = fix(aadsts, &error);
        EntraError {
            http_status,
            error,
            aadsts,
            error_codes,
            suberror: None,
            trace_id: None,
            correlation_id: None,
            fix,
        }
    }

    /// Adds the ids Entra's support asks for and the sub-error.
    pub fn with_ids(
        mut self,
        suberror: Option<String>,
        trace_id: Option<String>,
        correlation_id: Option<String>,
    ) -> Self {
        (self.suberror, self.trace_id, self.correlation_id) = (suberror, trace_id, correlation_id);
        self
    }
}

const REDO_MFA_CONSENT: &str = "the consent behind this refresh token was made without MFA, or its MFA has \
    expired: redo the consent (the Secure Application Model's authorization) signed in with an MFA-enabled \
    account that completes MFA, and turn off \"remember MFA on trusted devices\" for that account, which \
    time-limits the MFA the refresh token carries";

const REDO_CONSENT: &str = "the refresh token expired (unused for 90 days, or past its maximum age) or was \
    revoked (password reset, sign-out everywhere, admin revocation): redo the consent with an MFA-enabled \
    account and store the new refresh token";

/// The fix for Entra's refusal: by `AADSTS` code first, then by the OAuth `error`.
pub fn fix(aadsts: Option<u32>, error: &str) -> Option<&'static str> {
    let by_code = match aadsts {
        Some(50076 | 50079 | 50078 | 50074) => Some(REDO_MFA_CONSENT),
        Some(700082 | 70008 | 50173 | 700084) => Some(REDO_CONSENT),
        Some(65001) => Some(
            "the application has no consent for this scope in the tenant: have an administrator of the tenant \
             grant consent to the app's delegated permission (Partner Center: user_impersonation), then redo the \
             consent",
        ),
        Some(7000215) => Some(
            "the client secret is wrong: give the secret's value (not its id) from the app registration's \
             Certificates & secrets, or create a new one",
        ),
        Some(7000222) => Some(
            "the client secret has expired: create a new one in the app registration's Certificates & secrets \
             and give it with --client-secret-file",
        ),
        Some(700016) => Some(
            "the application (--client-id) is not found in the tenant (--tenant): check both ids, and that the \
             app is registered or consented there (a multi-tenant app needs consent in the customer's tenant)",
        ),
        _ => None,
    };
    by_code.or(match error {
        "invalid_client" => Some(
            "the client credential was refused: check --client-secret-file or --certificate-file (whose \
             certificate must be uploaded to the app registration), or, with neither, that the app allows public \
             client flows",
        ),
        "invalid_grant" => Some(
            "the refresh token was refused: it has expired, was revoked, or was issued to another client or \
             tenant; redo the consent with an MFA-enabled account",
        ),
        _ => None,
    })
}

/// Why the access token Entra granted cannot be its answer to this grant, so the refresh token
/// beside it is not stored: not verified as Entra's, issued to another application than
/// `client_id`, or in another tenant than `tenant` (when that is a tenant id; a domain name is not
/// in the token). `None`: it is.
pub fn not_the_grants(outcome: &Outcome, client_id: &str, tenant: &str) -> Option<String> {
    if outcome.signature.signature != Signature::Verified {
        return Some(format!("it was not verified as Entra's (signature {})", outcome.signature.signature.as_str()));
    }
    let Some(token) = outcome.token.as_ref() else { return Some("it has no claims to read".to_owned()) };
    let app = token.app_id.as_deref().unwrap_or("none");
    if !app.eq_ignore_ascii_case(client_id) {
        return Some(format!("it was issued to application {}, not --client-id", crate::error::preview(app)));
    }
    let tid = token.tid.as_deref().unwrap_or("none");
    if crate::token::issuer::is_guid(tenant) && !tid.eq_ignore_ascii_case(tenant) {
        return Some(format!("it was issued in tenant {}, not --tenant", crate::error::preview(tid)));
    }
    None
}

/// The `AADSTS` number at the start of an `error_description` (`AADSTS50076: Due to…`).
pub fn aadsts(description: &str) -> Option<u32> {
    let rest = &description[description.find("AADSTS")? + "AADSTS".len()..];
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    rest[..digits].parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_first_then_the_oauth_error() {
        assert_eq!(fix(Some(50076), "invalid_grant"), Some(REDO_MFA_CONSENT));
        assert_eq!(fix(Some(70008), "invalid_grant"), Some(REDO_CONSENT));
        assert!(fix(Some(1), "invalid_grant").unwrap().starts_with("the refresh token was refused"));
        assert!(fix(None, "invalid_client").unwrap().contains("client credential"));
        assert_eq!(fix(Some(90002), "invalid_request"), None);
        assert_eq!(aadsts("AADSTS50076: Due to a configuration change"), Some(50076));
        assert_eq!(aadsts("no code"), None);
        assert_eq!(aadsts("AADSTS"), None);
    }
}
