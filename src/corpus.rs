//! Realistic token mixes for benchmarks and batch tests: v1.0 Entra ID access tokens of about
//! 1.4 KB (app-only, app+user with MFA, password-only), each with its own claims.
//!
//! RS256 signing costs about a millisecond, too slow for a million tokens, so by default the
//! signature segment is RS256-shaped (256 random bytes, 342 base64url characters): `check` does
//! not verify signatures unless asked, and this path never decodes them. Pass a signer to sign
//! every token for real.

use crate::sample::{Signer, encode};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

const PC: &str = "https://api.partnercenter.microsoft.com";
const TENANT: &str = "df845f1a-7b35-40a2-ba78-6481de91f8ae";
const APP: &str = "23ec45a3-5127-4185-9eff-c8887839e6ab";
/// Issued 2025-12-01, valid until 2100: the verdicts do not change with the clock.
const IAT: i64 = 1_764_547_200;
const EXP: i64 = 4_102_444_800;
/// Signing key ids (`kid`, also `x5t`), as Entra's look.
const KIDS: [&str; 2] = ["kWbkaa6qs8wsTnBwiiNYOhHbnAw", "JDNa_4i4r7FgigL3sHIlI3xV-IU"];
const GIVEN: [&str; 8] = ["Isaiah", "Amara", "Kenji", "Sofia", "Mateo", "Lena", "Olu", "Priya"];
const FAMILY: [&str; 8] = ["Williams", "Okafor", "Tanaka", "Rossi", "García", "Müller", "Adeyemi", "Nair"];

/// The kinds of token a mix holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Client credentials: `idtyp` app, `roles`, `oid` = `sub`.
    AppOnly,
    /// A delegated sign-in with `amr` `["pwd", "mfa"]`.
    Mfa,
    /// A delegated sign-in with `amr` `["pwd"]` (resource-owner password credentials).
    PasswordOnly,
}

/// A deterministic stream of distinct tokens: the same seed gives the same tokens.
pub struct Corpus<'a> {
    rng: SplitMix,
    signer: Option<&'a Signer>,
    serial: u64,
}

impl<'a> Corpus<'a> {
    pub fn new(seed: u64, signer: Option<&'a Signer>) -> Self {
        Corpus { rng: SplitMix(seed), signer, serial: 0 }
    }

    /// The next token of the mix: 30 % app-only, 45 % MFA, 25 % password-only.
    pub fn next_token(&mut self) -> String {
        let shape = match self.rng.below(100) {
            0..30 => Shape::AppOnly,
            30..75 => Shape::Mfa,
            _ => Shape::PasswordOnly,
        };
        self.token(shape)
    }

    /// The next token of one shape.
    pub fn token(&mut self, shape: Shape) -> String {
        self.serial += 1;
        let claims = self.claims(shape);
        let mut header = Map::new();
        header.insert("typ".into(), "JWT".into());
        // The signer's algorithm (the bench signs with EC and Ed25519 keys too), else RS256-shaped.
        header.insert("alg".into(), self.signer.map_or("RS256".into(), |s| s.alg_name()).into());
        // Entra signs with one key at a time; a rollover shows the next one for a while.
        let kid = if self.rng.below(20) == 0 { KIDS[1] } else { KIDS[0] };
        header.insert("x5t".into(), kid.into());
        header.insert("kid".into(), kid.into());
        match self.signer {
            Some(signer) => encode(&header, &claims, Some(signer)).expect("signing"),
            None => {
                let mut token = encode(&header, &claims, None).expect("JSON encoding");
                let signature: Vec<u8> = (0..256).map(|_| self.rng.next() as u8).collect();
                URL_SAFE_NO_PAD.encode_string(signature, &mut token);
                token
            }
        }
    }

    fn claims(&mut self, shape: Shape) -> Map<String, Value> {
        let iat = IAT + self.rng.below(86_400 * 30) as i64;
        let mut claims = obj(json!({
            "aud": PC,
            "iss": format!("https://sts.windows.net/{TENANT}/"),
            "iat": iat, "nbf": iat, "exp": EXP,
        }));
        let oid = self.uuid();
        let more = match shape {
            Shape::AppOnly => json!({
                "aio": self.id(56),
                "appid": APP, "appidacr": "2",
                "idp": format!("https://sts.windows.net/{TENANT}/"),
                "idtyp": "app",
                "oid": oid, "rh": self.rh(),
                "roles": ["Partner.Read.All", "Partner.ReadWrite.All"],
                "sub": oid, "tid": TENANT, "uti": self.id(22), "ver": "1.0",
                "xms_tcdt": 1_404_762_442,
            }),
            Shape::Mfa | Shape::PasswordOnly => {
                let given = GIVEN[self.rng.below(8) as usize];
                let family = FAMILY[self.rng.below(8) as usize];
                let upn = format!("{given}.{family}{}@contoso.onmicrosoft.com", self.serial % 10_000);
                let amr = if shape == Shape::Mfa { json!(["pwd", "mfa"]) } else { json!(["pwd"]) };
                json!({
                    "acr": "1", "aio": self.id(60), "amr": amr,
                    "appid": APP, "appidacr": if shape == Shape::Mfa { "0" } else { "1" },
                    "family_name": family, "given_name": given, "idtyp": "user",
                    "ipaddr": format!("203.0.113.{}", self.rng.below(255)),
                    "name": format!("{given} {family}"),
                    "oid": oid, "rh": self.rh(),
                    "scp": "user_impersonation", "sub": self.id(43), "tid": TENANT,
                    "unique_name": upn, "upn": upn, "uti": self.id(22), "ver": "1.0",
                })
            }
        };
        claims.extend(obj(more));
        claims
    }

    /// Base64url text of `len` characters, like Entra's opaque `aio`, `uti`, `sub` values.
    fn id(&mut self, len: usize) -> String {
        let bytes: Vec<u8> = (0..len).map(|_| self.rng.next() as u8).collect();
        let mut text = URL_SAFE_NO_PAD.encode(bytes);
        text.truncate(len);
        text
    }

    fn rh(&mut self) -> String {
        format!("1.A{}AA.", self.id(40))
    }

    fn uuid(&mut self) -> String {
        let a = self.rng.next();
        let b = self.rng.next();
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | ((b >> 48) & 0x3fff),
            b & 0xffff_ffff_ffff
        )
    }
}

fn obj(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => unreachable!("an object literal"),
    }
}

/// SplitMix64: a tiny, well-mixed generator; cryptographic quality is not needed here.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_realistic_distinct_and_deterministic() {
        let mut a = Corpus::new(7, None);
        let tokens: Vec<String> = (0..200).map(|_| a.next_token()).collect();
        let mut b = Corpus::new(7, None);
        assert_eq!(tokens[..10], (0..10).map(|_| b.next_token()).collect::<Vec<_>>()[..]);
        let mut sorted = tokens.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), tokens.len());
        let mean = tokens.iter().map(String::len).sum::<usize>() / tokens.len();
        assert!((1200..1600).contains(&mean), "mean length {mean}");
        for token in &tokens {
            let jws = crate::token::jws::decode(token).unwrap();
            assert_eq!(jws.alg(), "RS256");
            assert_eq!(token.rsplit('.').next().unwrap().len(), 342, "an RS256-shaped signature");
        }
    }
}
