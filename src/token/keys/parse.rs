//! Reading public keys: a JWKS, a single JWK, a PEM public key or certificate, each parsed once
//! into aws-lc's form; and the keys refused when loaded (symmetric secrets, RSA under 2048 bits,
//! Ed25519 keys of small order, private keys given by mistake).

use super::set::{Key, KeySet};
use crate::token::signature::{lc_algorithm, rsa_parameters};
use anyhow::{Context, Result, bail};
use aws_lc_rs::signature::{self as lc, ParsedPublicKey};
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, DecodingKeyKind};
use serde_json::Value;
use std::str::FromStr;

/// A key file (`--jwks PATH`, `--key`, `sample --key`) is read through a reader bounded to this
/// size: `/dev/zero` or a huge file fails at once, with bounded memory.
pub const MAX_KEY_FILE_BYTES: u64 = 1 << 20;

/// Reads a key file of at most [`MAX_KEY_FILE_BYTES`].
pub fn read_key_file(path: &std::path::Path) -> Result<Vec<u8>> {
    use std::io::Read;
    let file = std::fs::File::open(path).context("cannot read the file")?;
    let mut bytes = Vec::new();
    file.take(MAX_KEY_FILE_BYTES + 1).read_to_end(&mut bytes).context("cannot read the file")?;
    if bytes.len() as u64 > MAX_KEY_FILE_BYTES {
        bail!("the file is larger than 1 MiB: not a key file");
    }
    Ok(bytes)
}

/// Entra signs with RSA keys of 2048 bits or more; a shorter key is refused when loaded.
const MIN_RSA_BITS: usize = 2048;

/// The y-coordinates (little-endian, the sign bit of x cleared) of the Ed25519 points of small
/// order, as libsodium's blocklist has them: 0 (order 4), 1 (the identity), the two of order 8,
/// p − 1 (order 2), and the non-canonical p (= 0) and p + 1 (= 1). With either sign of x that is
/// the 8 small-order points and their 6 other encodings.
const SMALL_ORDER_Y: [[u8; 32]; 7] = {
    let mut ys = [[0u8; 32]; 7];
    ys[1][0] = 1;
    ys[2] = [
        0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0, 0xd5, 0xdf,
        0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05,
    ];
    ys[3] = [
        0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f, 0x2a, 0x20,
        0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a,
    ];
    // p − 1, p, p + 1: 0x7fff…ffec, …ed, …ee.
    let mut i = 4;
    while i < 7 {
        ys[i] = [0xff; 32];
        ys[i][0] = 0xec + (i as u8 - 4);
        ys[i][31] = 0x7f;
        i += 1;
    }
    ys
};

/// An Ed25519 public key must be 32 bytes and not of small order: with the identity as key, the
/// signature `R = identity, S = 0` verifies any message.
fn ed25519_point(point: &[u8]) -> Result<()> {
    let Ok(mut y) = <[u8; 32]>::try_from(point) else {
        bail!("an Ed25519 key of {} bytes (an Ed25519 key has 32)", point.len());
    };
    y[31] &= 0x7f;
    if SMALL_ORDER_Y.contains(&y) {
        bail!("an Ed25519 key of small order: any signature could be made to verify with it, so it is refused");
    }
    Ok(())
}

/// Parses `key` once for each algorithm it may verify (only `only`, when the JWK names one).
fn parse_key(key: &DecodingKey, only: Option<Algorithm>) -> Result<Vec<(Algorithm, ParsedPublicKey)>> {
    use Algorithm::*;
    let rejected = |e: aws_lc_rs::error::KeyRejected| anyhow::anyhow!("unusable key: {e}");
    let candidates: Vec<Algorithm> = match (key.family(), key.kind()) {
        (AlgorithmFamily::Rsa, kind) => {
            let bits = match kind {
                DecodingKeyKind::RsaModulusExponent { n, .. } => n.iter().skip_while(|&&b| b == 0).count() * 8,
                DecodingKeyKind::SecretOrDer(der) => {
                    aws_lc_rs::rsa::PublicKey::from_der(der).map_err(rejected)?.modulus_len() * 8
                }
            };
            if bits < MIN_RSA_BITS {
                bail!("an RSA key of {bits} bits: Entra signs with {MIN_RSA_BITS} bits or more, so it is refused");
            }
            vec![RS256, RS384, RS512, PS256, PS384, PS512]
        }
        (AlgorithmFamily::Ec, DecodingKeyKind::SecretOrDer(point)) => match point.len() {
            65 => vec![ES256],
            97 => vec![ES384],
            _ => bail!("an EC key on a curve other than P-256 or P-384"),
        },
        (AlgorithmFamily::Ed, DecodingKeyKind::SecretOrDer(point)) => {
            ed25519_point(point)?;
            vec![EdDSA]
        }
        _ => bail!("not a public key for signatures"),
    };
    let algorithms: Vec<Algorithm> = match only {
        Some(alg) if candidates.contains(&alg) => vec![alg],
        // A JWK whose alg does not fit its key: every use of it will say so.
        Some(_) => Vec::new(),
        None => candidates,
    };
    let mut parsed = Vec::with_capacity(algorithms.len());
    for alg in algorithms {
        let ready = match (key.kind(), rsa_parameters(alg)) {
            (DecodingKeyKind::RsaModulusExponent { n, e }, Some(params)) => {
                lc::RsaPublicKeyComponents { n: n.as_slice(), e: e.as_slice() }.to_parsed_public_key(params)
            }
            (DecodingKeyKind::SecretOrDer(bytes), _) => {
                ParsedPublicKey::new(lc_algorithm(alg).context("unsupported algorithm")?, bytes)
            }
            _ => bail!("unsupported key"),
        };
        parsed.push((alg, ready.map_err(rejected)?));
    }
    Ok(parsed)
}

impl Key {
    pub(super) fn new(
        kid: Option<String>,
        x5t: Option<String>,
        alg: Option<Algorithm>,
        key: &DecodingKey,
        origin: &str,
    ) -> Result<Key> {
        let family = key.family();
        let parsed = parse_key(key, alg)?;
        Ok(Key { kid, x5t, alg, family, parsed, origin: origin.to_owned() })
    }
}

impl KeySet {
    /// A JWKS (`{"keys": [...]}`). Keys for encryption (`use: enc`) and keys of types that
    /// cannot verify are left out; a set with no usable key is an error.
    pub fn from_jwks(bytes: &[u8], origin: &str) -> Result<KeySet> {
        let value: Value = serde_json::from_slice(bytes).context("not JSON")?;
        let Some(Value::Array(items)) = value.get("keys") else {
            bail!("not a JWKS: no \"keys\" array");
        };
        let mut keys = Vec::new();
        let mut skipped = Vec::new();
        for (i, item) in items.iter().enumerate() {
            match key_from_jwk_value(item, origin) {
                Ok(Some(key)) => keys.push(key),
                Ok(None) => {}
                Err(e) => skipped.push(format!("key {i}: {e:#}")),
            }
        }
        if keys.is_empty() {
            let why = if skipped.is_empty() { String::new() } else { format!(" ({})", skipped.join("; ")) };
            bail!("no signature key in the JWKS{why}");
        }
        Ok(KeySet::new(keys))
    }

    /// A `--key` file: a PEM public key (RSA, EC or Ed25519) or X.509 certificate, a single JWK,
    /// or a JWKS.
    pub fn from_key_file(bytes: &[u8], origin: &str) -> Result<KeySet> {
        let text = std::str::from_utf8(bytes).context("neither PEM nor JSON (not UTF-8)")?.trim_start();
        if text.starts_with('{') {
            let value: Value = serde_json::from_str(text).context("not JSON")?;
            if value.get("keys").is_some() {
                return KeySet::from_jwks(bytes, origin);
            }
            return match key_from_jwk_value(&value, origin)? {
                Some(key) => Ok(KeySet::new(vec![key])),
                None => bail!(
                    "the JWK is not for verifying signatures (its use is \"enc\", or its key_ops lack \"verify\")"
                ),
            };
        }
        if !text.starts_with("-----BEGIN ") {
            bail!("neither a PEM public key nor a JWK (JSON)");
        }
        if text.lines().next().is_some_and(|line| line.contains("PRIVATE KEY")) {
            bail!("this is a private key: give the public key (openssl pkey -pubout), and keep the private key secret");
        }
        let key = DecodingKey::from_rsa_pem(bytes)
            .or_else(|_| DecodingKey::from_ec_pem(bytes))
            .or_else(|_| DecodingKey::from_ed_pem(bytes))
            .map_err(|_| anyhow::anyhow!("not an RSA, EC or Ed25519 public key in PEM"))?;
        Ok(KeySet::new(vec![Key::new(None, None, None, &key, origin)?]))
    }
}

/// One JWK as a key; `None` for an encryption key.
fn key_from_jwk_value(value: &Value, origin: &str) -> Result<Option<Key>> {
    let jwk: Jwk = serde_json::from_value(value.clone()).context("not a JWK")?;
    if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
        return Ok(None);
    }
    // RFC 7517 §4.3: a key whose operations do not include "verify" is not for verifying.
    if let Some(ops) = &jwk.common.key_operations
        && !ops.iter().any(|op| matches!(op, jsonwebtoken::jwk::KeyOperations::Verify))
    {
        return Ok(None);
    }
    if matches!(jwk.algorithm, AlgorithmParameters::OctetKey(_)) {
        // A symmetric secret is not a public key: HMAC tokens are never accepted.
        bail!("a symmetric (oct) key: HMAC tokens are not verified");
    }
    let key = DecodingKey::from_jwk(&jwk).context("unsupported key type")?;
    let alg = match &jwk.common.key_algorithm {
        Some(a) => Some(Algorithm::from_str(&a.to_string()).context("unsupported alg")?),
        None => None,
    };
    Key::new(jwk.common.key_id.clone(), jwk.common.x509_sha1_fingerprint.clone(), alg, &key, origin).map(Some)
}
