//! The trusted public keys of a run ([`Keys`]): the keys given (a JWKS from a file or an URL, a
//! PEM or JWK file), or Microsoft's published keys for the token's issuer ([`microsoft`]); and
//! the results already known ([`results`]), so a token repeated in a stream is verified once.
//! [`Keys`] is `Send + Sync`: one `Arc<Keys>` serves every thread.

pub mod cache;
pub mod fetch;
pub mod microsoft;
pub mod parse;
pub mod results;
pub mod set;

pub use fetch::{DEFAULT_FETCH_TIMEOUT, MAX_JWKS_BYTES};
pub use parse::{MAX_KEY_FILE_BYTES, read_key_file};
pub use set::{KeySet, MAX_CANDIDATES};

use crate::token::claims::Claims;
use crate::token::signature::{Signature, Unchecked, Verification, short};
use anyhow::{Context, Result, bail};
use std::fmt;

/// Why a key or a key set was refused; its text says what and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyError(String);

impl From<anyhow::Error> for KeyError {
    fn from(error: anyhow::Error) -> Self {
        KeyError(format!("{error:#}"))
    }
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for KeyError {}
use aws_lc_rs::digest::Digest;
use fetch::{fetch, is_url};
use microsoft::{Lookup, MicrosoftKeys};
use results::{CacheKey, VerifyCache};
use serde_json::{Map, Value};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

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
        let set = KeySet::from_key_file(&bytes, &name).with_context(|| format!("--key {name}"))?;
        keys.extend(set.keys);
    }
    Ok(Some(Arc::new(Keys::from_set(KeySet::new(keys)))))
}

impl Keys {
    fn from_set(given: KeySet) -> Keys {
        Keys { given, ..Keys::default() }
    }

    #[doc(hidden)]
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

    #[doc(hidden)]
    /// `--verify`: what could not be had (each missing key set and why), for the end of the run.
    pub fn missing(&self) -> Vec<String> {
        self.microsoft.as_ref().map(MicrosoftKeys::missing).unwrap_or_default()
    }

    /// The keys of a JWKS (`{"keys": [...]}`); `origin` names it in messages. Refused: a
    /// symmetric key, an RSA key under 2048 bits, a small-order Ed25519 key, a set with no
    /// signature key.
    pub fn from_jwks(bytes: &[u8], origin: &str) -> Result<Keys, KeyError> {
        KeySet::from_jwks(bytes, origin).map(Keys::from_set).map_err(KeyError::from)
    }

    /// The key of a `--key` file: a PEM public key or X.509 certificate, or a JWK or JWKS.
    pub fn from_key_file(bytes: &[u8], origin: &str) -> Result<Keys, KeyError> {
        KeySet::from_key_file(bytes, origin).map(Keys::from_set).map_err(KeyError::from)
    }

    #[doc(hidden)]
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

    #[doc(hidden)]
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

    #[doc(hidden)]
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

/// Checks the signature of `token` (the compact JWS whose header is `header` and claims
/// `claims`) with `keys`; not-checked when no key was given.
pub fn check(keys: Option<&Keys>, header: &Map<String, Value>, token: &str, claims: &Claims) -> Verification {
    match keys {
        Some(keys) => keys.check(header, token, claims),
        None => Verification::not_checked(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use jsonwebtoken::{Algorithm, DecodingKey};
    use serde_json::json;

    const JWKS: &[u8] = include_bytes!("../../../fixtures/keys/jwks.json");

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
        // … nor for an audience that is Graph and Partner Center (the forgery of a header `nonce` with `aud` [Partner Center, Graph]).
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
}
