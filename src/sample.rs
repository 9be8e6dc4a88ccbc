//! Minting sample tokens: compact JWS from a header and claims, signed with a private key or
//! unsigned (`alg: none`, empty signature). Used to make `fixtures/` and by tests.

use anyhow::{Context, Result};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Map, Value};

/// A key to sign with and its algorithm.
pub struct Signer {
    pub key: EncodingKey,
    pub alg: Algorithm,
}

impl Signer {
    /// A PEM private key: RSA keys sign RS256, P-256 keys ES256, Ed25519 keys EdDSA.
    pub fn from_pem(pem: &[u8]) -> Result<Self> {
        if let Ok(key) = EncodingKey::from_rsa_pem(pem) {
            check_rsa_size(pem)?;
            return Ok(Signer { key, alg: Algorithm::RS256 });
        }
        if let Ok(key) = EncodingKey::from_ed_pem(pem) {
            return Ok(Signer { key, alg: Algorithm::EdDSA });
        }
        let key = EncodingKey::from_ec_pem(pem).context("not an RSA, P-256 or Ed25519 private key in PEM")?;
        Ok(Signer { key, alg: Algorithm::ES256 })
    }

    pub fn alg_name(&self) -> String {
        format!("{:?}", self.alg)
    }
}

/// Refuses an RSA private key (PEM, PKCS#1 or PKCS#8) under 2048 bits, as verification does.
fn check_rsa_size(pem: &[u8]) -> Result<()> {
    let text = std::str::from_utf8(pem).context("not PEM")?;
    let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD.decode(body.trim()).context("not PEM")?;
    match aws_lc_rs::rsa::KeyPair::from_der(&der).or_else(|_| aws_lc_rs::rsa::KeyPair::from_pkcs8(&der)) {
        Ok(_) => Ok(()),
        Err(e) if e.description_() == "TooSmall" => {
            anyhow::bail!("an RSA key under 2048 bits: Entra signs with 2048 bits or more, so it is refused")
        }
        Err(e) => anyhow::bail!("unusable RSA key: {e}"),
    }
}

/// Encodes `header` and `claims` as given (member order kept) and signs them when a signer is
/// given; `header.alg` is the caller's to set.
pub fn encode(header: &Map<String, Value>, claims: &Map<String, Value>, signer: Option<&Signer>) -> Result<String> {
    let head = URL_SAFE_NO_PAD.encode(serde_json::to_vec(header)?);
    let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims)?);
    let signing_input = format!("{head}.{body}");
    let signature = match signer {
        Some(s) => jsonwebtoken::crypto::sign(signing_input.as_bytes(), &s.key, s.alg).context("signing failed")?,
        None => String::new(),
    };
    Ok(format!("{signing_input}.{signature}"))
}

/// Encodes raw header and payload bytes with an arbitrary signature segment: for malformed
/// fixtures that `encode` cannot express (duplicate members, invalid UTF-8).
pub fn encode_raw(header: &[u8], payload: &[u8], signature: &str) -> String {
    format!("{}.{}.{signature}", URL_SAFE_NO_PAD.encode(header), URL_SAFE_NO_PAD.encode(payload))
}

// The claim sets of `mfacheck sample`, also used by `examples/fixtures.rs` so that
// `fixtures/` can be remade with the command.

/// Partner Center's audience: the default `aud` of a sample.
pub const PARTNER_CENTER: &str = "https://api.partnercenter.microsoft.com";
/// The tenant of Microsoft's sample token, the default `tid` of a sample.
pub const SAMPLE_TENANT: &str = "df845f1a-7b35-40a2-ba78-6481de91f8ae";
/// The client application of Microsoft's sample token.
pub const SAMPLE_APP: &str = "23ec45a3-5127-4185-9eff-c8887839e6ab";
/// The app's service principal (`oid` = `sub`) in app-only samples.
const SAMPLE_APP_SP: &str = "9a1e4c1b-6c55-4f0e-8d4d-3c4b2a1f0e9d";
/// A v2.0 pairwise `sub` for the sample user.
const SAMPLE_PAIRWISE_SUB: &str = "kQ3h0pRZ7mX2bN5vC8dF1gH4jK6lM9nP0qR2sT5uV7w";

/// The claims of Microsoft's sample token in "Mandating MFA for your partner tenant", with its
/// 2019 times.
pub fn seed_claims() -> Map<String, Value> {
    object(serde_json::json!({
        "aud": PARTNER_CENTER,
        "iss": format!("https://sts.windows.net/{SAMPLE_TENANT}/"),
        "iat": 1549088552, "nbf": 1549088552, "exp": 1549092452,
        "acr": "1",
        "amr": ["pwd", "mfa"],
        "appid": SAMPLE_APP, "appidacr": "0",
        "family_name": "Williams", "given_name": "Isaiah",
        "ipaddr": "127.0.0.1",
        "name": "Isaiah Williams",
        "oid": "4988e250-5aee-482a-9136-6d269cb755c0",
        "scp": "user_impersonation",
        "tenant_region_scope": "NA",
        "tid": SAMPLE_TENANT,
        "unique_name": "Isaiah.Williams@testtestpartner.onmicrosoft.com",
        "upn": "Isaiah.Williams@testtestpartner.onmicrosoft.com",
        "ver": "1.0"
    }))
}

/// An app-only (client credentials) token's claims as Entra ID issues them, valid `iat`..`exp`.
fn app_only_claims(iat: i64, exp: i64) -> Map<String, Value> {
    object(serde_json::json!({
        "aud": PARTNER_CENTER,
        "iss": format!("https://sts.windows.net/{SAMPLE_TENANT}/"),
        "iat": iat, "nbf": iat, "exp": exp,
        "aio": "E2ZgYJi2sm5xbjwuV6x5pU0A",
        "appid": SAMPLE_APP, "appidacr": "2",
        "idp": format!("https://sts.windows.net/{SAMPLE_TENANT}/"),
        "idtyp": "app",
        "oid": SAMPLE_APP_SP,
        "roles": ["Partner.Read.All"],
        "sub": SAMPLE_APP_SP,
        "tid": SAMPLE_TENANT,
        "ver": "1.0"
    }))
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => unreachable!("a JSON object literal"),
    }
}

/// Sets each claim in order; a null value removes it. An existing claim keeps its place.
pub fn apply(claims: &mut Map<String, Value>, changes: impl IntoIterator<Item = (String, Value)>) {
    for (key, value) in changes {
        if value.is_null() {
            claims.shift_remove(&key);
        } else {
            claims.insert(key, value);
        }
    }
}

/// Token format: v1.0 and v2.0 name the same facts differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ver {
    V1,
    V2,
}

/// What `mfacheck sample` mints: the claim set is Microsoft's sample (app+user) or an app-only
/// token, changed by the options in this order: times, version, `amr`, `aud`/`tid`, `--claim`s.
#[derive(Debug, Clone)]
pub struct Template {
    pub app_only: bool,
    pub ver: Ver,
    /// The `amr` methods of an app+user token (ignored for app-only, which has none).
    pub amr: Vec<String>,
    pub aud: String,
    pub tid: String,
    pub iat: i64,
    pub exp: i64,
    /// `--claim KEY=VALUE`, applied last (null removes).
    pub claims: Vec<(String, Value)>,
}

impl Template {
    /// The defaults of `mfacheck sample`: app+user v1.0 with `amr` pwd+mfa, for Partner Center.
    pub fn new(iat: i64, exp: i64) -> Self {
        Template {
            app_only: false,
            ver: Ver::V1,
            amr: vec!["pwd".into(), "mfa".into()],
            aud: PARTNER_CENTER.into(),
            tid: SAMPLE_TENANT.into(),
            iat,
            exp,
            claims: Vec::new(),
        }
    }

    pub fn claims(&self) -> Map<String, Value> {
        let mut claims = if self.app_only {
            app_only_claims(self.iat, self.exp)
        } else {
            let mut seed = seed_claims();
            apply(
                &mut seed,
                [("iat", self.iat), ("nbf", self.iat), ("exp", self.exp)].map(|(k, v)| (k.into(), v.into())),
            );
            seed
        };
        let issuer = match self.ver {
            Ver::V1 => format!("https://sts.windows.net/{}/", self.tid),
            Ver::V2 => format!("https://login.microsoftonline.com/{}/v2.0", self.tid),
        };
        if self.ver == Ver::V2 {
            // v2.0 names the client azp/azpacr and the user preferred_username, uses a pairwise
            // sub, and leaves amr out unless asked for (it is added back below).
            let (app, acr) = (claims.get("appid").cloned(), claims.get("appidacr").cloned());
            let mut changes = vec![
                ("ver".to_owned(), "2.0".into()),
                ("iss".to_owned(), issuer.clone().into()),
                ("appid".to_owned(), Value::Null),
                ("appidacr".to_owned(), Value::Null),
                ("azp".to_owned(), app.unwrap_or(Value::Null)),
                ("azpacr".to_owned(), acr.unwrap_or(Value::Null)),
            ];
            if !self.app_only {
                let user = claims.get("upn").cloned().unwrap_or(Value::Null);
                changes.extend([
                    ("upn".to_owned(), Value::Null),
                    ("unique_name".to_owned(), Value::Null),
                    ("preferred_username".to_owned(), user),
                    ("sub".to_owned(), SAMPLE_PAIRWISE_SUB.into()),
                    ("amr".to_owned(), Value::Null),
                ]);
            }
            apply(&mut claims, changes);
        }
        if !self.app_only {
            claims.insert("amr".into(), self.amr.iter().map(|m| Value::from(m.as_str())).collect());
        }
        claims.insert("aud".into(), self.aud.as_str().into());
        if claims.get("tid").and_then(Value::as_str) != Some(self.tid.as_str()) {
            claims.insert("tid".into(), self.tid.as_str().into());
            claims.insert("iss".into(), issuer.clone().into());
            if claims.contains_key("idp") {
                claims.insert("idp".into(), format!("https://sts.windows.net/{}/", self.tid).into());
            }
        }
        apply(&mut claims, self.claims.iter().cloned());
        claims
    }
}

/// The header of a sample: `alg none` when unsigned, else the signer's alg and the `kid` given.
pub fn header(signer: Option<&Signer>, kid: Option<&str>) -> Map<String, Value> {
    let mut header = Map::new();
    header.insert("typ".into(), "JWT".into());
    header.insert("alg".into(), signer.map_or("none".to_owned(), Signer::alg_name).into());
    if let (Some(_), Some(kid)) = (signer, kid) {
        header.insert("kid".into(), kid.into());
    }
    header
}

/// `--claim KEY=VALUE`: VALUE is JSON when it parses, else a string.
pub fn parse_claim(text: &str) -> Result<(String, Value), String> {
    let (key, value) = text.split_once('=').ok_or_else(|| format!("{text:?} is not KEY=VALUE"))?;
    if key.is_empty() {
        return Err(format!("{text:?} has an empty claim name"));
    }
    let value = serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_owned()));
    Ok((key.to_owned(), value))
}

/// `--exp`: an RFC 3339 time, or a duration from `now` such as `1h`, `90m`, `-3d`, `2 days`
/// (days are 24 hours). Returns unix seconds.
pub fn parse_expiry(text: &str, now: jiff::Timestamp) -> Result<i64, String> {
    if let Ok(at) = text.parse::<jiff::Timestamp>() {
        return Ok(at.as_second());
    }
    let seconds = crate::clock::parse_duration(text)
        .map_err(|_| format!("--exp {text:?} is neither a duration (1h, 90m, -3d) nor an RFC 3339 time"))?;
    now.as_second().checked_add(seconds).ok_or_else(|| format!("--exp {text:?} is out of range"))
}

/// The `iat` (and `nbf`) of a token expiring at `exp`, minted at `now`: `now`, or for a token
/// already expired an hour (Entra's usual lifetime) before `exp`, so that `iat` comes first.
pub fn issued_at(now: i64, exp: i64) -> i64 {
    if exp > now { now } else { exp.saturating_sub(3_600) }
}

/// Mints one sample token from `template`, signed when `signer` is given.
pub fn mint(template: &Template, signer: Option<&Signer>, kid: Option<&str>) -> Result<String> {
    encode(&header(signer, kid), &template.claims(), signer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claim_values_are_json_or_strings() {
        assert_eq!(parse_claim("n=42").unwrap(), ("n".into(), Value::from(42)));
        assert_eq!(parse_claim("scp=Read Write").unwrap(), ("scp".into(), Value::from("Read Write")));
        assert_eq!(parse_claim("r=[\"a\"]").unwrap().1, serde_json::json!(["a"]));
        assert_eq!(parse_claim("x=a=b").unwrap(), ("x".into(), Value::from("a=b")));
        assert!(parse_claim("novalue").is_err());
        assert!(parse_claim("=1").is_err());
    }

    #[test]
    fn expiry_durations_and_times() {
        let now = jiff::Timestamp::from_second(1_000_000).unwrap();
        assert_eq!(parse_expiry("1h", now), Ok(1_003_600));
        assert_eq!(parse_expiry("90m", now), Ok(1_005_400));
        assert_eq!(parse_expiry("-3d", now), Ok(1_000_000 - 3 * 86_400));
        assert_eq!(parse_expiry("2100-01-01T00:00:00Z", now), Ok(4_102_444_800));
        assert!(parse_expiry("soon", now).is_err());
        assert_eq!(issued_at(1_000_000, 1_003_600), 1_000_000);
        assert_eq!(issued_at(1_000_000, 1_000_000 - 3 * 86_400), 1_000_000 - 3 * 86_400 - 3_600, "iat before exp");
    }

    #[test]
    fn v2_renames_and_tenant_moves_the_issuer() {
        let mut t = Template::new(10, 20);
        t.ver = Ver::V2;
        t.tid = "t2".into();
        let c = t.claims();
        assert_eq!(c["iss"], "https://login.microsoftonline.com/t2/v2.0");
        assert_eq!(c["tid"], "t2");
        assert_eq!(c["azp"], SAMPLE_APP);
        assert!(!c.contains_key("appid") && !c.contains_key("upn"));
        assert_eq!(c["preferred_username"], "Isaiah.Williams@testtestpartner.onmicrosoft.com");
        assert_eq!(c["amr"], serde_json::json!(["pwd", "mfa"]));
        t.app_only = true;
        let c = t.claims();
        assert!(!c.contains_key("amr") && !c.contains_key("preferred_username"));
        assert_eq!(c["azpacr"], "2");
    }
}
