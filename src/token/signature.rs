//! The result of a signature check ([`Signature`], [`Verification`]) and which algorithms may be
//! verified with a public key at all.
//!
//! The algorithm must fit the key: `none` and the HMAC algorithms (`HS*`) are never accepted, so a
//! public key can never serve as an HMAC secret (algorithm confusion); an RSA key verifies only
//! RS*/PS*, an EC key ES*, an OKP key EdDSA, and a key whose JWK names an `alg` only that one.
//! The keys themselves, and checking a token with them, are [`crate::token::keys`].

use aws_lc_rs::signature::{self as lc, RsaParameters};
use jsonwebtoken::{Algorithm, AlgorithmFamily};
use serde::{Serialize, Serializer};
use std::str::FromStr;

/// The `signature` of the result object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
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

    pub(crate) fn new(signature: Signature, detail: impl Into<String>) -> Self {
        Verification { signature, detail: detail.into() }
    }

    /// Verification was asked for and did not verify: every outcome of a check but `verified`,
    /// including a Graph token that nobody but Graph can check (SPEC §2).
    pub fn failed(&self) -> bool {
        !matches!(self.signature, Signature::Verified | Signature::NotChecked)
    }

    /// A result that no later fetch of keys can change, and so may be remembered.
    pub(crate) fn settled(&self) -> bool {
        !matches!(self.signature, Signature::UnknownKey | Signature::Unchecked(Unchecked::KeysUnavailable))
    }
}

impl Serialize for Verification {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.signature.serialize(serializer)
    }
}

/// aws-lc's verification parameters for `alg`; `None` for algorithms never verified here.
pub(crate) fn lc_algorithm(alg: Algorithm) -> Option<&'static dyn lc::VerificationAlgorithm> {
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

pub(crate) fn rsa_parameters(alg: Algorithm) -> Option<&'static RsaParameters> {
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

/// The header's algorithm, when it may be verified with a public key at all.
pub(crate) fn accepted_algorithm(name: &str) -> Result<Algorithm, String> {
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

/// A header value as a message quotes it: the header is the token's, so it is cut short.
pub(crate) fn short(text: &str) -> String {
    const MAX: usize = 64;
    match text.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

pub(crate) fn family_name(family: AlgorithmFamily) -> &'static str {
    match family {
        AlgorithmFamily::Rsa => "an RSA key (RS*, PS*)",
        AlgorithmFamily::Ec => "an EC key (ES*)",
        AlgorithmFamily::Ed => "an Ed25519 key (EdDSA)",
        AlgorithmFamily::Hmac => "a symmetric secret",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
