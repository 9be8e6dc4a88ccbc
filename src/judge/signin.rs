//! The MFA decision for one Entra ID sign-in record (SPEC §5): `not-applicable`, `required`,
//! `satisfied`, `missing` or `unknown`, decided in that order from the record's own fields, with
//! the fields that decided (`reason`) and a hint for every `missing` and `required`.

use crate::input::signins::Signin;
use crate::judge::code::Code;
use crate::judge::hint;
use crate::judge::verdict::Finding;
use serde::Serialize;

/// Partner Center's application (resource) id.
pub const PARTNER_CENTER_ID: &str = "fa3d9a0c-3fb0-42cc-9193-47c7ecd2edbd";

/// What a sign-in record says about MFA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SigninMfa {
    NotApplicable,
    Required,
    Satisfied,
    Missing,
    Unknown,
}

impl SigninMfa {
    pub fn as_str(self) -> &'static str {
        match self {
            SigninMfa::NotApplicable => "not-applicable",
            SigninMfa::Required => "required",
            SigninMfa::Satisfied => "satisfied",
            SigninMfa::Missing => "missing",
            SigninMfa::Unknown => "unknown",
        }
    }

    /// Partner Center would refuse this user (exit 1).
    pub fn refused(self) -> bool {
        matches!(self, SigninMfa::Missing | SigninMfa::Required)
    }
}

/// The decision on one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub mfa: SigninMfa,
    pub reason: String,
    pub findings: Vec<Finding>,
}

/// AADSTS codes of a sign-in stopped because MFA was required, expired or not registered.
const MFA_REQUIRED_CODES: [i64; 5] = [50074, 50076, 50078, 50079, 500121];

fn hint(code: Code, message: impl Into<String>) -> Finding {
    Finding::new(code, message.into())
}

/// Letters and digits only, lower case: every export spells values its own way
/// (`singleFactorAuthentication`, `Single-factor authentication`, `Not Applied`).
fn lower(text: Option<&str>) -> String {
    text.unwrap_or_default().chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_lowercase()).collect()
}

/// `additionalDetails` (or a failure reason) saying MFA is required, not that it was satisfied.
fn says_mfa_required(text: &str) -> bool {
    let text = text.to_ascii_lowercase();
    (text.contains("mfa") || text.contains("multi-factor") || text.contains("multifactor"))
        && text.contains("requir")
        && !text.contains("satisfied")
        && !text.contains("completed")
}

/// Decides one record, in SPEC §5's order.
pub fn decide(s: &Signin) -> Decision {
    let kind = lower(s.signin_type.as_deref());
    if kind.contains("serviceprincipal") || kind.contains("managedidentity") {
        return Decision {
            mfa: SigninMfa::NotApplicable,
            reason: format!(
                "signin type {}: app-only, Partner Center's MFA rule does not apply",
                s.signin_type.as_deref().unwrap_or("")
            ),
            findings: Vec::new(),
        };
    }
    // Without a sign-in type: an app's own sign-in names its service principal and no user. A
    // record naming a user is a user's, whatever else it names.
    let user_type = lower(s.user_type.as_deref());
    let app_only_type = user_type.contains("serviceprincipal") || user_type.contains("managedidentity");
    if s.user.is_none() && (app_only_type || s.service_principal_id.is_some()) {
        let by = if app_only_type {
            format!("userType {}", s.user_type.as_deref().unwrap_or_default())
        } else {
            "servicePrincipalId".to_owned()
        };
        return Decision {
            mfa: SigninMfa::NotApplicable,
            reason: format!("{by} and no user: app-only, Partner Center's MFA rule does not apply"),
            findings: Vec::new(),
        };
    }
    if let Some(code) = s.error_code.filter(|c| MFA_REQUIRED_CODES.contains(c)) {
        return required(s, format!("errorCode {code}"), code);
    }
    let failed = s.error_code.is_some_and(|c| c != 0);
    if failed && let Some(details) = s.additional_details.as_deref().filter(|d| says_mfa_required(d)) {
        return required(s, format!("status.additionalDetails {details:?}"), 0);
    }
    if failed {
        return Decision {
            mfa: SigninMfa::Unknown,
            reason: format!(
                "errorCode {}: the sign-in failed for another reason, before MFA was decided",
                s.error_code.unwrap_or_default()
            ),
            findings: Vec::new(),
        };
    }
    let requirement = lower(s.authentication_requirement.as_deref());
    let mfa_step = s.steps.iter().find(|st| {
        st.succeeded == Some(true) && {
            let req = lower(st.requirement.as_deref());
            req.contains("mfa") || req.contains("multifactor")
        }
    });
    let detail_has = |needle: &str| s.steps.iter().any(|st| lower(st.result_detail.as_deref()).contains(needle));
    // Only a successful sign-in issued a token: without a status the record can't tell.
    if s.error_code.is_none() {
        return Decision {
            mfa: SigninMfa::Unknown,
            reason: "no status.errorCode (or ResultType): the record can't tell whether the sign-in succeeded".into(),
            findings: Vec::new(),
        };
    }
    if requirement == "multifactorauthentication" {
        return satisfied("authenticationRequirement multiFactorAuthentication".into());
    }
    if let Some(step) = mfa_step {
        return satisfied(format!(
            "authenticationDetails: a succeeded step with requirement {:?} ({})",
            step.requirement.as_deref().unwrap_or(""),
            step.method.as_deref().unwrap_or("method not named")
        ));
    }
    if detail_has("mfarequirementsatisfiedbyclaiminthetoken") {
        return satisfied("authenticationDetails \"MFA requirement satisfied by claim in the token\"".into());
    }
    // Graph and Log Analytics write the same words in the status of a successful sign-in.
    let details = lower(s.additional_details.as_deref());
    if ["mfarequirementsatisfiedbyclaiminthetoken", "mfacompletedinazuread"].iter().any(|d| details.contains(d)) {
        return satisfied(format!(
            "status.additionalDetails {:?}",
            s.additional_details.as_deref().unwrap_or_default()
        ));
    }
    {
        let by_claim = detail_has("firstfactorrequirementsatisfiedbyclaiminthetoken");
        if requirement == "singlefactorauthentication" || by_claim {
            let reason = if requirement == "singlefactorauthentication" {
                "errorCode 0 and authenticationRequirement singleFactorAuthentication"
            } else {
                "errorCode 0 and authenticationDetails \"First factor requirement satisfied by claim in the token\""
            };
            return Decision { mfa: SigninMfa::Missing, reason: reason.into(), findings: missing_hints(s, by_claim) };
        }
    }
    Decision {
        mfa: SigninMfa::Unknown,
        reason: format!(
            "authenticationRequirement {:?} and authenticationDetails say neither single- nor multi-factor",
            s.authentication_requirement.as_deref().unwrap_or("absent")
        ),
        findings: Vec::new(),
    }
}

fn satisfied(reason: String) -> Decision {
    Decision { mfa: SigninMfa::Satisfied, reason, findings: Vec::new() }
}

fn required(s: &Signin, reason: String, code: i64) -> Decision {
    const FIX: &str = "The fix is the sign-in, not the token: no token was issued";
    let finding = match code {
        50079 => hint(
            Code::SigninMfaNotRegistered,
            format!(
                "AADSTS50079: the user must register an MFA method before signing in. Register one (https://aka.ms/mfasetup), then sign in interactively. {FIX}"
            ),
        ),
        50078 => hint(
            Code::SigninMfaExpired,
            format!(
                "AADSTS50078: the earlier MFA expired under sign-in frequency or remember-MFA settings. Sign in interactively and complete MFA again. {FIX}"
            ),
        ),
        _ => hint(
            Code::SigninMfaRequired,
            format!(
                "MFA was required and not completed, and a non-interactive flow (refresh token, password grant) cannot prompt for it. {}, and complete the MFA prompt. {FIX}",
                hint::INTERACTIVE_FLOW
            ),
        ),
    };
    let mut findings = vec![finding];
    federated(s, &mut findings);
    Decision { mfa: SigninMfa::Required, reason, findings }
}

fn missing_hints(s: &Signin, by_claim: bool) -> Vec<Finding> {
    let mut findings = vec![hint(
        Code::SigninSingleFactor,
        "the sign-in succeeded with one factor: the token it issued has no mfa in amr, and Partner Center will answer 401 (900421)",
    )];
    let non_interactive =
        s.is_interactive == Some(false) || lower(s.signin_type.as_deref()).contains("noninteractive") || by_claim;
    if non_interactive {
        findings.push(hint(
            Code::SigninNonInteractive,
            format!(
                "a non-interactive flow (a refresh token redeemed, or the password grant) cannot prompt for MFA, and the session it used had none. {}, then keep the refresh token that flow returns",
                hint::INTERACTIVE_FLOW
            ),
        ));
    }
    if lower(s.conditional_access_status.as_deref()) == "notapplied" {
        findings.push(hint(
            Code::SigninConditionalAccessNotApplied,
            "no Conditional Access policy applied (conditionalAccessStatus notApplied): require MFA for this user and for Partner Center (or all cloud apps) in Conditional Access",
        ));
    } else if !non_interactive {
        findings.push(hint(
            Code::SigninConditionalAccessNotApplied,
            "nothing asked for a second factor: require MFA for this user and app with Conditional Access; if an earlier MFA was expected to carry over, remember-MFA or sign-in frequency may have lapsed",
        ));
    }
    federated(s, &mut findings);
    findings
}

fn federated(s: &Signin, findings: &mut Vec<Finding>) {
    let issuer = lower(s.token_issuer_type.as_deref());
    if issuer.contains("federation") || issuer.contains("adfs") {
        findings.push(hint(
            Code::SigninFederatedNoMfa,
            format!(
                "the user signs in through a federated identity provider: {}, or enforce MFA in Entra ID",
                hint::FEDERATED_NO_RELAY
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::signins::Step;

    fn user(error_code: i64, requirement: &str) -> Signin {
        Signin {
            signin_type: Some("interactiveUser".into()),
            error_code: Some(error_code),
            authentication_requirement: Some(requirement.into()),
            is_interactive: Some(true),
            ..Signin::default()
        }
    }

    fn step(requirement: &str, succeeded: bool, detail: &str) -> Step {
        Step {
            method: Some("Password".into()),
            requirement: Some(requirement.into()),
            succeeded: Some(succeeded),
            result_detail: Some(detail.into()),
        }
    }

    fn codes(d: &Decision) -> Vec<&str> {
        d.findings.iter().map(|f| f.code.as_str()).collect()
    }

    #[test]
    fn service_principal_and_managed_identity_are_not_applicable() {
        for kind in ["servicePrincipal", "managedIdentity", "ServicePrincipalSignInLogs"] {
            let s = Signin { signin_type: Some(kind.into()), error_code: Some(0), ..Signin::default() };
            assert_eq!(decide(&s).mfa, SigninMfa::NotApplicable, "{kind}");
        }
    }

    #[test]
    fn mfa_codes_are_required_with_a_hint_about_the_sign_in() {
        for code in MFA_REQUIRED_CODES {
            let d = decide(&user(code, "multiFactorAuthentication"));
            assert_eq!(d.mfa, SigninMfa::Required, "{code}");
            assert!(d.reason.contains(&code.to_string()));
            assert!(d.findings[0].message.contains("not the token"));
        }
        assert_eq!(codes(&decide(&user(50079, ""))), ["signin-mfa-not-registered"]);
        assert_eq!(codes(&decide(&user(50078, ""))), ["signin-mfa-expired"]);
    }

    #[test]
    fn additional_details_saying_mfa_required_is_required() {
        let mut s = user(50158, "singleFactorAuthentication");
        s.additional_details = Some("MFA is required for this sign-in".into());
        let d = decide(&s);
        assert_eq!(d.mfa, SigninMfa::Required);
        assert!(d.reason.contains("additionalDetails"));
    }

    #[test]
    fn satisfied_by_requirement_step_or_claim() {
        assert_eq!(decide(&user(0, "multiFactorAuthentication")).mfa, SigninMfa::Satisfied);
        let mut s = user(0, "");
        s.steps = vec![
            step("Primary authentication", true, "Correct password"),
            step("MFA", true, "MFA successfully completed"),
        ];
        let d = decide(&s);
        assert_eq!(d.mfa, SigninMfa::Satisfied);
        assert!(d.reason.contains("succeeded step"));
        let mut s = user(0, "");
        s.steps = vec![step("Primary authentication", true, "MFA requirement satisfied by claim in the token")];
        assert_eq!(decide(&s).mfa, SigninMfa::Satisfied);
        // A failed MFA step is not satisfaction.
        let mut s = user(0, "");
        s.steps = vec![step("MFA", false, "")];
        assert_ne!(decide(&s).mfa, SigninMfa::Satisfied);
    }

    #[test]
    fn single_factor_success_is_missing_with_hints() {
        let mut s = user(0, "singleFactorAuthentication");
        s.conditional_access_status = Some("notApplied".into());
        let d = decide(&s);
        assert_eq!(d.mfa, SigninMfa::Missing);
        assert!(d.reason.contains("singleFactorAuthentication"));
        assert_eq!(codes(&d), ["signin-single-factor", "signin-conditional-access-not-applied"]);

        let mut s = user(0, "");
        s.signin_type = Some("nonInteractiveUser".into());
        s.is_interactive = Some(false);
        s.token_issuer_type = Some("ADFederationServices".into());
        s.steps =
            vec![step("Primary authentication", true, "First factor requirement satisfied by claim in the token")];
        let d = decide(&s);
        assert_eq!(d.mfa, SigninMfa::Missing);
        assert_eq!(codes(&d), ["signin-single-factor", "signin-non-interactive", "signin-federated-no-mfa"]);
    }

    #[test]
    fn other_failures_and_empty_records_are_unknown() {
        for code in [50126, 50140, 53003] {
            let d = decide(&user(code, "singleFactorAuthentication"));
            assert_eq!(d.mfa, SigninMfa::Unknown, "{code}");
            assert!(d.findings.is_empty());
        }
        assert_eq!(decide(&Signin::default()).mfa, SigninMfa::Unknown);
        let no_status =
            Signin { authentication_requirement: Some("multiFactorAuthentication".into()), ..Signin::default() };
        assert_eq!(decide(&no_status).mfa, SigninMfa::Unknown);
        assert_eq!(decide(&user(0, "")).mfa, SigninMfa::Unknown);
    }

    #[test]
    fn mfa_satisfied_details_are_not_read_as_required() {
        assert!(!says_mfa_required("MFA requirement satisfied by claim in the token"));
        assert!(says_mfa_required("MFA required in Azure AD"));
    }
}

/// Which sign-ins are judged (`--resource`); the others are counted and skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    PartnerCenter,
    Any,
    Id(String),
}

impl Resource {
    pub fn parse(text: &str) -> Resource {
        match text {
            "partner-center" => Resource::PartnerCenter,
            "any" => Resource::Any,
            id => Resource::Id(id.to_owned()),
        }
    }

    /// Whether the record's resource is the one asked for (by id, or Partner Center's display
    /// name). `Err` when the record names no resource at all: skipping it as another resource's
    /// would pass a sign-in that was never checked.
    pub fn matches(&self, s: &Signin) -> Result<bool, String> {
        if *self != Resource::Any && s.resource_id.is_none() && s.resource_name.is_none() {
            return Err("the record names no resource (resourceId, ResourceIdentity, Resource ID or a display name): \
                        it can't be told whether it is a sign-in to the resource judged; --resource any judges it"
                .into());
        }
        let id = s.resource_id.as_deref().unwrap_or_default();
        let name = s.resource_name.as_deref().unwrap_or_default();
        Ok(match self {
            Resource::Any => true,
            Resource::PartnerCenter => {
                id.eq_ignore_ascii_case(PARTNER_CENTER_ID)
                    || name.eq_ignore_ascii_case("Partner Center")
                    || name.eq_ignore_ascii_case("Microsoft Partner Center")
            }
            Resource::Id(want) => id.eq_ignore_ascii_case(want) || name.eq_ignore_ascii_case(want),
        })
    }

    /// Whether a record's raw JSON text could be one [`Resource::matches`] accepts (or refuses
    /// for naming no resource): `false` only when it holds none of the names matched (in any
    /// case), no `\u` escape that could spell one, and the word `resource`. Lets the reader skip
    /// most of an export without building its records.
    pub fn may_match(&self, raw: &[u8]) -> bool {
        let names: &[&str] = match self {
            Resource::Any => return true,
            // "Microsoft Partner Center" holds "Partner Center".
            Resource::PartnerCenter => &[PARTNER_CENTER_ID, "Partner Center"],
            Resource::Id(want) => &[want.as_str()],
        };
        memchr::memmem::find(raw, b"\\u").is_some()
            || !contains_ignore_case(raw, b"resource")
            || names.iter().any(|name| contains_ignore_case(raw, name.as_bytes()))
    }
}

fn contains_ignore_case(haystack: &[u8], needle: &[u8]) -> bool {
    let Some(&first) = needle.first() else { return true };
    let (lower, upper) = (first.to_ascii_lowercase(), first.to_ascii_uppercase());
    let mut at = 0;
    while let Some(i) = memchr::memchr2(lower, upper, &haystack[at..]) {
        let start = at + i;
        if haystack.get(start..start + needle.len()).is_some_and(|h| h.eq_ignore_ascii_case(needle)) {
            return true;
        }
        at = start + 1;
    }
    false
}

#[cfg(test)]
mod resource_tests {
    use super::*;

    #[test]
    fn may_match_is_false_only_without_any_spelling_of_the_resource() {
        let pc = Resource::PartnerCenter;
        assert!(pc.may_match(br#"{"resourceId":"FA3D9A0C-3FB0-42CC-9193-47C7ECD2EDBD"}"#));
        assert!(pc.may_match(br#"{"ResourceDisplayName":"microsoft partner center"}"#));
        assert!(pc.may_match(br#"{"resourceId":"\u0066a3d9a0c-3fb0-42cc-9193-47c7ecd2edbd"}"#));
        assert!(!pc.may_match(br#"{"resourceId":"00000003-0000-0000-c000-000000000000","x":"Partner Centre"}"#));
        assert!(Resource::Any.may_match(b"{}"));
        assert!(Resource::parse("Graph").may_match(b"{\"r\":\"Microsoft GRAPH\"}"));
        assert!(!Resource::parse("Graph").may_match(b"{\"resourceId\":\"r\"}"));
        // A record without the word can't be placed: it is built, and refused by `matches`.
        assert!(pc.may_match(b"{\"appId\":\"a\"}"));
    }
}
