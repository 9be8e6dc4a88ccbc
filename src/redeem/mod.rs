//! `mfacheck redeem` (SPEC §6): posts the `refresh_token` grant a partner's integration makes to
//! Entra's v2 token endpoint, and hands back the access token (to be judged as `check --verify`
//! judges any token) or Entra's refusal, explained. Credentials stay in [`Secret`]s; nothing Entra
//! or a hostile endpoint answers reaches the output unsanitised.

pub mod assertion;
pub mod endpoint;
pub mod secret;
pub mod stored;

use crate::error::{ErrorCode, InputError};
use crate::judge::entra::{self, EntraError};
use assertion::Certificate;
pub use secret::Secret;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The token endpoint's answer is given up on past this size (a token response is a few KiB).
pub const MAX_RESPONSE_BYTES: u64 = 64 * 1024;

/// At most this many characters of Entra's `error_description` are shown.
const MAX_DESCRIPTION_CHARS: usize = 600;

/// How the client (the partner's application) authenticates.
#[derive(Debug)]
pub enum Credential {
    /// A public client: no credential.
    Public,
    Secret(Secret),
    Certificate(Certificate),
}

/// One refresh token grant.
#[derive(Debug)]
pub struct Request {
    pub token_endpoint: String,
    /// As given (`--tenant`): a tenant id or a domain name.
    pub tenant: String,
    pub client_id: String,
    pub scope: String,
    pub credential: Credential,
    pub refresh_token: Secret,
}

/// What Entra granted.
#[derive(Debug)]
pub struct Granted {
    pub access_token: Secret,
    /// The refresh token Entra returned, when it differs from the one redeemed.
    pub rotated: Option<Secret>,
    pub expires_in: Option<u64>,
}

/// The result object's `redeem` member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RedeemInfo {
    pub token_endpoint: String,
    /// Seconds the access token is valid for, as Entra said (null when it failed).
    pub expires_in: Option<u64>,
    /// Whether Entra returned a new refresh token.
    pub refresh_token_rotated: bool,
}

impl Request {
    /// The form posted: the grant, the client, the scope and the client's credential.
    pub fn form(&self, now: i64) -> anyhow::Result<Vec<(&'static str, Secret)>> {
        let text = |s: &str| Secret::new(s.to_owned());
        let mut form = vec![
            ("grant_type", text("refresh_token")),
            ("client_id", text(&self.client_id)),
            ("refresh_token", self.refresh_token.clone()),
            ("scope", text(&self.scope)),
        ];
        match &self.credential {
            Credential::Public => {}
            Credential::Secret(secret) => form.push(("client_secret", secret.clone())),
            Credential::Certificate(certificate) => {
                form.push(("client_assertion_type", text(assertion::ASSERTION_TYPE)));
                form.push(("client_assertion", certificate.assertion(&self.client_id, &self.token_endpoint, now)?));
            }
        }
        Ok(form)
    }

    /// The credentials a hostile endpoint might echo back, never to be shown.
    fn secrets(&self) -> Vec<&str> {
        let mut secrets = vec![self.refresh_token.expose()];
        if let Credential::Secret(secret) = &self.credential {
            secrets.push(secret.expose());
        }
        secrets
    }

    fn failed(&self, why: impl std::fmt::Display) -> InputError {
        InputError::new(ErrorCode::RedeemFailed, clean(&why.to_string(), &self.secrets(), MAX_DESCRIPTION_CHARS))
    }

    /// Posts the grant and reads the answer.
    pub fn redeem(&self, timeout: Duration, now: i64) -> Result<Granted, InputError> {
        let form = self.form(now).map_err(|e| self.failed(format!("{e:#}")))?;
        let (status, body) = post(&self.token_endpoint, &form, timeout).map_err(|e| self.failed(format!("{e:#}")))?;
        self.answer(status, &body)
    }

    /// The grant, or why there is none, from the endpoint's answer.
    pub fn answer(&self, status: u16, body: &[u8]) -> Result<Granted, InputError> {
        let url = &self.token_endpoint;
        if body.iter().all(u8::is_ascii_whitespace) {
            return Err(self.failed(format!("the token endpoint {url} answered HTTP {status} with an empty body")));
        }
        if status == 200 {
            let answer: Success = serde_json::from_slice(body).map_err(|_| {
                self.failed(format!(
                    "the token endpoint {url} answered HTTP 200 with a body that is not a JSON token response"
                ))
            })?;
            let Some(access_token) = answer.access_token.filter(|t| !t.is_empty()) else {
                return Err(self.failed(format!("the token endpoint {url} answered HTTP 200 without an access_token")));
            };
            if !hidden(&access_token, &self.secrets()).iter().all(|h| !h) {
                // Even its 12-character preview would show them.
                return Err(self.failed(format!(
                    "the token endpoint {url} answered with an access_token that holds the refresh token or client \
                     secret: not Entra"
                )));
            }
            if answer.refresh_token.as_deref().is_some_and(|r| !r.bytes().all(|b| b.is_ascii_graphic())) {
                // It would be written to the user's file: only token text is.
                return Err(self.failed(format!(
                    "the token endpoint {url} answered with a refresh_token that is not token text (spaces, \
                     control or non-ASCII characters): not stored"
                )));
            }
            let rotated = answer.refresh_token.filter(|r| !r.is_empty() && r != self.refresh_token.expose());
            let expires_in = answer.expires_in.and_then(|e| match e {
                Seconds::Number(n) => Some(n),
                Seconds::Text(t) => t.parse().ok(),
                Seconds::Other(_) => None,
            });
            return Ok(Granted {
                access_token: Secret::new(access_token),
                rotated: rotated.map(Secret::new),
                expires_in,
            });
        }
        if status >= 500 {
            return Err(self.failed(format!(
                "the token endpoint {url} answered HTTP {status}: Entra could not answer now; try again later"
            )));
        }
        match serde_json::from_slice::<Refusal>(body) {
            Ok(refusal) if !refusal.error.is_empty() => Err(self.refused(status, refusal)),
            _ => Err(self.failed(format!(
                "the token endpoint {url} answered HTTP {status} with a body that is not Entra's JSON error (is \
                 --authority an Entra login host?)"
            ))),
        }
    }

    fn refused(&self, status: u16, refusal: Refusal) -> InputError {
        let secrets = self.secrets();
        let short = |text: Option<String>| text.map(|t| clean(&t, &secrets, 80)).filter(|t| !t.is_empty());
        let description =
            clean(refusal.error_description.as_deref().unwrap_or_default(), &secrets, MAX_DESCRIPTION_CHARS);
        let aadsts = entra::aadsts(&description).or_else(|| refusal.error_codes.first().copied());
        let error = clean(&refusal.error, &secrets, 80);
        let message = match (aadsts, description.is_empty()) {
            (_, false) => format!("Entra refused the refresh token (HTTP {status} {error}): {description}"),
            (Some(code), true) => format!("Entra refused the refresh token (HTTP {status} {error}, AADSTS{code})"),
            (None, true) => format!("Entra refused the refresh token (HTTP {status} {error})"),
        };
        let entra = EntraError::new(status, error, aadsts, refusal.error_codes.into_iter().take(16).collect())
            .with_ids(short(refusal.suberror), short(refusal.trace_id), short(refusal.correlation_id));
        InputError::refused(message, entra)
    }
}

#[derive(Deserialize)]
struct Success {
    access_token: Option<String>,
    refresh_token: Option<String>,
    expires_in: Option<Seconds>,
}

/// `expires_in` is informative: a value of another shape is shown as null, never a reason to refuse
/// the token.
#[derive(Deserialize)]
#[serde(untagged)]
enum Seconds {
    Number(u64),
    Text(String),
    Other(serde::de::IgnoredAny),
}

/// Entra's JSON error body (RFC 6749 §5.2, with Entra's members).
#[derive(Deserialize)]
struct Refusal {
    #[serde(default)]
    error: String,
    error_description: Option<String>,
    #[serde(default)]
    error_codes: Vec<u32>,
    suberror: Option<String>,
    trace_id: Option<String>,
    correlation_id: Option<String>,
}

/// Text an endpoint chose, fit to show: every credential in `secrets`, and any run of 8 or more
/// of their characters (an endpoint may echo a part), replaced by `[redacted]`; long token-like
/// runs cut to their preview; control characters dropped; at most `max` characters.
pub fn clean(text: &str, secrets: &[&str], max: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    let hidden = hidden(text, secrets);
    let mut shown = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        if hidden[i] {
            if i == 0 || !hidden[i - 1] {
                shown.push_str("[redacted]");
            }
        } else if crate::report::sanitize::is_unsafe(c) {
            shown.push(' ');
        } else {
            shown.push(c);
        }
    }
    let masked = crate::error::mask_tokens(shown.trim());
    let mut chars = masked.chars();
    let mut out: String = chars.by_ref().take(max).collect();
    if chars.next().is_some() {
        out.push('…');
    }
    out
}

/// Which characters of `text` belong to a run of 8 or more characters of one of `secrets`.
fn hidden(text: &str, secrets: &[&str]) -> Vec<bool> {
    const WINDOW: usize = 8;
    let chars: Vec<char> = text.chars().collect();
    let mut hidden = vec![false; chars.len()];
    let mut window = String::new();
    for start in 0..chars.len().saturating_sub(WINDOW - 1) {
        window.clear();
        window.extend(&chars[start..start + WINDOW]);
        if secrets.iter().any(|s| s.contains(window.as_str())) {
            hidden[start..start + WINDOW].iter_mut().for_each(|h| *h = true);
        }
    }
    hidden
}

/// Posts `form` to `url` within `timeout`: the status and body (at most [`MAX_RESPONSE_BYTES`]).
#[cfg(feature = "fetch")]
fn post(url: &str, form: &[(&'static str, Secret)], timeout: Duration) -> anyhow::Result<(u16, Vec<u8>)> {
    let what = "the token endpoint";
    let agent = crate::net::agent(url, what, timeout, false)?;
    let mut response = agent
        .post(url)
        .header("Accept", "application/json")
        .send_form(form.iter().map(|(name, value)| (*name, value.expose())))
        .map_err(|e| crate::net::failure(e, what, url, timeout, MAX_RESPONSE_BYTES))?;
    crate::net::refuse_redirect(&response, what, url)?;
    let status = response.status().as_u16();
    Ok((status, crate::net::read_body(&mut response, what, url, timeout, MAX_RESPONSE_BYTES)?))
}

#[cfg(not(feature = "fetch"))]
fn post(_url: &str, _form: &[(&'static str, Secret)], _timeout: Duration) -> anyhow::Result<(u16, Vec<u8>)> {
    anyhow::bail!("this mfacheck was built without the `fetch` feature, so it makes no network request")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_in_debug_shows_no_credential() {
        let request = Request {
            token_endpoint: "https://login.microsoftonline.com/t/oauth2/v2.0/token".into(),
            tenant: "t".into(),
            client_id: "app".into(),
            scope: endpoint::PARTNER_CENTER_SCOPE.into(),
            credential: Credential::Secret(Secret::new("client-secret-value".into())),
            refresh_token: Secret::new("refresh-token-value".into()),
        };
        let shown = format!("{request:?} {:?}", request.form(0).unwrap());
        assert!(!shown.contains("secret-value") && !shown.contains("token-value"), "{shown}");
        assert!(shown.contains("[redacted]"));
    }

    #[test]
    fn clean_hides_secrets_and_their_parts() {
        let secrets = ["0.AAAArefreshSECRETtoken123456", "client~secret~value"];
        let echoed =
            "AADSTS70008: token 0.AAAArefreshSECRETtoken123456 and part SECRETtoken12 and secret~value\u{1b}[2J";
        let shown = clean(echoed, &secrets, 600);
        for secret in secrets {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(!shown.contains("SECRETto") && !shown.contains("secret~v"), "{shown}");
        assert!(!shown.contains('\u{1b}'), "{shown}");
        assert!(shown.starts_with("AADSTS70008: token [redacted] and part [redacted]"), "{shown}");
        assert_eq!(clean(&"x".repeat(700), &[], 10), format!("{}…", "x".repeat(10)));
    }
}
