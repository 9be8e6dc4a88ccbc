//! The client assertion of `--certificate-file` (Microsoft identity platform "certificate
//! credentials"): a PS256 JWT (RSA-PSS, which Microsoft's page asks for today) naming the
//! certificate by its SHA-256 (`x5t#S256`) and SHA-1 (`x5t`, for older tenants) thumbprints, for
//! the token endpoint (`aud`), from the app itself (`iss` = `sub` = client id), with a random
//! `jti` and ten minutes of validity.

use super::secret::Secret;
use anyhow::{Context, Result, bail};
use aws_lc_rs::digest;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::Serialize;

pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How long the assertion is valid: Microsoft asks for 5 to 10 minutes after `nbf`.
const LIFETIME: i64 = 600;

/// A certificate and its private key, from one PEM file.
pub struct Certificate {
    key: jsonwebtoken::EncodingKey,
    der: Vec<u8>,
}

impl std::fmt::Debug for Certificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Certificate(x5t#S256 {}, key [redacted])", self.thumbprint_sha256())
    }
}

/// One PEM block: its label, its decoded body, and its whole text (markers included).
struct Block<'a> {
    label: &'a str,
    body: Result<Vec<u8>, base64::DecodeError>,
    whole: &'a str,
}

/// The PEM blocks of `text`.
fn blocks(text: &str) -> Vec<Block<'_>> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(begin) = rest.find("-----BEGIN ") {
        let after = &rest[begin + "-----BEGIN ".len()..];
        let Some(label_end) = after.find("-----") else { break };
        let label = &after[..label_end];
        let end_marker = format!("-----END {label}-----");
        let body_start = label_end + 5;
        let Some(end) = after[body_start..].find(&end_marker) else { break };
        let body = &after[body_start..body_start + end];
        let whole = &rest[begin..begin + "-----BEGIN ".len() + body_start + end + end_marker.len()];
        let clean: String = body.chars().filter(|c| !c.is_whitespace()).collect();
        found.push(Block { label, body: STANDARD.decode(clean), whole });
        rest = &after[body_start + end + end_marker.len()..];
    }
    found
}

impl Certificate {
    /// Reads the private key (PKCS#8 or PKCS#1 RSA) and the first certificate of a PEM text.
    pub fn from_pem(pem: &Secret) -> Result<Certificate> {
        let mut key = None;
        let mut der = None;
        for Block { label, body, whole } in blocks(pem.expose()) {
            match label {
                "CERTIFICATE" if der.is_none() => der = Some(body.context("the certificate is not valid base64")?),
                "PRIVATE KEY" | "RSA PRIVATE KEY" if key.is_none() => {
                    // The key's text is not repeated in any message.
                    key = Some(
                        jsonwebtoken::EncodingKey::from_rsa_pem(whole.as_bytes())
                            .map_err(|_| anyhow::anyhow!("the private key is not an RSA key in PEM"))?,
                    );
                }
                "ENCRYPTED PRIVATE KEY" => bail!("the private key is encrypted: give it decrypted (chmod 600)"),
                _ => {}
            }
        }
        match (key, der) {
            (Some(key), Some(der)) => Ok(Certificate { key, der }),
            (None, _) => bail!("no private key (-----BEGIN PRIVATE KEY-----) in the file"),
            (_, None) => bail!("no certificate (-----BEGIN CERTIFICATE-----) in the file"),
        }
    }

    pub fn thumbprint_sha256(&self) -> String {
        URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, &self.der))
    }

    fn thumbprint_sha1(&self) -> String {
        URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, &self.der))
    }

    /// The signed assertion for `client_id` at `token_endpoint`, valid from `now` (unix seconds).
    pub fn assertion(&self, client_id: &str, token_endpoint: &str, now: i64) -> Result<Secret> {
        #[derive(Serialize)]
        struct Claims<'a> {
            aud: &'a str,
            iss: &'a str,
            sub: &'a str,
            jti: String,
            nbf: i64,
            iat: i64,
            exp: i64,
        }
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::PS256);
        header.x5t_s256 = Some(self.thumbprint_sha256());
        header.x5t = Some(self.thumbprint_sha1());
        let claims = Claims {
            aud: token_endpoint,
            iss: client_id,
            sub: client_id,
            jti: jti()?,
            nbf: now,
            iat: now,
            exp: now + LIFETIME,
        };
        let jwt = jsonwebtoken::encode(&header, &claims, &self.key).context("cannot sign the client assertion")?;
        Ok(Secret::new(jwt))
    }
}

/// A random GUID-shaped id (version 4), as Microsoft's examples use.
fn jti() -> Result<String> {
    let mut bytes = [0u8; 16];
    SystemRandom::new().fill(&mut bytes).map_err(|_| anyhow::anyhow!("no randomness for the assertion's jti"))?;
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_blocks_and_jti() {
        let text = "x\n-----BEGIN CERTIFICATE-----\nAAEC\n-----END CERTIFICATE-----\n-----BEGIN X-----\n";
        let found = blocks(text);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].label, "CERTIFICATE");
        assert_eq!(found[0].body.as_ref().unwrap(), &[0, 1, 2]);
        let (a, b) = (jti().unwrap(), jti().unwrap());
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
    }
}
