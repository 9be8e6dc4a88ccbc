//! A set of public keys ([`KeySet`]): the key a token names (`kid`, else `x5t`), at most
//! [`MAX_CANDIDATES`] tried, and the signature checked with it.
//!
//! Speed: each key was parsed once, at load time ([`super::parse`]), into aws-lc's ready-to-use
//! form (one per algorithm it may verify), so a check is the signature arithmetic alone.

use crate::token::claims::{Claims, HeaderMember};
use crate::token::signature::{Signature, Unchecked, Verification, accepted_algorithm, family_name, short};
use aws_lc_rs::digest::Digest;
use aws_lc_rs::signature::ParsedPublicKey;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, AlgorithmFamily};
use serde_json::{Map, Value};
use std::sync::atomic::{AtomicU64, Ordering};

/// One public key and the names a token may use for it.
#[derive(Debug, Clone)]
pub(super) struct Key {
    pub(super) kid: Option<String>,
    pub(super) x5t: Option<String>,
    /// The JWK's `alg`, when it restricts the key to one algorithm.
    pub(super) alg: Option<Algorithm>,
    pub(super) family: AlgorithmFamily,
    /// The key parsed once for each algorithm it may verify.
    pub(super) parsed: Vec<(Algorithm, ParsedPublicKey)>,
    /// Where the key came from, for messages.
    pub(super) origin: String,
}

impl Key {
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

/// A set of public keys, read once; each set has its own identity for the result cache.
#[derive(Debug)]
pub struct KeySet {
    pub(super) keys: Vec<Key>,
    pub(super) id: u64,
}

fn next_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

impl KeySet {
    pub(super) fn new(keys: Vec<Key>) -> KeySet {
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

    /// Verifies one compact JWS whose header is `header` and claims `claims`; `signing_input`:
    /// the SHA-256 of its signing input, when already computed.
    pub(super) fn verify(
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
