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
