//! Signature verification: public keys (a JWKS from a file or an URL, a PEM or JWK file, or
//! Microsoft's published keys for the token's issuer, [`crate::token::microsoft_keys`]), the key a token
//! names (`kid`, else `x5t`), and the check itself.
//!
//! The algorithm must fit the key: `none` and the HMAC algorithms (`HS*`) are never accepted, so a
//! public key can never serve as an HMAC secret (algorithm confusion); an RSA key verifies only
//! RS*/PS*, an EC key ES*, an OKP key EdDSA, and a key whose JWK names an `alg` only that one.
//!
//! Speed: each key is parsed once, at load time, into aws-lc's ready-to-use form (one per
//! algorithm it may verify), so a check is the signature arithmetic alone; and [`Keys::check`]
//! remembers each token's result ([`crate::token::verify_cache`]), so a token repeated in a stream is
//! verified once. [`Keys`] is `Send + Sync`: one `Arc<Keys>` serves every thread.

use crate::token::claims::{Claims, HeaderMember};
use crate::token::microsoft_keys::{Lookup, MicrosoftKeys};
use crate::token::verify_cache::{CacheKey, VerifyCache};
use anyhow::{Context, Result, bail};
use aws_lc_rs::digest::Digest;
use aws_lc_rs::signature::{self as lc, ParsedPublicKey, RsaParameters};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, DecodingKeyKind};
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The `signature` of the result object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signature {
    /// A key of the given set verified the signature with the header's algorithm.
    Verified,
    /// The signature does not verify, or the algorithm is refused or does not fit the key.
    Invalid,
    /// No key of the given set is the one the header names.
    UnknownKey,
    /// No key was given.
    NotChecked,
    /// Keys were asked for, but this token could not be checked, for the reason given; shown as
    /// `not-checked`, and [`crate::judge::verdict`] says why in a finding.
    Unchecked(Unchecked),
}

/// Why a token was not checked although verification was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unchecked {
    /// A Microsoft Graph token: its header's `nonce` is replaced by a hash before Graph's
    /// signature is made, so only Graph can check it.
    GraphNonce,
    /// `--verify`: the issuer is not one of Microsoft's login hosts, so no key may be fetched.
    IssuerNotMicrosoft,
    /// `--verify`: Microsoft's keys for the issuer could not be had (`--offline` with no cached
    /// copy, or the fetch failed); the detail says which.
    KeysUnavailable,
}

impl Signature {
    pub fn as_str(self) -> &'static str {
        match self {
            Signature::Verified => "verified",
            Signature::Invalid => "invalid",
            Signature::UnknownKey => "unknown-key",
            Signature::NotChecked | Signature::Unchecked(_) => "not-checked",
        }
    }
}

impl Serialize for Signature {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// The outcome of a signature check and, for people, what it rests on. Serializes as the bare
/// status (`"verified"`, …): the detail goes into a finding or the text output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub signature: Signature,
    pub detail: String,
}

impl Verification {
    /// No key given: the usual case, so it allocates nothing.
    pub fn not_checked() -> Self {
        Verification { signature: Signature::NotChecked, detail: String::new() }
    }

    fn new(signature: Signature, detail: impl Into<String>) -> Self {
        Verification { signature, detail: detail.into() }
    }

    /// Verification was asked for and did not verify: every outcome of a check but `verified`,
    /// including a Graph token that nobody but Graph can check (SPEC §2).
    pub fn failed(&self) -> bool {
        !matches!(self.signature, Signature::Verified | Signature::NotChecked)
    }

    /// A result that no later fetch of keys can change, and so may be remembered.
    fn settled(&self) -> bool {
        !matches!(self.signature, Signature::UnknownKey | Signature::Unchecked(Unchecked::KeysUnavailable))
    }
}

impl Serialize for Verification {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.signature.serialize(serializer)
    }
}

/// One public key and the names a token may use for it.
#[derive(Debug, Clone)]
struct Key {
    kid: Option<String>,
    x5t: Option<String>,
    /// The JWK's `alg`, when it restricts the key to one algorithm.
    alg: Option<Algorithm>,
    family: AlgorithmFamily,
    /// The key parsed once for each algorithm it may verify.
    parsed: Vec<(Algorithm, ParsedPublicKey)>,
    /// Where the key came from, for messages.
    origin: String,
}

impl Key {
    fn new(
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

    fn name(&self) -> String {
        match (&self.kid, &self.x5t) {
            (Some(kid), _) => format!("key {kid:?}"),
            (None, Some(x5t)) => format!("key x5t {x5t:?}"),
            (None, None) => format!("the key of {}", self.origin),
        }
    }

    /// A key without `kid` or `x5t` (a bare PEM) stands for any token that names no key of the set.
    fn unnamed(&self) -> bool {
        self.kid.is_none() && self.x5t.is_none()
    }
}

/// Keys tried for one token at most: a token whose header names no key (or a key many of the
/// set share) is checked against this many, not against every key of a big set.
pub const MAX_CANDIDATES: usize = 16;

/// Entra signs with RSA keys of 2048 bits or more; a shorter key is refused when loaded.
const MIN_RSA_BITS: usize = 2048;

/// aws-lc's verification parameters for `alg`; `None` for algorithms never verified here.
fn lc_algorithm(alg: Algorithm) -> Option<&'static dyn lc::VerificationAlgorithm> {
    if let Some(rsa) = rsa_parameters(alg) {
        return Some(rsa);
    }
    Some(match alg {
        Algorithm::ES256 => &lc::ECDSA_P256_SHA256_FIXED,
        Algorithm::ES384 => &lc::ECDSA_P384_SHA384_FIXED,
        Algorithm::EdDSA => &lc::ED25519,
        _ => return None,
    })
}

fn rsa_parameters(alg: Algorithm) -> Option<&'static RsaParameters> {
    Some(match alg {
        Algorithm::RS256 => &lc::RSA_PKCS1_2048_8192_SHA256,
        Algorithm::RS384 => &lc::RSA_PKCS1_2048_8192_SHA384,
        Algorithm::RS512 => &lc::RSA_PKCS1_2048_8192_SHA512,
        Algorithm::PS256 => &lc::RSA_PSS_2048_8192_SHA256,
        Algorithm::PS384 => &lc::RSA_PSS_2048_8192_SHA384,
        Algorithm::PS512 => &lc::RSA_PSS_2048_8192_SHA512,
        _ => return None,
    })
}

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

/// A set of public keys, read once; each set has its own identity for the result cache.
#[derive(Debug)]
pub struct KeySet {
    keys: Vec<Key>,
    id: u64,
}

fn next_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

impl KeySet {
    fn new(keys: Vec<Key>) -> KeySet {
        KeySet { keys, id: next_id() }
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Whether a key of the set has this `kid`.
    pub fn has_kid(&self, kid: &str) -> bool {
        self.keys.iter().any(|k| k.kid.as_deref() == Some(kid))
    }

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

    /// Verifies one compact JWS whose header is `header` and claims `claims`; `signing_input`:
    /// the SHA-256 of its signing input, when already computed.
    fn verify(
        &self,
        header: &Map<String, Value>,
        token: &str,
        claims: &Claims,
        signing_input: Option<&Digest>,
    ) -> Verification {
        let alg_name = header.get("alg").and_then(Value::as_str).unwrap_or_default();
        let alg = match accepted_algorithm(alg_name) {
            Ok(alg) => alg,
            Err(refusal) => return Verification::new(Signature::Invalid, refusal),
        };
        let Some((message, signature)) = token.rsplit_once('.') else {
            return Verification::new(Signature::Invalid, "not a compact JWS");
        };
        let candidates = match self.candidates(header) {
            Ok(candidates) => candidates,
            Err(why) => return Verification::new(Signature::UnknownKey, why),
        };
        let mut last = None;
        for key in candidates {
            let outcome = verify_with(key, alg, (message.as_bytes(), signing_input), signature);
            if outcome.signature == Signature::Verified {
                return outcome;
            }
            last = Some(outcome);
        }
        let failed = last.unwrap_or_else(|| Verification::new(Signature::Invalid, "no key fits"));
        if header.contains_key(HeaderMember::Nonce.name()) && claims.graph_only() {
            // Graph signs a hash of the nonce, not the nonce: a mismatch here says nothing about
            // the token, so it is not-checked, which fails like invalid when keys were asked for
            // (only a token for Graph alone gets here, never one that also names Partner Center).
            return Verification::new(Signature::Unchecked(Unchecked::GraphNonce), failed.detail);
        }
        failed
    }

    /// The keys to try, at most [`MAX_CANDIDATES`] (else why none is tried, as for no key at all).
    fn candidates(&self, header: &Map<String, Value>) -> Result<Vec<&Key>, String> {
        let candidates = self.named(header);
        if candidates.is_empty() {
            return Err(self.unknown_key(header));
        }
        if candidates.len() > MAX_CANDIDATES {
            // Each try is a signature check: a token that names no key of a big set would cost one
            // per key (6,000 keys took half a second), and it is the token that chose not to name one.
            return Err(format!(
                "{} keys of the set could be the one (the token names {}): at most {MAX_CANDIDATES} are tried \
                 for one token, so none was; a genuine token names its key by kid",
                candidates.len(),
                self.names(header)
            ));
        }
        Ok(candidates)
    }

    /// The keys the header names: by `kid`, else by `x5t`; keys without a name stand for any token
    /// that names no key of the set; a header that names no key may use any key of the set.
    fn named(&self, header: &Map<String, Value>) -> Vec<&Key> {
        // A kid or x5t that is not a string (`"kid": 1`) names no key: it never matches `"1"`, and
        // is not taken for an absent one either.
        let text = |name| match header.get(name) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.as_str())),
            Some(_) => Err(()),
        };
        let (Ok(kid), Ok(x5t)) = (text("kid"), text("x5t")) else { return Vec::new() };
        let by_kid: Vec<&Key> = match kid {
            Some(kid) => self.keys.iter().filter(|k| k.kid.as_deref() == Some(kid)).collect(),
            None => Vec::new(),
        };
        if !by_kid.is_empty() {
            return by_kid;
        }
        if let Some(x5t) = x5t {
            let by_x5t: Vec<&Key> = self.keys.iter().filter(|k| k.x5t.as_deref() == Some(x5t)).collect();
            if !by_x5t.is_empty() {
                return by_x5t;
            }
        }
        if kid.is_none() && x5t.is_none() {
            return self.keys.iter().collect();
        }
        self.keys.iter().filter(|k| k.unnamed()).collect()
    }

    /// What the header names a key by, for messages.
    fn names(&self, header: &Map<String, Value>) -> String {
        let text = |name| header.get(name).and_then(Value::as_str).map(short);
        match (text("kid"), text("x5t")) {
            (Some(kid), Some(x5t)) => format!("kid {kid:?} (x5t {x5t:?})"),
            (Some(kid), None) => format!("kid {kid:?}"),
            (None, Some(x5t)) => format!("x5t {x5t:?}"),
            (None, None) => "no key".into(),
        }
    }

    fn unknown_key(&self, header: &Map<String, Value>) -> String {
        let named = self.names(header);
        let mut known: Vec<&str> = self.keys.iter().filter_map(|k| k.kid.as_deref()).collect();
        known.truncate(8);
        format!(
            "the token names {named}, which none of the {} given key(s) has (kids: {}): it was signed by \
             another key, or the key set is out of date",
            self.keys.len(),
            if known.is_empty() { "none".into() } else { known.join(", ") }
        )
    }
}

/// The trusted public keys of a run, loaded once and shared by every check and every thread:
/// the keys given (`--jwks`, `--key`), or Microsoft's for each token's issuer (`--verify`), and
/// the results already known.
#[derive(Debug)]
pub struct Keys {
    given: KeySet,
    microsoft: Option<MicrosoftKeys>,
    cache: VerifyCache,
}

impl Default for Keys {
    fn default() -> Self {
        Keys { given: KeySet::new(Vec::new()), microsoft: None, cache: VerifyCache::default() }
    }
}

/// A JWKS fetched from an URL is given up on past this size.
pub const MAX_JWKS_BYTES: u64 = 1 << 20;

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

/// How long fetching a JWKS may take, unless `--fetch-timeout` says otherwise.
pub const DEFAULT_FETCH_TIMEOUT: u64 = 10;

/// Loads every `--jwks` SOURCE (file or URL) and `--key` PATH; `None` when none is given.
/// `offline` refuses URLs.
pub fn load(jwks: &[String], key_files: &[PathBuf], timeout: Duration, offline: bool) -> Result<Option<Arc<Keys>>> {
    if jwks.is_empty() && key_files.is_empty() {
        return Ok(None);
    }
    let mut keys = Vec::new();
    for source in jwks {
        let bytes = if is_url(source) {
            if offline {
                bail!("--jwks {source}: --offline forbids fetching; give the JWKS as a file");
            }
            fetch(source, timeout, "--jwks")?
        } else {
            read_key_file(std::path::Path::new(source)).with_context(|| format!("--jwks {source}"))?
        };
        let set = KeySet::from_jwks(&bytes, source).with_context(|| format!("--jwks {source}"))?;
        keys.extend(set.keys);
    }
    for path in key_files {
        let name = crate::error::path_name(path);
        let bytes = read_key_file(path).with_context(|| format!("--key {name}"))?;
        let set = Keys::from_key_file(&bytes, &name).with_context(|| format!("--key {name}"))?;
        keys.extend(set.given.keys);
    }
    Ok(Some(Arc::new(Keys::from_set(KeySet::new(keys)))))
}

impl Keys {
    fn from_set(given: KeySet) -> Keys {
        Keys { given, ..Keys::default() }
    }

    /// `--verify`: Microsoft's published keys for each token's issuer.
    pub fn microsoft(microsoft: MicrosoftKeys) -> Keys {
        Keys { microsoft: Some(microsoft), ..Keys::default() }
    }

    /// The keys given (none with `--verify`, whose keys depend on each token).
    pub fn len(&self) -> usize {
        self.given.len()
    }

    pub fn is_empty(&self) -> bool {
        self.given.is_empty()
    }

    /// `--verify`: what could not be had (each missing key set and why), for the end of the run.
    pub fn missing(&self) -> Vec<String> {
        self.microsoft.as_ref().map(MicrosoftKeys::missing).unwrap_or_default()
    }

    /// A JWKS (`{"keys": [...]}`): see [`KeySet::from_jwks`].
    pub fn from_jwks(bytes: &[u8], origin: &str) -> Result<Keys> {
        KeySet::from_jwks(bytes, origin).map(Keys::from_set)
    }

    /// A `--key` file: a PEM public key (RSA, EC or Ed25519) or X.509 certificate, a single JWK,
    /// or a JWKS.
    pub fn from_key_file(bytes: &[u8], origin: &str) -> Result<Keys> {
        let text = std::str::from_utf8(bytes).context("neither PEM nor JSON (not UTF-8)")?.trim_start();
        if text.starts_with('{') {
            let value: Value = serde_json::from_str(text).context("not JSON")?;
            if value.get("keys").is_some() {
                return Keys::from_jwks(bytes, origin);
            }
            return match key_from_jwk_value(&value, origin)? {
                Some(key) => Ok(Keys::from_set(KeySet::new(vec![key]))),
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
        Ok(Keys::from_set(KeySet::new(vec![Key::new(None, None, None, &key, origin)?])))
    }

    /// Verifies one compact JWS whose header is `header` and claims `claims` (the token's own, as
    /// its decoder read them), remembering the result: a token checked before costs a digest and a
    /// look-up. Callable from any thread.
    pub fn check(&self, header: &Map<String, Value>, token: &str, claims: &Claims) -> Verification {
        // One cache for the run; the Keys are its scope (Microsoft's sets may be refetched, but a
        // result is cached only when no refetch can change it).
        let (key, signing_input) = VerifyCache::key(self.given.id, token);
        if let Some(known) = self.cache.get(&key) {
            return known;
        }
        self.check_missed(key, signing_input.as_ref(), header, token, claims)
    }

    /// Verifies a token the cache does not hold (under `key`), and remembers the result.
    fn check_missed(
        &self,
        key: CacheKey,
        signing_input: Option<&Digest>,
        header: &Map<String, Value>,
        token: &str,
        claims: &Claims,
    ) -> Verification {
        let outcome = self.verify_hashed(header, token, claims, signing_input);
        if outcome.settled() {
            self.cache.insert(key, outcome.clone());
        }
        outcome
    }

    /// [`Keys::check`] for a caller that holds the token and its claims but not its header as a
    /// map (the fast decoder): decodes the header on a miss.
    pub fn check_token(&self, token: &str, claims: &Claims) -> Verification {
        let (key, signing_input) = VerifyCache::key(self.given.id, token);
        if let Some(known) = self.cache.get(&key) {
            return known;
        }
        // Only the header: the caller has read the claims already.
        let header = token.split('.').next().ok_or_else(|| "no header".to_owned()).and_then(|segment| {
            let bytes = crate::token::jws::decode_segment("header", segment).map_err(|e| e.message)?;
            crate::token::jws::parse_object("header", &bytes).map_err(|e| e.message)
        });
        match header {
            Ok(header) => self.check_missed(key, signing_input.as_ref(), &header, token, claims),
            Err(e) => Verification::new(Signature::Invalid, format!("not a decodable JWS: {e}")),
        }
    }

    /// Verifies one compact JWS whose header is `header` and claims `claims`, without the cache.
    pub fn verify(&self, header: &Map<String, Value>, token: &str, claims: &Claims) -> Verification {
        self.verify_hashed(header, token, claims, None)
    }

    /// [`Keys::verify`], given the SHA-256 of the signing input when it is already computed.
    fn verify_hashed(
        &self,
        header: &Map<String, Value>,
        token: &str,
        claims: &Claims,
        signing_input: Option<&Digest>,
    ) -> Verification {
        let Some(microsoft) = &self.microsoft else {
            return self.given.verify(header, token, claims, signing_input);
        };
        match microsoft.for_issuer(claims.iss) {
            Lookup::NotMicrosoft => Verification::new(
                Signature::Unchecked(Unchecked::IssuerNotMicrosoft),
                claims.iss.map_or_else(|| "no iss claim".to_owned(), |iss| format!("iss {:?}", short(iss))),
            ),
            Lookup::Unavailable(why) => Verification::new(Signature::Unchecked(Unchecked::KeysUnavailable), why),
            Lookup::Keys { set, url } => {
                let outcome = set.verify(header, token, claims, signing_input);
                let kid = header.get("kid").and_then(Value::as_str);
                if outcome.signature == Signature::UnknownKey
                    && let Some(kid) = kid
                    && let Some(newer) = microsoft.refetch(&url, kid)
                {
                    // Key rollover: Microsoft publishes a new key before signing with it.
                    return newer.verify(header, token, claims, signing_input);
                }
                outcome
            }
        }
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

/// Checks the signature of `token` (the compact JWS whose header is `header` and claims
/// `claims`) with `keys`; not-checked when no key was given.
pub fn check(keys: Option<&Keys>, header: &Map<String, Value>, token: &str, claims: &Claims) -> Verification {
    match keys {
        Some(keys) => keys.check(header, token, claims),
        None => Verification::not_checked(),
    }
}

/// The header's algorithm, when it may be verified with a public key at all.
fn accepted_algorithm(name: &str) -> Result<Algorithm, String> {
    let name = short(name);
    if name.eq_ignore_ascii_case("none") {
        return Err(format!(
            "alg {name:?}: an unsigned token is never accepted when a key is given; anyone could have written it"
        ));
    }
    match Algorithm::from_str(&name) {
        Ok(alg @ (Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512)) => Err(format!(
            "alg {alg:?} is an HMAC (shared-secret) algorithm: never accepted against a public key, as \
             a token made with the public key as the secret would pass (algorithm confusion)"
        )),
        Ok(alg) if lc_algorithm(alg).is_some() => Ok(alg),
        _ => Err(format!("alg {name:?} cannot be verified (supported: RS*, PS*, ES256, ES384, EdDSA)")),
    }
}

/// Signatures longer than this (an RSA key over 8192 bits) are refused by aws-lc anyway.
const MAX_SIGNATURE_BYTES: usize = 1024;

/// `message`: the signing input, and its SHA-256 when already computed.
fn verify_with(key: &Key, alg: Algorithm, message: (&[u8], Option<&Digest>), signature: &str) -> Verification {
    if alg.family() != key.family {
        return Verification::new(
            Signature::Invalid,
            format!("alg {alg:?} does not fit {}, {}: refused", key.name(), family_name(key.family)),
        );
    }
    if let Some(only) = key.alg.filter(|only| *only != alg) {
        return Verification::new(
            Signature::Invalid,
            format!("alg {alg:?} is not the algorithm of {} (its JWK says {only:?}): refused", key.name()),
        );
    }
    let Some((_, parsed)) = key.parsed.iter().find(|(a, _)| *a == alg) else {
        return Verification::new(
            Signature::Invalid,
            format!("alg {alg:?} does not fit the curve of {}: refused", key.name()),
        );
    };
    // Decoded on the stack: no allocation per token.
    let mut raw = [0u8; MAX_SIGNATURE_BYTES];
    let raw = match URL_SAFE_NO_PAD.decode_slice(signature, &mut raw) {
        Ok(len) => &raw[..len],
        Err(_) => {
            return Verification::new(
                Signature::Invalid,
                format!("the {alg:?} signature cannot be checked with {}: not base64url, or too long", key.name()),
            );
        }
    };
    // The SHA-256 of the cache key serves the algorithms that sign that hash.
    let result = match message {
        (_, Some(digest)) if matches!(alg, Algorithm::RS256 | Algorithm::PS256 | Algorithm::ES256) => {
            parsed.verify_digest_sig(digest, raw)
        }
        (message, _) => parsed.verify_sig(message, raw),
    };
    match result {
        Ok(()) => Verification::new(Signature::Verified, format!("{alg:?}, {}", key.name())),
        Err(_) => Verification::new(
            Signature::Invalid,
            format!(
                "the {alg:?} signature does not match {}: the token was altered or signed by another key",
                key.name()
            ),
        ),
    }
}

/// A header value as a message quotes it: the header is the token's, so it is cut short.
fn short(text: &str) -> String {
    const MAX: usize = 64;
    match text.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

fn family_name(family: AlgorithmFamily) -> &'static str {
    match family {
        AlgorithmFamily::Rsa => "an RSA key (RS*, PS*)",
        AlgorithmFamily::Ec => "an EC key (ES*)",
        AlgorithmFamily::Ed => "an Ed25519 key (EdDSA)",
        AlgorithmFamily::Hmac => "a symmetric secret",
    }
}

/// `scheme://…` is an URL (refused unless https, or http on loopback); anything else a path.
fn is_url(source: &str) -> bool {
    source.split_once("://").is_some_and(|(scheme, _)| {
        !scheme.is_empty() && scheme.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
    })
}

/// The host of an http(s) URL may be reached: https anywhere, plain http only on loopback.
#[cfg(feature = "fetch")]
pub(crate) fn check_url(url: &str, option: &str) -> Result<bool> {
    let uri: ureq::http::Uri = url.parse().with_context(|| format!("{option} {url}: not a valid URL"))?;
    let host = uri.host().unwrap_or_default();
    match uri.scheme_str() {
        Some("https") => Ok(false),
        Some("http") if is_loopback(host) => Ok(true),
        Some("http") => bail!(
            "{option} {url}: plain http is refused except on loopback hosts (127.0.0.0/8, localhost, ::1); use https"
        ),
        _ => bail!("{option} {url}: only https URLs (or a file path) are accepted"),
    }
}

pub(crate) fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Fetches a JWKS over https (or http on loopback), within `timeout` and [`MAX_JWKS_BYTES`];
/// `option` names what asked for it, in messages.
#[cfg(feature = "fetch")]
pub(crate) fn fetch(url: &str, timeout: Duration, option: &str) -> Result<Vec<u8>> {
    let loopback = check_url(url, option)?;
    // rustls on aws-lc, the crypto that verifies signatures: ring is not built.
    let tls = ureq::tls::TlsConfig::builder()
        .unversioned_rustls_crypto_provider(std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .build();
    let mut config = ureq::Agent::config_builder()
        .tls_config(tls)
        .timeout_global(Some(timeout))
        .https_only(!loopback)
        .user_agent(concat!("mfacheck/", env!("CARGO_PKG_VERSION")));
    // A redirect is never followed: a key set comes from the URL given, or not at all.
    config = config.max_redirects(0);
    if loopback {
        // A proxy from the environment may not take a loopback request elsewhere.
        config = config.proxy(None);
    }
    let agent: ureq::Agent = config.build().into();
    let fail = |e: ureq::Error| match e {
        ureq::Error::Timeout(_) => anyhow::anyhow!("{option} {url}: no answer within {} s", timeout.as_secs_f64()),
        ureq::Error::StatusCode(code) => anyhow::anyhow!("{option} {url}: the server answered HTTP {code}"),
        ureq::Error::BodyExceedsLimit(_) => anyhow::anyhow!("{option} {url}: larger than {MAX_JWKS_BYTES} bytes"),
        other => anyhow::anyhow!("{option} {url}: cannot fetch: {other}"),
    };
    let mut response = agent.get(url).header("Accept", "application/json").call().map_err(fail)?;
    if response.status().is_redirection() {
        let to = response.headers().get("location").and_then(|l| l.to_str().ok()).unwrap_or("nowhere");
        bail!(
            "{option} {url}: the server answered HTTP {} redirecting to {} (redirects are not followed: give the \
             final URL)",
            response.status().as_u16(),
            short(to)
        );
    }
    response.body_mut().with_config().limit(MAX_JWKS_BYTES).read_to_vec().map_err(fail)
}

/// Built without the `fetch` feature: no network request is ever made.
#[cfg(not(feature = "fetch"))]
pub(crate) fn fetch(url: &str, _timeout: Duration, option: &str) -> Result<Vec<u8>> {
    bail!(
        "{option} {url}: this mfacheck was built without the `fetch` feature, so it makes no network request; \
         give the JWKS as a file (--jwks PATH) or build with the default features"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const JWKS: &[u8] = include_bytes!("../../fixtures/keys/jwks.json");

    fn header(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    fn token(name: &str) -> String {
        std::fs::read_to_string(format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap().trim().to_owned()
    }

    fn verify(keys: &Keys, token: &str) -> Verification {
        let jws = crate::token::jws::decode(token).unwrap();
        keys.verify(&jws.header, token, &Claims::of_map(&jws.claims))
    }

    /// The claims of `token`, for a check that is given another header than the token's own.
    fn payload(token: &str) -> Map<String, Value> {
        crate::token::jws::decode(token).unwrap().claims
    }

    #[test]
    fn fixture_tokens_verify_against_the_test_jwks() {
        let keys = Keys::from_jwks(JWKS, "jwks.json").unwrap();
        assert_eq!(keys.len(), 3);
        for name in ["mfa.jwt", "es256.jwt", "eddsa.jwt", "seed.jwt"] {
            let v = verify(&keys, &token(name));
            assert_eq!(v.signature, Signature::Verified, "{name}: {}", v.detail);
        }
    }

    #[test]
    fn keys_can_be_shared_by_threads() {
        // Loaded once in main, then read by every worker of a parallel batch.
        fn shareable<T: Send + Sync>() {}
        shareable::<Keys>();
        shareable::<crate::judge::Policy>();
    }

    #[test]
    fn refused_algorithms() {
        assert!(accepted_algorithm("none").unwrap_err().contains("unsigned"));
        assert!(accepted_algorithm("NONE").is_err());
        assert!(accepted_algorithm("HS256").unwrap_err().contains("algorithm confusion"));
        assert!(accepted_algorithm("HS512").is_err());
        assert!(accepted_algorithm("ES512").unwrap_err().contains("cannot be verified"));
        let long = "X".repeat(1000);
        assert!(accepted_algorithm(&long).unwrap_err().len() < 200, "header text is cut short");
        assert_eq!(accepted_algorithm("PS256"), Ok(Algorithm::PS256));
    }

    #[test]
    fn the_confusion_fixture_is_a_real_attack_and_is_refused() {
        let forged = token("attack/hs256-confusion.jwt");
        let (message, signature) = forged.rsplit_once('.').unwrap();
        // A verifier that let the header pick HMAC and used the public key's PEM as the secret
        // would accept it …
        let public_pem = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/keys/test-rsa.pub.pem")).unwrap();
        let naive = DecodingKey::from_secret(&public_pem);
        assert!(jsonwebtoken::crypto::verify(signature, message.as_bytes(), &naive, Algorithm::HS256).unwrap());
        // … this one refuses it, with a JWKS or with that very PEM.
        for keys in [Keys::from_jwks(JWKS, "jwks").unwrap(), Keys::from_key_file(&public_pem, "pem").unwrap()] {
            let v = verify(&keys, &forged);
            assert_eq!(v.signature, Signature::Invalid);
            assert!(v.detail.contains("algorithm confusion"), "{}", v.detail);
        }
    }

    #[test]
    fn key_is_chosen_by_kid_then_x5t() {
        let mut jwks: Value = serde_json::from_slice(JWKS).unwrap();
        // Microsoft's JWKS carries x5t and members jsonwebtoken does not know.
        jwks["keys"][0]["x5t"] = json!("thumb-rsa");
        jwks["keys"][0]["issuer"] = json!("https://login.microsoftonline.com/{tenantid}/v2.0");
        let keys = Keys::from_jwks(&serde_json::to_vec(&jwks).unwrap(), "ms").unwrap();
        let good = token("mfa.jwt");
        // A header that names the key only by x5t (the header passed in chooses the key; the
        // token's own bytes are what is verified).
        let v = keys.verify(&header(json!({"alg":"RS256","x5t":"thumb-rsa"})), &good, &Claims::of_map(&payload(&good)));
        assert_eq!(v.signature, Signature::Verified, "{}", v.detail);
        // … and an unknown kid with a known x5t falls back to the x5t.
        let v = keys.verify(
            &header(json!({"alg":"RS256","kid":"nope","x5t":"thumb-rsa"})),
            &good,
            &Claims::of_map(&payload(&good)),
        );
        assert_eq!(v.signature, Signature::Verified, "{}", v.detail);
        let v = keys.verify(
            &header(json!({"alg":"RS256","kid":"nope","x5t":"nope"})),
            &good,
            &Claims::of_map(&payload(&good)),
        );
        assert_eq!(v.signature, Signature::UnknownKey);
        assert!(v.detail.contains("\"nope\"") && v.detail.contains("mfacheck-test-ec"), "{}", v.detail);
    }

    #[test]
    fn algorithm_must_fit_the_key() {
        let keys = Keys::from_jwks(JWKS, "jwks.json").unwrap();
        let good = token("mfa.jwt");
        // The EC key named, an RSA algorithm claimed.
        let v = keys.verify(
            &header(json!({"alg":"RS256","kid":"mfacheck-test-ec"})),
            &good,
            &Claims::of_map(&payload(&good)),
        );
        assert_eq!(v.signature, Signature::Invalid);
        assert!(v.detail.contains("does not fit"), "{}", v.detail);
        // The JWK says RS256: PS256 is refused even though the key could do it.
        let v = keys.verify(
            &header(json!({"alg":"PS256","kid":"mfacheck-test-rsa"})),
            &good,
            &Claims::of_map(&payload(&good)),
        );
        assert!(v.detail.contains("its JWK says RS256"), "{}", v.detail);
    }

    #[test]
    fn pss_signatures_verify_with_an_unrestricted_rsa_key() {
        // PS256 signatures are salted, so no fixture can hold one: sign here.
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/keys/");
        let private = std::fs::read(format!("{dir}test-rsa.pem")).unwrap();
        let signer = crate::sample::Signer {
            key: jsonwebtoken::EncodingKey::from_rsa_pem(&private).unwrap(),
            alg: Algorithm::PS256,
        };
        let head = header(json!({"typ":"JWT","alg":"PS256","kid":"mfacheck-test-rsa"}));
        let pss = crate::sample::encode(&head, &header(json!({"amr":["mfa"]})), Some(&signer)).unwrap();
        let pem = Keys::from_key_file(&std::fs::read(format!("{dir}test-rsa.pub.pem")).unwrap(), "pem").unwrap();
        assert_eq!(verify(&pem, &pss).signature, Signature::Verified);
        // The JWKS restricts the same key to RS256.
        let jwks = Keys::from_jwks(JWKS, "jwks.json").unwrap();
        assert!(verify(&jwks, &pss).detail.contains("its JWK says RS256"));
    }

    #[test]
    fn a_header_nonce_excuses_nothing_for_another_audience() {
        let keys = Keys::from_jwks(JWKS, "jwks.json").unwrap();
        let good = token("mfa.jwt");
        let v = keys.verify(
            &header(json!({"alg":"RS256","kid":"mfacheck-test-rsa","nonce":"n"})),
            &good,
            &Claims::of_map(&payload(&good)),
        );
        assert_eq!(v.signature, Signature::Verified, "the nonce only explains failures");
        let mut other = good.clone();
        other.push('A');
        let v = keys.verify(
            &header(json!({"alg":"RS256","kid":"mfacheck-test-rsa","nonce":"n"})),
            &other,
            &Claims::of_map(&payload(&other)),
        );
        assert_eq!(v.signature, Signature::Invalid, "not for Graph: a nonce excuses nothing");
    }

    /// A token for `aud`, signed by the test RSA key, whose header then gets a nonce (as Graph's
    /// do: Graph signs a hash of it), so the signature no longer matches the header.
    fn nonce_token(aud: Value) -> String {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/keys/");
        let signer = crate::sample::Signer {
            key: jsonwebtoken::EncodingKey::from_rsa_pem(&std::fs::read(format!("{dir}test-rsa.pem")).unwrap())
                .unwrap(),
            alg: Algorithm::RS256,
        };
        let head = header(json!({"typ":"JWT","alg":"RS256","kid":"mfacheck-test-rsa","nonce":"hashed"}));
        let signed = crate::sample::encode(&head, &header(json!({"aud":aud,"amr":["mfa"]})), Some(&signer)).unwrap();
        let (_, rest) = signed.split_once('.').unwrap();
        let head =
            URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"RS256","kid":"mfacheck-test-rsa","nonce":"original"}"#);
        format!("{head}.{rest}")
    }

    #[test]
    fn a_graph_token_is_not_checked_rather_than_invalid() {
        let keys = Keys::from_jwks(JWKS, "jwks.json").unwrap();
        for aud in
            ["https://graph.microsoft.com", "00000003-0000-0000-c000-000000000000", "https://graph.microsoft.com/"]
        {
            let v = verify(&keys, &nonce_token(json!(aud)));
            assert_eq!(v.signature, Signature::Unchecked(Unchecked::GraphNonce), "{aud}: {}", v.detail);
            assert_eq!(v.signature.as_str(), "not-checked");
            assert!(v.failed(), "not verified: a failure when keys were asked for");
        }
        // The same forgery for Partner Center's audience is invalid: the nonce is no way around a key.
        let v = verify(&keys, &nonce_token(json!("https://api.partnercenter.microsoft.com")));
        assert_eq!(v.signature, Signature::Invalid, "{}", v.detail);
        // … nor for an audience that is Graph and Partner Center (issue 17).
        let v = verify(
            &keys,
            &nonce_token(json!(["https://graph.microsoft.com", "https://api.partnercenter.microsoft.com"])),
        );
        assert_eq!(v.signature, Signature::Invalid, "{}", v.detail);
    }

    /// The cached path verifies a SHA-256 algorithm's signature over the hash it computed for the
    /// cache key; the uncached one over the signing input. They must agree, on good and bad.
    #[test]
    fn the_hash_of_the_cache_key_verifies_like_the_signing_input() {
        let keys = Keys::from_jwks(JWKS, "jwks.json").unwrap();
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/keys/");
        let pem = Keys::from_key_file(&std::fs::read(format!("{dir}test-rsa.pub.pem")).unwrap(), "pem").unwrap();
        let signer = crate::sample::Signer {
            key: jsonwebtoken::EncodingKey::from_rsa_pem(&std::fs::read(format!("{dir}test-rsa.pem")).unwrap())
                .unwrap(),
            alg: Algorithm::PS256,
        };
        let pss_head = header(json!({"typ":"JWT","alg":"PS256"}));
        let pss = crate::sample::encode(&pss_head, &header(json!({"amr":["mfa"]})), Some(&signer)).unwrap();
        let mut checked = 0;
        for (keys, good) in [
            (&keys, token("mfa.jwt")),
            (&keys, token("es256.jwt")),
            (&keys, token("eddsa.jwt")),
            (&keys, token("es512.jwt")),
            (&pem, pss),
        ] {
            let (message, signature) = good.rsplit_once('.').unwrap();
            // Another signing input under the same signature, and another signature.
            let payload_changed = format!("{}A.{signature}", message);
            let signature_changed = format!("{message}.{}", &signature[..signature.len() - 2]);
            let jws = crate::token::jws::decode(&good).unwrap();
            let (head, claims) = (&jws.header, Claims::of_map(&jws.claims));
            for token in [good.clone(), payload_changed, signature_changed] {
                let (cached, uncached) = (keys.check(head, &token, &claims), keys.verify(head, &token, &claims));
                assert_eq!((cached.signature, &cached.detail), (uncached.signature, &uncached.detail), "{token:.12}");
                checked += usize::from(cached.signature == Signature::Verified);
            }
        }
        assert!(checked >= 4, "the good tokens verify ({checked})");
    }

    #[test]
    fn results_are_remembered_per_token() {
        let keys = Keys::from_jwks(JWKS, "jwks.json").unwrap();
        let good = token("mfa.jwt");
        let jws = crate::token::jws::decode(&good).unwrap();
        let (head, claims) = (&jws.header, Claims::of_map(&jws.claims));
        assert!(keys.cache.is_empty());
        assert_eq!(keys.check(head, &good, &claims).signature, Signature::Verified);
        assert_eq!(keys.cache.len(), 1);
        assert_eq!(keys.check(head, &good, &claims).signature, Signature::Verified);
        assert_eq!(keys.check_token(&good, &claims).signature, Signature::Verified);
        assert_eq!(keys.cache.len(), 1, "a second check is a hit");
        // A tampered copy is another token: its own entry, its own verdict.
        let tampered = token("attack/tampered.jwt");
        assert_eq!(keys.check_token(&tampered, &Claims::of_map(&payload(&tampered))).signature, Signature::Invalid);
        assert_eq!(keys.cache.len(), 2);
        // Unknown keys are not remembered: a refetch of Microsoft's keys may change them.
        let other = token("attack/other-key-other-kid.jwt");
        assert_eq!(keys.check_token(&other, &Claims::of_map(&payload(&other))).signature, Signature::UnknownKey);
        assert_eq!(keys.cache.len(), 2);
    }

    #[test]
    fn short_rsa_keys_are_refused() {
        // A 1024-bit modulus (the high bit set), as JWK components.
        let n = URL_SAFE_NO_PAD.encode([0xc1u8; 128]);
        let jwks = format!(r#"{{"keys":[{{"kty":"RSA","kid":"short","n":"{n}","e":"AQAB"}}]}}"#);
        let err = format!("{:#}", Keys::from_jwks(jwks.as_bytes(), "x").unwrap_err());
        assert!(err.contains("1024 bits"), "{err}");
    }

    #[test]
    fn key_files() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/keys/");
        let pem = std::fs::read(format!("{dir}test-rsa.pub.pem")).unwrap();
        let keys = Keys::from_key_file(&pem, "pub.pem").unwrap();
        // A bare PEM has no kid: it stands for whatever key the token names.
        assert_eq!(verify(&keys, &token("mfa.jwt")).signature, Signature::Verified);
        assert_eq!(verify(&keys, &token("es256.jwt")).signature, Signature::Invalid);
        let private = std::fs::read(format!("{dir}test-rsa.pem")).unwrap();
        let err = Keys::from_key_file(&private, "test-rsa.pem").unwrap_err().to_string();
        assert!(err.contains("private key"), "{err}");
        let jwk = std::fs::read(format!("{dir}test-ec.jwk.json")).unwrap();
        let keys = Keys::from_key_file(&jwk, "jwk").unwrap();
        assert_eq!(verify(&keys, &token("es256.jwt")).signature, Signature::Verified);
        assert_eq!(verify(&keys, &token("mfa.jwt")).signature, Signature::UnknownKey);
        // An X.509 certificate gives its public key (the certificate itself is not validated).
        let pems =
            [("test-ec.pub.pem", "es256.jwt"), ("test-ed25519.pub.pem", "eddsa.jwt"), ("test-rsa.cert.pem", "mfa.jwt")];
        for (pem, good) in pems {
            let keys = Keys::from_key_file(&std::fs::read(format!("{dir}{pem}")).unwrap(), pem).unwrap();
            assert_eq!(verify(&keys, &token(good)).signature, Signature::Verified, "{pem}");
            assert_eq!(verify(&keys, &token("attack/other-key-same-kid.jwt")).signature, Signature::Invalid, "{pem}");
        }
        assert!(Keys::from_key_file(b"hello", "x").is_err());
        assert!(Keys::from_jwks(br#"{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}"#, "x").is_err());
        assert!(Keys::from_jwks(br#"{"nokeys":1}"#, "x").is_err());
    }

    #[test]
    #[cfg(feature = "fetch")]
    fn urls() {
        assert!(is_url("https://login.microsoftonline.com/common/discovery/v2.0/keys"));
        assert!(is_url("HTTP://127.0.0.1:1/"));
        assert!(is_url("ftp://127.0.0.1/k"));
        assert!(!is_url("fixtures/keys/jwks.json"));
        assert!(!is_url("dir/x://y"));
        assert!(!check_url("https://login.microsoftonline.com/common/discovery/v2.0/keys", "--jwks").unwrap());
        for ok in ["http://127.0.0.1:8080/k", "http://127.1.2.3/k", "http://localhost/k", "http://[::1]:9/k"] {
            assert!(check_url(ok, "--jwks").unwrap(), "{ok}");
        }
        for refused in ["http://example.com/keys", "http://10.0.0.1/k", "ftp://127.0.0.1/k"] {
            assert!(check_url(refused, "--jwks").is_err(), "{refused}");
        }
        let err = check_url("http://example.com/keys", "--jwks").unwrap_err().to_string();
        assert!(err.contains("plain http is refused"), "{err}");
    }
}
