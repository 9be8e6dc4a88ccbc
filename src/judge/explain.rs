//! One-line meanings of Entra ID claims, the way jwt.ms explains them, for `--explain`: `amr`
//! methods (RFC 8176 and Entra's own), `appidacr`/`azpacr`, `idp` and cross-tenant sign-ins,
//! directory roles in `wids` by name, scopes, roles and times.

use crate::clock;
use crate::judge::classify::{Kind, classify};
use crate::judge::roles;
use crate::token::audience;
use crate::token::claims::{Claims, TokenType};
use serde_json::{Map, Value};

/// One claim explained: its name, its value as text, and what it means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub name: String,
    pub value: String,
    pub meaning: String,
}

/// Every claim of `claims`, in token order. `now` (unix seconds) phrases expiry.
pub fn claims(claims: &Map<String, Value>, now: i64) -> Vec<Line> {
    claims
        .iter()
        .map(|(name, value)| Line {
            name: name.clone(),
            value: show(value),
            meaning: meaning(name, value, claims, now),
        })
        .collect()
}

/// A value for one line: strings bare, arrays of strings comma-separated, anything else as JSON.
fn show(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) if !items.is_empty() && items.iter().all(Value::is_string) => {
            items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", ")
        }
        other => other.to_string(),
    }
}

fn strings(value: &Value) -> Vec<&str> {
    match value {
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        Value::String(s) => s.split(',').map(str::trim).filter(|s| !s.is_empty()).collect(),
        _ => Vec::new(),
    }
}

fn meaning(name: &str, value: &Value, all: &Map<String, Value>, now: i64) -> String {
    let text = value.as_str().unwrap_or_default();
    let time = || value.as_i64().and_then(clock::rfc3339).unwrap_or_else(|| "not a NumericDate".into());
    let view = Claims::of_map(all);
    // An app-only token has no user: its idp, wids and oid are the service principal's.
    let app_only = classify(&view).kind == Kind::AppOnly;
    let subject = if app_only { "the service principal (app-only: there is no user)" } else { "the user" };
    match name {
        "aud" if view.token_type() == TokenType::Id => {
            "audience: the client app's own id (an ID token is for the app that signed the user in, not for an \
             API)"
                .into()
        }
        "aud" => {
            let first = match value {
                Value::Array(items) => items.first().and_then(Value::as_str).unwrap_or_default(),
                _ => text,
            };
            let whose = match audience::name(first) {
                Some(audience::PARTNER_CENTER) => " (Partner Center)".to_owned(),
                Some(name) => format!(" ({name}, not Partner Center)"),
                None => " (not Partner Center)".to_owned(),
            };
            format!("audience: the API this token is for{whose}")
        }
        "iss" if view.is_b2c() => {
            let form = if view.issuer_version() == Some("2.0") { " (v2.0 form)" } else { "" };
            format!("issuer: an Azure AD B2C tenant (customer identities, never a partner's staff){form}")
        }
        "iss" => {
            let form = match view.issuer_version() {
                Some(version) => format!(" (v{version} form)"),
                None => String::new(),
            };
            format!("issuer: the Entra ID tenant whose token service issued the token{form}")
        }
        "iat" => format!("issued at {}", time()),
        "nbf" => match value.as_i64() {
            Some(nbf) if nbf > now => format!("not valid before {} (not valid yet)", time()),
            _ => format!("not valid before {}", time()),
        },
        "exp" => match value.as_i64() {
            Some(exp) => format!("expires at {} ({})", time(), clock::expiry_phrase(exp, now)),
            None => "expiry, not a NumericDate".into(),
        },
        "auth_time" => format!("the user last authenticated at {}", time()),
        // Entra ID sends it as a string of digits as often as as a number.
        "xms_tcdt" => match value.as_i64().or_else(|| text.parse().ok()).and_then(clock::rfc3339) {
            Some(date) => format!("the tenant was created at {date}"),
            None => format!("when the tenant was created (given as {}, not as a NumericDate)", show(value)),
        },
        "acr" if view.is_b2c() => "Azure AD B2C: the user flow or custom policy that issued the token".into(),
        "acr" => match text {
            "0" => "authentication context class 0: the sign-in did not meet ISO/IEC 29115 (v1.0)".into(),
            _ => "authentication context class of the sign-in (v1.0)".into(),
        },
        "tfp" => "trust framework policy: the Azure AD B2C user flow or custom policy that issued the token \
                  (a B2C token: Partner Center does not accept it)"
            .into(),
        "acrs" => "Conditional Access authentication contexts the sign-in satisfied (step-up requirements)".into(),
        "acct" => match value.as_i64() {
            Some(0) => "account type: 0 = a member of the tenant".into(),
            Some(1) => "account type: 1 = a guest in the tenant".into(),
            _ => "account type in the tenant (0 member, 1 guest)".into(),
        },
        "xms_mirid" => "resource id of the managed identity the token was issued to (Azure)".into(),
        "signin_state" => "sign-in state: kmsi = the user chose to stay signed in, inknownntwk = from a trusted \
                           network, dvc_mngd / dvc_cmp = a managed / compliant device"
            .into(),
        "xms_idrel" => "the principal's relationship to the tenant (Entra ID's codes, e.g. member or guest)".into(),
        "nonce" => "OpenID Connect nonce: a sign of an ID token, which no API accepts as a bearer token".into(),
        "at_hash" => "hash of the access token issued with this ID token: this is an ID token, send the access \
                      token instead"
            .into(),
        "c_hash" => "hash of the authorization code issued with this ID token".into(),
        "amr" => amr_meaning(value),
        "appid" | "azp" => "application (client) id of the app that asked for the token".into(),
        "appidacr" | "azpacr" => match text {
            "0" => "how the client app authenticated: 0 = public client (no secret or certificate)".into(),
            "1" => "how the client app authenticated: 1 = client secret".into(),
            "2" => "how the client app authenticated: 2 = client certificate (or managed identity)".into(),
            _ => "how the client app authenticated (0 public client, 1 secret, 2 certificate)".into(),
        },
        "idtyp" => match text {
            "app" => "token type: app = app-only (no user; MFA does not apply)".into(),
            "user" => "token type: user = app+user (Partner Center requires mfa in amr)".into(),
            _ => "token type (optional claim): app = app-only, user = app+user".into(),
        },
        "idp" if app_only => format!("identity provider of {subject}"),
        "idp" if view.personal_account() => {
            "identity provider that authenticated the user: a personal Microsoft account (consumer), so a \
             guest, not a partner's delegated-admin sign-in"
                .into()
        }
        "idp" => {
            if !view.cross_tenant() {
                "identity provider that authenticated the user: the issuing tenant itself".into()
            } else {
                "identity provider that authenticated the user: not the issuer, so a cross-tenant sign-in \
                 (a guest, or a partner's DAP/GDAP admin in a customer tenant)"
                    .into()
            }
        }
        "oid" if app_only => "object id of the app's service principal in Entra ID (app-only: no user)".into(),
        "oid" => "object id of the signed-in principal in Entra ID (the same for every app)".into(),
        "sub" => {
            if all.get("oid").is_some_and(|oid| oid == value) && app_only {
                "subject: equals oid, so the principal is the app's own service principal (app-only)".into()
            } else if all.get("oid").is_some_and(|oid| oid == value) {
                "subject: equals oid (an app-only sign, but another claim makes this an app+user token)".into()
            } else {
                "subject: the principal, as a pairwise id unique to this app".into()
            }
        }
        "scp" => "delegated permissions (scopes) the user let the client app use: only user tokens have them".into(),
        "roles" => {
            "app roles granted: application permissions in an app-only token, the user's roles in a user token".into()
        }
        "wids" => wids_meaning(value, subject),
        "groups" => "object ids of the user's groups".into(),
        "hasgroups" => "the user is in too many groups to list here: ask Microsoft Graph".into(),
        "tid" => "tenant id: the Entra ID directory the token was issued in".into(),
        "tenant_region_scope" => "region of the tenant".into(),
        "tenant_ctry" => "country of the tenant".into(),
        "ctry" => "country or region of the user".into(),
        "upn" => "user principal name: the user's sign-in name (v1.0)".into(),
        "unique_name" => "a display name for the user (v1.0; not guaranteed unique or stable)".into(),
        "preferred_username" => "the user's sign-in name (v2.0; it can change, do not authorize on it)".into(),
        "email" => "the user's email address".into(),
        "name" => "the user's display name".into(),
        "given_name" => "the user's first name".into(),
        "family_name" => "the user's last name".into(),
        "ipaddr" => "IP address the user signed in from".into(),
        "fwd" => "IP address of the original client, when a proxy forwarded the sign-in".into(),
        "onprem_sid" => "the user's on-premises Active Directory security identifier".into(),
        "deviceid" => "object id in Entra ID of the device the user signed in on".into(),
        "sid" => "session id of the sign-in".into(),
        "in_corp" => "the sign-in came from inside the corporate network".into(),
        "ver" if view.is_b2c() => "token format as Azure AD B2C labels it (its issuer's form is what counts)".into(),
        "ver" => match text {
            "1.0" => "token format 1.0 (appid, upn, sts.windows.net issuer): what Partner Center takes".into(),
            "2.0" => "token format 2.0 (azp, preferred_username; amr only as an optional claim)".into(),
            _ => "token format version".into(),
        },
        "xms_cc" => "client capabilities: CP1 = the client can handle claims challenges, so it gets continuous \
                     access evaluation (CAE) and long-lived tokens that are revoked on events"
            .into(),
        "aio" | "rh" | "uti" | "puid" | "xms_st" | "xms_ftd" => "internal to Entra ID: do not rely on it".into(),
        _ => "not a claim mfacheck describes".into(),
    }
}

fn amr_meaning(value: &Value) -> String {
    let Value::Array(items) = value else {
        return "authentication methods: not an array of strings, so it cannot satisfy MFA".into();
    };
    if items.is_empty() {
        return "authentication methods: none recorded, so no MFA".into();
    }
    let methods: Vec<String> = items
        .iter()
        .map(|item| match item.as_str() {
            Some(m) => format!("{m} = {}", amr_method(m).unwrap_or("unknown method")),
            None => format!("{item} = not a string"),
        })
        .collect();
    let verdict = if items.iter().any(|m| m == "mfa") {
        "mfa present, as Partner Center requires"
    } else {
        "no mfa element, which Partner Center requires of app+user tokens"
    };
    format!("authentication methods: {}; {verdict}", methods.join("; "))
}

/// What one `amr` value means: RFC 8176's values and those Entra ID emits.
pub fn amr_method(method: &str) -> Option<&'static str> {
    Some(match method {
        "pwd" => "password (or an app's client secret)",
        "rsa" => "proof with an RSA key (e.g. Microsoft Authenticator, a certificate)",
        "otp" => "one-time passcode",
        "fed" => "a federated identity provider authenticated the user",
        "wia" => "Windows integrated authentication",
        "mfa" => "multi-factor authentication",
        "ngcmfa" => "MFA used to provision an advanced credential (Entra: equivalent to mfa; Partner Center: not)",
        "wiaormfa" => "Windows integrated authentication or MFA",
        "none" => "no authentication method",
        "fido" => "a FIDO2 security key",
        "face" => "facial biometrics",
        "fpt" => "fingerprint biometrics",
        "geo" => "geolocation",
        "hwk" => "proof of possession of a hardware-secured key",
        "iris" => "iris scan biometrics",
        "kba" => "knowledge-based authentication",
        "mca" => "multiple-channel authentication",
        "pin" => "a personal identification number",
        "pop" => "proof of possession of a key",
        "rba" => "risk-based authentication",
        "retina" => "retina scan biometrics",
        "sc" => "a smart card",
        "sms" => "confirmation by text message",
        "swk" => "proof of possession of a software-secured key",
        "tel" => "confirmation by telephone call",
        "user" => "a user presence test",
        "vbm" => "voice biometrics",
        _ => return None,
    })
}

fn wids_meaning(value: &Value, subject: &str) -> String {
    let ids = strings(value);
    if ids.is_empty() {
        return format!("directory roles of {subject} (role template ids)");
    }
    let mut names: Vec<&str> = ids.iter().filter_map(|id| roles::name(id)).collect();
    // Unknown ids (custom roles, or newer than the table) make one phrase, whatever their number.
    let unknown = ids.len() - names.len();
    let phrase = match unknown {
        0 => String::new(),
        1 => "a role mfacheck does not name".into(),
        n => format!("{n} roles mfacheck does not name"),
    };
    if unknown > 0 {
        names.push(&phrase);
    }
    format!("directory roles of {subject}: {}", names.join(", "))
}

/// The name of an Entra ID built-in role, by template id (as `wids` carries them).
pub fn role_name(template_id: &str) -> Option<&'static str> {
    roles::name(template_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn explain(value: Value) -> Vec<(String, String)> {
        claims(value.as_object().unwrap(), 1_000).into_iter().map(|l| (l.name, l.meaning)).collect()
    }

    #[test]
    fn amr_values_are_spelled_out_with_the_verdict() {
        let got = explain(json!({"amr": ["pwd", "mfa"]}));
        assert_eq!(
            got[0].1,
            "authentication methods: pwd = password (or an app's client secret); mfa = multi-factor \
             authentication; mfa present, as Partner Center requires"
        );
        let got = explain(json!({"amr": ["ngcmfa", "zzz"]}));
        assert!(got[0].1.contains("zzz = unknown method; no mfa element"), "{}", got[0].1);
        assert!(explain(json!({"amr": "mfa"}))[0].1.contains("not an array"));
    }

    #[test]
    fn wids_are_named_and_unknown_ones_said_so() {
        let got =
            explain(json!({"wids": ["62e90394-69f5-4237-9190-012177145e10", "00000000-0000-0000-0000-000000000001"]}));
        assert_eq!(got[0].1, "directory roles of the user: Global Administrator, a role mfacheck does not name");
        let got =
            explain(json!({"wids": ["00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-000000000002",
            "c4e39bd9-1100-46d3-8c65-fb160da0071f"], "upn": "u"}));
        assert_eq!(
            got[0].1,
            "directory roles of the user: Authentication Administrator, 2 roles mfacheck does not name"
        );
        assert_eq!(roles::ROLES.iter().filter(|(_, n)| *n == "Global Administrator").count(), 1);
    }

    #[test]
    fn app_only_claims_belong_to_the_service_principal() {
        let got = explain(
            json!({"idtyp": "app", "idp": "https://sts.windows.net/a/", "wids": ["62e90394-69f5-4237-9190-012177145e10"]}),
        );
        assert!(got[1].1.contains("service principal") && !got[1].1.contains("the user"), "{}", got[1].1);
        assert!(got[2].1.starts_with("directory roles of the service principal"), "{}", got[2].1);
    }

    #[test]
    fn more_claims() {
        let got = explain(json!({"xms_tcdt": "1600000000", "acct": 1, "tfp": "B2C_1_x", "acr": "b2c_1_x",
            "xms_cc": ["CP1"], "xms_mirid": "/subscriptions/x", "signin_state": ["kmsi"], "xms_idrel": "1 2"}));
        assert_eq!(got[0].1, "the tenant was created at 2020-09-13T12:26:40Z", "a digit string is a date too");
        assert_eq!(got[1].1, "account type: 1 = a guest in the tenant");
        assert!(got[2].1.contains("B2C") && got[3].1.contains("B2C"));
        assert!(got[4].1.contains("continuous access evaluation"));
        for line in &got {
            assert_ne!(line.1, "not a claim mfacheck describes", "{}", line.0);
        }
        let got = explain(json!({"aud": "6e74172b-be56-4843-9ff4-e66a39bb12e3", "nonce": "n", "upn": "u"}));
        assert!(got[0].1.contains("client app's own id"), "{}", got[0].1);
        let got = explain(json!({"ver": "1.0", "tfp": "B2C_1_x"}));
        assert!(got[0].1.contains("B2C"), "{}", got[0].1);
    }

    #[test]
    fn cross_tenant_idp_and_app_only_sub() {
        let got = explain(json!({"iss": "https://sts.windows.net/a/", "idp": "https://sts.windows.net/b/"}));
        assert!(got[1].1.contains("cross-tenant"));
        let got = explain(json!({"iss": "https://sts.windows.net/a/", "idp": "https://sts.windows.net/a"}));
        assert!(got[1].1.contains("issuing tenant itself"));
        let got = explain(json!({"oid": "x", "sub": "x"}));
        assert!(got[1].1.contains("service principal"));
        // scp decides first: the token is app+user whatever sub says.
        let got = explain(json!({"scp": "x", "oid": "x", "sub": "x"}));
        assert!(got[2].1.contains("app+user token"), "{}", got[2].1);
    }

    #[test]
    fn times_and_acr() {
        let got = explain(json!({"exp": 0, "nbf": 2_000, "appidacr": "2", "x": 1}));
        assert_eq!(got[0].1, "expires at 1970-01-01T00:00:00Z (expired 16 minutes ago)");
        assert_eq!(got[1].1, "not valid before 1970-01-01T00:33:20Z (not valid yet)");
        assert_eq!(got[2].1, "how the client app authenticated: 2 = client certificate (or managed identity)");
        assert_eq!(got[3].1, "not a claim mfacheck describes");
    }
}
