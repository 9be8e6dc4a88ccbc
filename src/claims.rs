//! A typed, borrowed view of the Entra ID claims mfacheck reasons about, with the v1.0 and v2.0
//! names reconciled (`appid`/`azp`, `appidacr`/`azpacr`, `upn`/`preferred_username`).

use serde_json::{Map, Value};
use std::borrow::Cow;

/// Partner Center's audience, as an URI and as its application id.
pub const PARTNER_CENTER_AUDIENCES: [&str; 3] = [
    "https://api.partnercenter.microsoft.com",
    "https://api.partnercenter.microsoft.com/",
    "fa3d9a0c-3fb0-42cc-9193-47c7ecd2edbd",
];

/// The `amr` claim as found.
#[derive(Debug, Clone, PartialEq)]
pub enum Amr<'a> {
    Absent,
    /// An array of strings, as RFC 8176 defines it (borrowed by the allocation-free hot path).
    Methods(Cow<'a, [&'a str]>),
    /// Anything else: it cannot satisfy MFA.
    Malformed(&'a Value),
}

impl Amr<'_> {
    /// The exact, case-sensitive element `mfa`: the only thing Partner Center accepts.
    pub fn has_mfa(&self) -> bool {
        matches!(self, Amr::Methods(methods) if methods.contains(&"mfa"))
    }
}

/// The claims of one token that classification, the verdict and the report use.
#[derive(Debug, Clone)]
pub struct Claims<'a> {
    pub ver: Option<&'a str>,
    /// `aud`, or the first element of an `aud` array.
    pub aud: Option<&'a str>,
    /// The whole `aud` when it is an array (for `--audience`, which any element may satisfy).
    pub aud_array: Option<&'a [Value]>,
    pub iss: Option<&'a str>,
    pub tid: Option<&'a str>,
    /// `appid` (v1.0) or `azp` (v2.0).
    pub app_id: Option<&'a str>,
    /// `appidacr` (v1.0) or `azpacr` (v2.0): 0 public client, 1 secret, 2 certificate.
    pub app_auth: Option<&'a str>,
    pub idtyp: Option<&'a str>,
    pub scp: Option<&'a str>,
    /// `scp` is present, whatever its type: rule 2 of the classification asks only that.
    pub has_scp: bool,
    /// `roles` is present (its content does not decide anything).
    pub roles: bool,
    pub oid: Option<&'a str>,
    pub sub: Option<&'a str>,
    pub idp: Option<&'a str>,
    /// The user's sign-in name: `upn`, `unique_name`, `preferred_username` or `email`.
    pub user: Option<&'a str>,
    /// The name of the first user claim present (of [`USER_CLAIMS`]), whatever its value.
    pub user_claim: Option<&'static str>,
    pub amr: Amr<'a>,
    pub iat: Option<i64>,
    pub nbf: Option<i64>,
    pub exp: Option<i64>,
}

/// Claims that only a user (app+user) token carries, in the order a report prefers them.
pub const USER_CLAIMS: [&str; 5] = ["upn", "unique_name", "preferred_username", "amr", "name"];

impl<'a> Claims<'a> {
    pub fn new(map: &'a Map<String, Value>) -> Self {
        let text = |name: &str| map.get(name).and_then(Value::as_str);
        let amr = match map.get("amr") {
            None => Amr::Absent,
            Some(Value::Array(items)) => match items.iter().map(Value::as_str).collect::<Option<Vec<_>>>() {
                Some(methods) => Amr::Methods(Cow::Owned(methods)),
                None => Amr::Malformed(&map["amr"]),
            },
            Some(other) => Amr::Malformed(other),
        };
        Claims {
            ver: text("ver"),
            aud_array: map.get("aud").and_then(Value::as_array).map(Vec::as_slice),
            aud: match map.get("aud") {
                Some(Value::Array(items)) => items.first().and_then(Value::as_str),
                other => other.and_then(Value::as_str),
            },
            iss: text("iss"),
            tid: text("tid"),
            app_id: text("appid").or_else(|| text("azp")),
            app_auth: text("appidacr").or_else(|| text("azpacr")),
            idtyp: text("idtyp"),
            scp: text("scp"),
            has_scp: map.contains_key("scp"),
            roles: map.contains_key("roles"),
            oid: text("oid"),
            sub: text("sub"),
            idp: text("idp"),
            user: ["upn", "unique_name", "preferred_username", "email"].iter().find_map(|name| text(name)),
            user_claim: USER_CLAIMS.iter().copied().find(|&name| map.contains_key(name)),
            amr,
            iat: time(map.get("iat")),
            nbf: time(map.get("nbf")),
            exp: time(map.get("exp")),
        }
    }

    pub fn is_partner_center(&self) -> bool {
        self.aud.is_some_and(|aud| PARTNER_CENTER_AUDIENCES.contains(&aud))
    }

    /// `idp` names another identity provider than the token's issuer: the user signed in from
    /// elsewhere, e.g. a partner's delegated-admin (DAP/GDAP) sign-in into a customer tenant.
    /// Entra's issuers name the tenant in their first path segment, in the v1.0 form
    /// (`https://sts.windows.net/{tid}/`) and the v2.0 form (`…microsoftonline.com/{tid}/v2.0`), so
    /// the two forms of one tenant are the same tenant; anything else is compared as a string.
    pub fn cross_tenant(&self) -> bool {
        match (self.idp, self.iss) {
            (Some(idp), Some(iss)) => match (issuer_tenant(idp), issuer_tenant(iss)) {
                (Some(a), Some(b)) => !a.eq_ignore_ascii_case(b),
                _ => idp.trim_end_matches('/') != iss.trim_end_matches('/'),
            },
            _ => false,
        }
    }
}

/// The tenant an Entra ID issuer URL names, e.g. `{tid}` in `https://sts.windows.net/{tid}/`.
fn issuer_tenant(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("https://")?;
    let (host, path) = rest.split_once('/')?;
    let known = ["sts.windows.net", "login.microsoftonline.com", "login.windows.net"];
    if !known.iter().any(|k| host.eq_ignore_ascii_case(k)) {
        return None;
    }
    path.split('/').next().filter(|tenant| !tenant.is_empty())
}

/// NumericDate: seconds since the epoch. Fractions are cut; other types are ignored.
fn time(value: Option<&Value>) -> Option<i64> {
    match value? {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64)),
        _ => None,
    }
}

/// How the client application authenticated, from `appidacr` / `azpacr`.
pub fn app_auth_meaning(value: &str) -> Option<&'static str> {
    match value {
        "0" => Some("public client"),
        "1" => Some("client secret"),
        "2" => Some("certificate"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn v2_names_are_reconciled() {
        let m = map(json!({"ver":"2.0","azp":"app","azpacr":"1","preferred_username":"a@b"}));
        let c = Claims::new(&m);
        assert_eq!(c.app_id, Some("app"));
        assert_eq!(c.app_auth, Some("1"));
        assert_eq!(c.user_claim, Some("preferred_username"));
        assert_eq!(c.user, Some("a@b"));
    }

    #[test]
    fn amr_shapes() {
        let m = map(json!({"amr":["pwd","mfa"]}));
        assert!(Claims::new(&m).amr.has_mfa());
        let m = map(json!({"amr":["pwd","MFA","nomfa"]}));
        assert!(!Claims::new(&m).amr.has_mfa());
        let m = map(json!({"amr":"mfa"}));
        assert!(matches!(Claims::new(&m).amr, Amr::Malformed(_)));
        let m = map(json!({"amr":["mfa", 1]}));
        assert!(!Claims::new(&m).amr.has_mfa(), "a mixed array is not an array of strings");
        let m = map(json!({}));
        assert_eq!(Claims::new(&m).amr, Amr::Absent);
    }

    #[test]
    fn cross_tenant_ignores_trailing_slash() {
        let m = map(json!({"iss":"https://sts.windows.net/a/","idp":"https://sts.windows.net/a"}));
        assert!(!Claims::new(&m).cross_tenant());
        let m = map(json!({"iss":"https://sts.windows.net/a/","idp":"https://sts.windows.net/b/"}));
        assert!(Claims::new(&m).cross_tenant());
        // One tenant in its v2.0 and v1.0 issuer forms.
        let m = map(json!({"iss":"https://login.microsoftonline.com/a/v2.0","idp":"https://sts.windows.net/a/"}));
        assert!(!Claims::new(&m).cross_tenant());
        let m = map(json!({"iss":"https://login.microsoftonline.com/a/v2.0","idp":"live.com"}));
        assert!(Claims::new(&m).cross_tenant());
    }

    #[test]
    fn audience_may_be_an_array() {
        let m = map(json!({"aud":["https://api.partnercenter.microsoft.com"]}));
        assert!(Claims::new(&m).is_partner_center());
        let m = map(json!({"aud":"https://graph.microsoft.com"}));
        assert!(!Claims::new(&m).is_partner_center());
    }
}
