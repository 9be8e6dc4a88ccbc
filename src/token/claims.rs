//! Which claims mfacheck reads, and what it makes of them: the one place that says so.
//!
//! Decoding fills [`Slots`]: one value per claim named in the `slots!` table below, and nothing
//! else. Both decoders fill them, the strict general one from a `serde_json` map
//! ([`Slots::from_map`]) and the fast one from its own reader (`token::fast`), and both hand the
//! result to [`Claims::new`], which alone decides what the values mean (v1.0 and v2.0 names
//! reconciled: `appid`/`azp`, `appidacr`/`azpacr`, `upn`/`preferred_username`…). So a claim added
//! to the table, or a rule changed here, changes both paths at once; `tests/paths.rs` fails when
//! they disagree.

use crate::token::{audience, issuer};
use serde_json::{Map, Value};

/// Declares the slot enum and its name table in one go, so a slot cannot lack a name.
macro_rules! slots {
    ($kind:ident, $count:ident: $($slot:ident = $name:literal),* $(,)?) => {
        /// A claim (or header member) that is read; all others are only checked for duplicates.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $kind { $($slot),* }

        impl $kind {
            /// Every slot, in table order.
            pub const ALL: &'static [$kind] = &[$($kind::$slot),*];

            /// The member name this slot reads.
            pub const fn name(self) -> &'static str {
                match self { $($kind::$slot => $name),* }
            }

            /// The slot a member name fills, if any.
            #[inline]
            pub fn of(name: &str) -> Option<$kind> {
                match name { $($name => Some($kind::$slot),)* _ => None }
            }
        }

        /// How many slots the table has.
        pub const $count: usize = [$($name),*].len();
    };
}

slots! { Claim, CLAIM_SLOTS:
    Ver = "ver",
    Aud = "aud",
    Iss = "iss",
    Tid = "tid",
    Appid = "appid",
    Azp = "azp",
    Appidacr = "appidacr",
    Azpacr = "azpacr",
    Idtyp = "idtyp",
    Scp = "scp",
    Roles = "roles",
    Oid = "oid",
    Sub = "sub",
    Idp = "idp",
    Upn = "upn",
    UniqueName = "unique_name",
    PreferredUsername = "preferred_username",
    Email = "email",
    Name = "name",
    Amr = "amr",
    Iat = "iat",
    Nbf = "nbf",
    Exp = "exp",
    // Signs of an ID token (OpenID Connect), which no API accepts as a bearer token.
    Nonce = "nonce",
    AtHash = "at_hash",
    CHash = "c_hash",
    // Azure AD B2C: the trust framework policy, and the authentication class (a B2C policy name).
    Tfp = "tfp",
    Acr = "acr",
}

slots! { HeaderMember, HEADER_SLOTS:
    Alg = "alg",
    Kid = "kid",
    // Microsoft Graph's tokens carry one (Graph signs a hash of it): not an ID token's nonce.
    Nonce = "nonce",
    // Read by neither decoder: the fast one defers a header that has them, the general one
    // refuses it (`jws::decode`).
    Crit = "crit",
    B64 = "b64",
}

/// A list of strings, borrowed from a decoder's buffers or collected from a JSON array (not a
/// `Cow`, so that the types holding it stay covariant in their lifetime).
#[derive(Debug, Clone, PartialEq)]
pub enum List<'a> {
    Borrowed(&'a [&'a str]),
    /// A single string (an `aud` that is not an array): no allocation for the common case.
    One(&'a str),
    Owned(Vec<&'a str>),
}

impl<'a> std::ops::Deref for List<'a> {
    type Target = [&'a str];

    fn deref(&self) -> &[&'a str] {
        match self {
            List::Borrowed(items) => items,
            List::One(item) => std::slice::from_ref(item),
            List::Owned(items) => items,
        }
    }
}

/// One claim's value as a decoder found it: only what the rules below need.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Raw<'a> {
    #[default]
    Absent,
    Str(&'a str),
    /// An integer, or a number cut to one (a NumericDate's fraction does not matter).
    Int(i64),
    /// An array whose elements are all strings (`amr`, `aud`).
    Strings(List<'a>),
    /// Anything else. The general decoder keeps the value (messages quote it, `aud` arrays with
    /// other elements are searched); the fast one does not need to, it defers such tokens.
    Other(Option<&'a Value>),
}

impl<'a> Raw<'a> {
    pub fn present(&self) -> bool {
        !matches!(self, Raw::Absent)
    }

    pub fn text(&self) -> Option<&'a str> {
        match *self {
            Raw::Str(text) => Some(text),
            _ => None,
        }
    }

    /// A NumericDate: seconds since the epoch; other types are ignored.
    pub fn time(&self) -> Option<i64> {
        match *self {
            Raw::Int(n) => Some(n),
            _ => None,
        }
    }

    /// How the general decoder reads a JSON value into a slot.
    pub fn of_value(value: &'a Value) -> Raw<'a> {
        match value {
            Value::String(text) => Raw::Str(text),
            Value::Number(n) => match n.as_i64().or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64)) {
                Some(int) => Raw::Int(int),
                None => Raw::Other(Some(value)),
            },
            Value::Array(items) => match items.iter().map(Value::as_str).collect::<Option<Vec<_>>>() {
                Some(strings) => Raw::Strings(List::Owned(strings)),
                None => Raw::Other(Some(value)),
            },
            _ => Raw::Other(Some(value)),
        }
    }

    /// The JSON type, for messages.
    fn type_name(&self) -> &'static str {
        match self {
            Raw::Absent => "absent",
            Raw::Str(_) => "string",
            Raw::Int(_) => "number",
            Raw::Strings(_) => "array",
            Raw::Other(Some(Value::Array(_))) => "array with a non-string element",
            Raw::Other(Some(value)) => crate::token::jws::type_name(value),
            Raw::Other(None) => "value",
        }
    }
}

/// The values of the claims in the table, by slot, as decoded.
#[derive(Debug, Clone, Default)]
pub struct Slots<'a>(pub [Raw<'a>; CLAIM_SLOTS]);

impl<'a> Slots<'a> {
    /// The general decoder's filling: every slot from a decoded claims object.
    pub fn from_map(map: &'a Map<String, Value>) -> Self {
        let mut slots = Slots::default();
        for &slot in Claim::ALL {
            if let Some(value) = map.get(slot.name()) {
                slots.0[slot as usize] = Raw::of_value(value);
            }
        }
        slots
    }

    pub fn get(&self, slot: Claim) -> &Raw<'a> {
        &self.0[slot as usize]
    }

    pub fn set(&mut self, slot: Claim, value: Raw<'a>) {
        self.0[slot as usize] = value;
    }

    fn text(&self, slot: Claim) -> Option<&'a str> {
        self.get(slot).text()
    }
}

/// The header members that are read, by slot, and what the token says of its signature.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Header<'a> {
    pub alg: &'a str,
    pub kid: Option<&'a str>,
    /// The header has a `nonce` (as Microsoft Graph's access tokens do).
    pub nonce: bool,
    /// The signature segment is empty (an unsecured JWS).
    pub signature_empty: bool,
    /// The signature's length in bytes, from its segment's length (it is not decoded).
    pub signature_len: usize,
}

impl<'a> Header<'a> {
    /// `signature_len`: bytes of the signature (see [`decoded_len`]).
    pub fn from_map(map: &'a Map<String, Value>, signature_empty: bool, signature_len: usize) -> Self {
        let text = |slot: HeaderMember| map.get(slot.name()).and_then(Value::as_str);
        Header {
            alg: text(HeaderMember::Alg).unwrap_or(""),
            kid: text(HeaderMember::Kid),
            nonce: map.contains_key(HeaderMember::Nonce.name()),
            signature_empty,
            signature_len,
        }
    }

    /// The signature was cut when copied: Entra signs with RSA keys of 2048 bits or more (256-byte
    /// signatures), and an ES256 signature is always 64 bytes.
    pub fn truncated_signature(&self) -> Option<usize> {
        let len = self.signature_len;
        let short = match self.alg {
            _ if self.signature_empty => false,
            "ES256" => len != 64,
            alg if alg.starts_with("RS") || alg.starts_with("PS") => len < 256,
            _ => false,
        };
        short.then_some(len)
    }
}

/// What the token is: an access token (what an API takes) or an OpenID Connect ID token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenType {
    Access,
    Id,
}

impl TokenType {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenType::Access => "access",
            TokenType::Id => "id",
        }
    }
}

/// The consumer (personal Microsoft account) tenant.
pub const CONSUMER_TENANT: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";

/// Claims that only a user (app+user) token carries, in the order a report prefers them.
pub const USER_CLAIMS: [Claim; 5] = [Claim::Upn, Claim::UniqueName, Claim::PreferredUsername, Claim::Amr, Claim::Name];

/// Claims that name the signed-in user, in the order a report prefers them.
pub const USER_NAMES: [Claim; 4] = [Claim::Upn, Claim::UniqueName, Claim::PreferredUsername, Claim::Email];

/// The `amr` claim as found.
#[derive(Debug, Clone, PartialEq)]
pub enum Amr<'a> {
    Absent,
    /// An array of strings, as RFC 8176 defines it.
    Methods(List<'a>),
    /// Anything else (its JSON type): it cannot satisfy MFA.
    Malformed(&'static str),
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
    /// Every string in `aud` (for `--audience`, which any element may satisfy).
    pub audiences: List<'a>,
    /// `aud` is an array with an element that is not a string (left out of `audiences`).
    pub aud_mixed: bool,
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
    /// The user's sign-in name: the first of [`USER_NAMES`] that is a string.
    pub user: Option<&'a str>,
    /// The first user claim present (of [`USER_CLAIMS`]), whatever its value.
    pub user_claim: Option<Claim>,
    pub amr: Amr<'a>,
    /// `amr` as found, for the report.
    pub amr_raw: Raw<'a>,
    pub iat: Option<i64>,
    pub nbf: Option<i64>,
    pub exp: Option<i64>,
    /// `nonce`, `at_hash` or `c_hash` in the payload: OpenID Connect's ID token claims.
    pub id_token_claims: bool,
    pub tfp: Option<&'a str>,
    pub acr: Option<&'a str>,
}

impl<'a> Claims<'a> {
    /// What the decoded values mean.
    pub fn new(slots: Slots<'a>) -> Self {
        let text = |slot| slots.text(slot);
        let amr_raw = slots.get(Claim::Amr).clone();
        let amr = match &amr_raw {
            Raw::Absent => Amr::Absent,
            Raw::Strings(methods) => Amr::Methods(methods.clone()),
            other => Amr::Malformed(other.type_name()),
        };
        let (aud, audiences, aud_mixed) = match slots.get(Claim::Aud) {
            Raw::Str(aud) => (Some(*aud), List::One(aud), false),
            Raw::Strings(items) => (items.first().copied(), items.clone(), false),
            Raw::Other(Some(Value::Array(items))) => {
                let strings: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
                (items.first().and_then(Value::as_str), List::Owned(strings), true)
            }
            _ => (None, List::Borrowed(&[]), false),
        };
        Claims {
            ver: text(Claim::Ver),
            aud,
            audiences,
            aud_mixed,
            iss: text(Claim::Iss),
            tid: text(Claim::Tid),
            app_id: text(Claim::Appid).or_else(|| text(Claim::Azp)),
            app_auth: text(Claim::Appidacr).or_else(|| text(Claim::Azpacr)),
            idtyp: text(Claim::Idtyp),
            scp: text(Claim::Scp),
            has_scp: slots.get(Claim::Scp).present(),
            roles: slots.get(Claim::Roles).present(),
            oid: text(Claim::Oid),
            sub: text(Claim::Sub),
            idp: text(Claim::Idp),
            user: USER_NAMES.iter().find_map(|&slot| text(slot)),
            user_claim: USER_CLAIMS.iter().copied().find(|&slot| slots.get(slot).present()),
            amr,
            amr_raw,
            iat: slots.get(Claim::Iat).time(),
            nbf: slots.get(Claim::Nbf).time(),
            exp: slots.get(Claim::Exp).time(),
            id_token_claims: [Claim::Nonce, Claim::AtHash, Claim::CHash].iter().any(|&c| slots.get(c).present()),
            tfp: text(Claim::Tfp),
            acr: text(Claim::Acr),
        }
    }

    /// The claims of a decoded claims object (the general path, `--explain`).
    pub fn of_map(map: &'a Map<String, Value>) -> Self {
        Claims::new(Slots::from_map(map))
    }

    /// Partner Center is the audience, or one of them (an API accepts a token any of whose
    /// audiences is its own).
    pub fn is_partner_center(&self) -> bool {
        self.audiences.iter().any(|aud| audience::is_partner_center(aud))
    }

    /// The token is for Microsoft Graph and nothing else: `aud` is Graph, or an array of which
    /// every element is Graph (in either spelling). An array that also names another API, or holds
    /// anything but strings, is not: Graph's unverifiable header `nonce` excuses nothing there.
    pub fn graph_only(&self) -> bool {
        !self.aud_mixed && !self.audiences.is_empty() && self.audiences.iter().all(|aud| audience::is_graph(aud))
    }

    /// The well-known name of the audience (`Partner Center`, `Microsoft Graph`…).
    pub fn audience_name(&self) -> Option<&'static str> {
        self.aud.and_then(audience::name)
    }

    /// An ID token names no calling client (no `appid`/`azp`) and no permissions (no `scp`,
    /// `roles` or `idtyp`), and carries OpenID Connect's `nonce`/`at_hash`/`c_hash` or has the
    /// client's own id (a GUID that is no known API) as audience. A v2 access token for an app's
    /// own API has `azp`; a Graph token's `nonce` is in its header, not here.
    pub fn token_type(&self) -> TokenType {
        let no_client = self.app_id.is_none() && !self.has_scp && !self.roles && self.idtyp.is_none();
        let own_id = self.aud.is_some_and(|aud| issuer::is_guid(aud) && audience::name(aud).is_none());
        if no_client && (self.id_token_claims || own_id) { TokenType::Id } else { TokenType::Access }
    }

    /// An Azure AD B2C token: a `b2clogin.com` issuer, a `tfp` claim, or a B2C policy as `acr`.
    pub fn is_b2c(&self) -> bool {
        let host = self.iss.and_then(|iss| iss.strip_prefix("https://")).and_then(|rest| rest.split('/').next());
        self.tfp.is_some()
            || host.is_some_and(|h| audience::ends_with_ignore_case(h, ".b2clogin.com"))
            || self.acr.is_some_and(|acr| acr.get(..6).is_some_and(|p| p.eq_ignore_ascii_case("b2c_1_")))
            || self.acr.is_some_and(|acr| acr.get(..7).is_some_and(|p| p.eq_ignore_ascii_case("b2c_1a_")))
    }

    /// The token format the issuer's form says: `2.0` for `…/v2.0` (B2C: `…/v2.0/`), `1.0` for
    /// `sts.windows.net`; B2C tokens say `ver` 1.0 under a v2.0 issuer.
    pub fn issuer_version(&self) -> Option<&'static str> {
        issuer::version(self.iss)
    }

    /// The tenant in `iss` is not `tid` (the v1.0 and v2.0 issuer forms of one tenant name it
    /// alike), or is not a tenant id at all: Entra ID's issuers always name the tenant's GUID.
    pub fn issuer_tenant_mismatch(&self) -> Option<&'a str> {
        let (iss, tid) = (self.iss?, self.tid?);
        let tenant = issuer::tenant(iss)?;
        (issuer::is_guid(tid) && (!issuer::is_guid(tenant) || !tenant.eq_ignore_ascii_case(tid))).then_some(tenant)
    }

    /// `idp` is a personal Microsoft account (`live.com`, or the consumer tenant): a guest, not
    /// a partner's delegated-admin sign-in.
    pub fn personal_account(&self) -> bool {
        self.idp.is_some_and(|idp| {
            idp.eq_ignore_ascii_case("live.com")
                || idp.eq_ignore_ascii_case("https://live.com")
                || issuer::tenant(idp).is_some_and(|t| t.eq_ignore_ascii_case(CONSUMER_TENANT))
        })
    }

    /// `idp` names another identity provider than the token's issuer: the user signed in from
    /// elsewhere, e.g. a partner's delegated-admin (DAP/GDAP) sign-in into a customer tenant.
    /// Entra's issuers name the tenant in their first path segment, in the v1.0 form
    /// (`https://sts.windows.net/{tid}/`) and the v2.0 form (`…microsoftonline.com/{tid}/v2.0`), so
    /// the two forms of one tenant are the same tenant; anything else is compared as a string.
    pub fn cross_tenant(&self) -> bool {
        match (self.idp, self.iss) {
            (Some(idp), Some(iss)) => match (issuer::tenant(idp), issuer::tenant(iss)) {
                (Some(a), Some(b)) => !a.eq_ignore_ascii_case(b),
                _ => idp.trim_end_matches('/') != iss.trim_end_matches('/'),
            },
            _ => false,
        }
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

/// The `app_auth` label of the result object: the meaning in kebab case, or the value itself.
pub fn app_auth_label(value: &str) -> &str {
    match value {
        "0" => "public-client",
        "1" => "client-secret",
        "2" => "certificate",
        other => other,
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
    fn every_slot_has_its_name_and_back() {
        for &slot in Claim::ALL {
            assert_eq!(Claim::of(slot.name()), Some(slot));
        }
        assert_eq!(Claim::ALL.len(), CLAIM_SLOTS);
        assert_eq!(Claim::of("aio"), None);
    }

    #[test]
    fn labels_agree_with_meanings() {
        for value in ["0", "1", "2", "7"] {
            let label = app_auth_label(value);
            assert_eq!(app_auth_meaning(value).map(|m| m.replace(' ', "-")).as_deref().unwrap_or(value), label);
        }
    }

    #[test]
    fn graph_only_means_every_audience_is_graph() {
        let graph = ["https://graph.microsoft.com", "00000003-0000-0000-c000-000000000000"];
        for aud in [json!(graph[0]), json!(graph[1]), json!(graph), json!([graph[0]])] {
            assert!(Claims::of_map(&map(json!({ "aud": aud }))).graph_only(), "{aud}");
        }
        let pc = "https://api.partnercenter.microsoft.com";
        for aud in [json!([graph[0], pc]), json!([pc, graph[1]]), json!([graph[0], 1]), json!([]), json!(pc), json!(1)]
        {
            assert!(!Claims::of_map(&map(json!({ "aud": aud }))).graph_only(), "{aud}");
        }
        assert!(!Claims::of_map(&map(json!({}))).graph_only());
    }

    #[test]
    fn v2_names_are_reconciled() {
        let m = map(json!({"ver":"2.0","azp":"app","azpacr":"1","preferred_username":"a@b"}));
        let c = Claims::of_map(&m);
        assert_eq!(c.app_id, Some("app"));
        assert_eq!(c.app_auth, Some("1"));
        assert_eq!(c.user_claim, Some(Claim::PreferredUsername));
        assert_eq!(c.user, Some("a@b"));
    }

    #[test]
    fn amr_shapes() {
        let m = map(json!({"amr":["pwd","mfa"]}));
        assert!(Claims::of_map(&m).amr.has_mfa());
        let m = map(json!({"amr":["pwd","MFA","nomfa"]}));
        assert!(!Claims::of_map(&m).amr.has_mfa());
        let m = map(json!({"amr":"mfa"}));
        assert_eq!(Claims::of_map(&m).amr, Amr::Malformed("string"));
        let m = map(json!({"amr":["mfa", 1]}));
        assert!(!Claims::of_map(&m).amr.has_mfa(), "a mixed array is not an array of strings");
        let m = map(json!({}));
        assert_eq!(Claims::of_map(&m).amr, Amr::Absent);
    }

    #[test]
    fn cross_tenant_ignores_trailing_slash() {
        let m = map(json!({"iss":"https://sts.windows.net/a/","idp":"https://sts.windows.net/a"}));
        assert!(!Claims::of_map(&m).cross_tenant());
        let m = map(json!({"iss":"https://sts.windows.net/a/","idp":"https://sts.windows.net/b/"}));
        assert!(Claims::of_map(&m).cross_tenant());
        // One tenant in its v2.0 and v1.0 issuer forms.
        let m = map(json!({"iss":"https://login.microsoftonline.com/a/v2.0","idp":"https://sts.windows.net/a/"}));
        assert!(!Claims::of_map(&m).cross_tenant());
        let m = map(json!({"iss":"https://login.microsoftonline.com/a/v2.0","idp":"live.com"}));
        assert!(Claims::of_map(&m).cross_tenant());
    }

    #[test]
    fn which_token() {
        let m = map(json!({"aud":"6e74172b-be56-4843-9ff4-e66a39bb12e3","upn":"u"}));
        assert_eq!(Claims::of_map(&m).token_type(), TokenType::Id, "aud the client's own id, no client named");
        let m = map(json!({"aud":"6e74172b-be56-4843-9ff4-e66a39bb12e3","azp":"6e74172b-be56-4843-9ff4-e66a39bb12e3"}));
        assert_eq!(Claims::of_map(&m).token_type(), TokenType::Access);
        let m = map(json!({"aud":"https://graph.microsoft.com","upn":"u"}));
        assert_eq!(Claims::of_map(&m).token_type(), TokenType::Access);
        let m = map(json!({"iss":"https://Contoso.B2CLogin.com/t/v2.0/"}));
        assert!(Claims::of_map(&m).is_b2c());
        assert_eq!(Claims::of_map(&m).issuer_version(), Some("2.0"));
        let m = map(json!({"idp":"https://sts.windows.net/9188040d-6c67-4c5b-b112-36a304b66dad/"}));
        assert!(Claims::of_map(&m).personal_account());
        let m = map(json!({"iss":"https://sts.windows.net/11111111-1111-1111-1111-111111111111/",
                           "tid":"11111111-1111-1111-1111-111111111111"}));
        assert_eq!(Claims::of_map(&m).issuer_tenant_mismatch(), None);
        let m = map(json!({"iss":"https://sts.windows.net/contoso.onmicrosoft.com/",
                           "tid":"11111111-1111-1111-1111-111111111111"}));
        assert_eq!(Claims::of_map(&m).issuer_tenant_mismatch(), Some("contoso.onmicrosoft.com"), "not a tenant id");
    }

    #[test]
    fn audience_may_be_an_array() {
        let m = map(json!({"aud":["https://api.partnercenter.microsoft.com"]}));
        assert!(Claims::of_map(&m).is_partner_center());
        let m = map(json!({"aud":["x", 1, "y"]}));
        assert_eq!(*Claims::of_map(&m).audiences, ["x", "y"]);
        let m = map(json!({"aud":"https://graph.microsoft.com"}));
        assert!(!Claims::of_map(&m).is_partner_center());
    }
}
