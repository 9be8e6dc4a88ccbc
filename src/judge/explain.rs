//! One-line meanings of Entra ID claims, the way jwt.ms explains them, for `--explain`: `amr`
//! methods (RFC 8176 and Entra's own), `appidacr`/`azpacr`, `idp` and cross-tenant sign-ins,
//! directory roles in `wids` by name, scopes, roles and times.

use crate::clock;
use crate::token::audience;
use crate::token::claims::Claims;
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
    match name {
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
        "iss" => {
            let form = if text.starts_with("https://sts.windows.net/") {
                " (v1.0 form)"
            } else if text.starts_with("https://login.microsoftonline.com/") && text.ends_with("/v2.0") {
                " (v2.0 form)"
            } else {
                ""
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
        "xms_tcdt" => format!("the tenant was created at {}", time()),
        "acr" => match text {
            "0" => "authentication context class 0: the sign-in did not meet ISO/IEC 29115 (v1.0)".into(),
            _ => "authentication context class of the sign-in (v1.0)".into(),
        },
        "acrs" => "Conditional Access authentication contexts the sign-in satisfied".into(),
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
        "idp" => {
            if !Claims::of_map(all).cross_tenant() {
                "identity provider that authenticated the user: the issuing tenant itself".into()
            } else {
                "identity provider that authenticated the user: not the issuer, so a cross-tenant sign-in \
                 (a guest, or a partner's DAP/GDAP admin in a customer tenant)"
                    .into()
            }
        }
        "oid" => "object id of the signed-in principal in Entra ID (the same for every app)".into(),
        "sub" => {
            let claims = Claims::of_map(all);
            let app_only = crate::judge::classify::classify(&claims).kind == crate::judge::classify::Kind::AppOnly;
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
        "wids" => wids_meaning(value),
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
        "deviceid" => "id of the device the user signed in on".into(),
        "sid" => "session id of the sign-in".into(),
        "in_corp" => "the sign-in came from inside the corporate network".into(),
        "ver" => match text {
            "1.0" => "token format 1.0 (appid, upn, sts.windows.net issuer): what Partner Center takes".into(),
            "2.0" => "token format 2.0 (azp, preferred_username; amr only as an optional claim)".into(),
            _ => "token format version".into(),
        },
        "xms_cc" => "client capabilities (CP1: the app handles claims challenges)".into(),
        "aio" | "rh" | "uti" | "puid" | "xms_st" | "xms_idrel" | "xms_ftd" => {
            "internal to Entra ID: do not rely on it".into()
        }
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

fn wids_meaning(value: &Value) -> String {
    let ids = strings(value);
    if ids.is_empty() {
        return "directory roles of the user (role template ids)".into();
    }
    let names: Vec<&str> = ids.iter().map(|id| role_name(id).unwrap_or("a role mfacheck does not name")).collect();
    format!("directory roles of the user: {}", names.join(", "))
}

/// The common Entra ID built-in roles, by role template id (as `wids` carries them).
pub fn role_name(template_id: &str) -> Option<&'static str> {
    ROLES.iter().find(|(id, _)| id.eq_ignore_ascii_case(template_id)).map(|(_, name)| *name)
}

const ROLES: [(&str, &str); 17] = [
    ("62e90394-69f5-4237-9190-012177145e10", "Global Administrator"),
    ("194ae4cb-b126-40b2-bd5b-6091b380977d", "Security Administrator"),
    ("729827e3-9c14-49f7-bb1b-9608f156bbb8", "Helpdesk Administrator"),
    ("fe930be7-5e62-47db-91af-98c3a49a38b1", "User Administrator"),
    ("29232cdf-9323-42fd-ade2-1d097af3e4de", "Exchange Administrator"),
    ("f28a1f50-f6e7-4571-818b-6a12f2af6b6c", "SharePoint Administrator"),
    ("b0f54661-2d74-4c50-afa3-1ec803f12efe", "Billing Administrator"),
    ("f2ef992c-3afb-46b9-b7cf-a126ee74c451", "Global Reader"),
    ("88d8e3e3-8f55-4a1e-953a-9b9898b8876b", "Directory Readers"),
    ("9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3", "Application Administrator"),
    ("158c047a-c907-4556-b7ef-446551a6b5f7", "Cloud Application Administrator"),
    ("e8611ab8-c189-46e8-94e1-60213ab1f814", "Privileged Role Administrator"),
    ("b1be1c3e-b65d-4f19-8427-f6fa0d97feb9", "Conditional Access Administrator"),
    ("c4e39bd9-1100-46d3-8c65-fb160da0b8cf", "Authentication Administrator"),
    ("3a2c62db-5318-420d-8d74-23affee5d9d5", "Intune Administrator"),
    ("69091246-20e8-4a56-aa4d-066075b2a7a8", "Teams Administrator"),
    ("b79fbf4d-3ef9-4689-8143-76b194e85509", "User (every member user holds it)"),
];

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
