//! Why an input could not be checked. Errors are values: each becomes a result with an `error`
//! object, so one bad line never stops a batch.

use serde::Serialize;
use std::fmt;

/// The machine-readable code of an input error (`error.code` in the result object).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ErrorCode {
    /// No token in the input (empty argument, stdin or file).
    Empty,
    /// A file or stdin could not be read.
    Unreadable,
    /// Text that is not a JWT at all.
    NotAJwt,
    /// One segment of base64url-looking text: a reference token only its issuer can read.
    Opaque,
    /// Five segments: a JWE, whose claims are encrypted.
    Encrypted,
    /// A header or payload segment that is not unpadded base64url.
    BadBase64,
    /// Bytes that are not UTF-8.
    InvalidUtf8,
    /// A header or payload that is not JSON (or a JSON wrapper that is not).
    BadJson,
    /// JSON that is not an object.
    NotAnObject,
    /// JSON nested deeper than the parser allows.
    TooDeep,
    /// The same member name twice in one object: ambiguous, so never resolved.
    DuplicateClaim,
    /// A JWS header without `alg`.
    NoAlg,
    /// A JSON object with no `accessToken` / `access_token` field.
    NoTokenField,
    /// A token or line over the size limit.
    TooLarge,
    /// A file or stream with a NUL byte in its first 8 KiB: not text, so no line is read.
    Binary,
    /// A protected header with `crit` or `b64: false`: an extension that is not understood
    /// (RFC 7515 §4.1.11, RFC 7797), so the token is refused.
    UnsupportedHeader,
    /// `redeem`: Entra refused the refresh token grant; `error.entra` holds its error, AADSTS
    /// code, ids and the fix.
    RedeemRefused,
    /// `redeem`: the token endpoint could not be reached, or answered something that is not a
    /// token response (a network error, timeout, redirect, HTTP 5xx, an oversized or non-JSON
    /// body, no access token).
    RedeemFailed,
}

impl ErrorCode {
    /// Every code, in the order of the reference documentation.
    pub const ALL: [ErrorCode; 18] = [
        ErrorCode::Empty,
        ErrorCode::Unreadable,
        ErrorCode::NotAJwt,
        ErrorCode::Opaque,
        ErrorCode::Encrypted,
        ErrorCode::BadBase64,
        ErrorCode::InvalidUtf8,
        ErrorCode::BadJson,
        ErrorCode::NotAnObject,
        ErrorCode::TooDeep,
        ErrorCode::DuplicateClaim,
        ErrorCode::NoAlg,
        ErrorCode::NoTokenField,
        ErrorCode::TooLarge,
        ErrorCode::Binary,
        ErrorCode::UnsupportedHeader,
        ErrorCode::RedeemRefused,
        ErrorCode::RedeemFailed,
    ];

    /// What the code means, in one line.
    pub fn meaning(self) -> &'static str {
        match self {
            ErrorCode::Empty => "No token in the input (empty argument, stdin or file).",
            ErrorCode::Unreadable => "A file or stdin could not be read.",
            ErrorCode::NotAJwt => "Text that is not a JWT at all.",
            ErrorCode::Opaque => "One segment of base64url-looking text: a reference token only its issuer can read.",
            ErrorCode::Encrypted => "Five segments: a JWE, whose claims are encrypted.",
            ErrorCode::BadBase64 => "A header or payload segment that is not unpadded base64url.",
            ErrorCode::InvalidUtf8 => "Bytes that are not UTF-8.",
            ErrorCode::BadJson => "A header or payload that is not JSON (or a JSON wrapper that is not).",
            ErrorCode::NotAnObject => "JSON that is not an object.",
            ErrorCode::TooDeep => "JSON nested deeper than the parser allows.",
            ErrorCode::DuplicateClaim => "The same member name twice in one object: ambiguous, so never resolved.",
            ErrorCode::NoAlg => "A JWS header without `alg`.",
            ErrorCode::NoTokenField => "A JSON object with no `accessToken` / `access_token` field.",
            ErrorCode::TooLarge => "A token or line over the size limit.",
            ErrorCode::Binary => "A file or stream with a NUL byte in its first 8 KiB: not text, so no line is read.",
            ErrorCode::UnsupportedHeader => {
                "A protected header with `crit` or `b64: false`: an extension that is not understood (RFC 7515 §4.1.11, RFC 7797), so the token is refused."
            }
            ErrorCode::RedeemRefused => {
                "`redeem`: Entra refused the refresh token grant; `error.entra` holds its error, AADSTS code, ids and the fix."
            }
            ErrorCode::RedeemFailed => {
                "`redeem`: the token endpoint could not be reached, or answered something that is not a token response (a network error, timeout, redirect, HTTP 5xx, an oversized or non-JSON body, no access token)."
            }
        }
    }

    /// The kebab-case code of the result object.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Empty => "empty",
            ErrorCode::Unreadable => "unreadable",
            ErrorCode::NotAJwt => "not-a-jwt",
            ErrorCode::Opaque => "opaque",
            ErrorCode::Encrypted => "encrypted",
            ErrorCode::BadBase64 => "bad-base64",
            ErrorCode::InvalidUtf8 => "invalid-utf8",
            ErrorCode::BadJson => "bad-json",
            ErrorCode::NotAnObject => "not-an-object",
            ErrorCode::TooDeep => "too-deep",
            ErrorCode::DuplicateClaim => "duplicate-claim",
            ErrorCode::NoAlg => "no-alg",
            ErrorCode::NoTokenField => "no-token-field",
            ErrorCode::TooLarge => "too-large",
            ErrorCode::Binary => "binary",
            ErrorCode::UnsupportedHeader => "unsupported-header",
            ErrorCode::RedeemRefused => "redeem-refused",
            ErrorCode::RedeemFailed => "redeem-failed",
        }
    }
}

/// An input error: a code and a one-line message that never holds a whole token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct InputError {
    pub code: ErrorCode,
    pub message: String,
    /// `redeem-refused`: what Entra answered, and the fix.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entra: Option<Box<crate::judge::entra::EntraError>>,
}

impl InputError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        InputError { code, message: message.into(), entra: None }
    }

    /// What to do about it, when the rulebook knows (`redeem-refused`).
    pub fn fix(&self) -> Option<&'static str> {
        self.entra.as_ref().and_then(|entra| entra.fix)
    }

    /// A `redeem-refused` error: Entra's answer, explained.
    pub fn refused(message: impl Into<String>, entra: crate::judge::entra::EntraError) -> Self {
        InputError { code: ErrorCode::RedeemRefused, message: message.into(), entra: Some(Box::new(entra)) }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for InputError {}

/// At most this many characters of a token may appear in a message: a token is a credential.
pub const PREVIEW_CHARS: usize = 12;

/// The first few characters of `text`, marked as cut when it is longer, for messages.
pub fn preview(text: &str) -> String {
    let mut chars = text.chars();
    let head: String = chars.by_ref().take(PREVIEW_CHARS).collect();
    if chars.next().is_some() { format!("{head}…") } else { head }
}

/// Runs of token characters at least this long are taken for a token in free text.
const TOKEN_RUN: usize = 48;

/// `text` with every run of base64url-and-dot characters long enough to be a token cut to its
/// preview: for messages made by others (clap's usage errors repeat the offending argument).
pub fn mask_tokens(text: &str) -> String {
    let is_token_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(is_token_char) {
        out.push_str(&rest[..start]);
        let run = &rest[start..];
        let end = run.find(|c: char| !is_token_char(c)).unwrap_or(run.len());
        let word = &run[..end];
        out.push_str(&if word.len() >= TOKEN_RUN { preview(word) } else { word.to_owned() });
        rest = &run[end..];
    }
    out.push_str(rest);
    out
}

/// `text` with the credentials of every URL in it masked: `https://u:Secret@host` becomes
/// `https://u:***@host` (and `https://Secret@host`, `https://***@host`).
pub fn mask_credentials(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (head, tail) = rest.split_at(at + 3);
        out.push_str(head);
        let authority_end =
            tail.find(|c: char| matches!(c, '/' | '?' | '#') || c.is_whitespace()).unwrap_or(tail.len());
        let authority = &tail[..authority_end];
        match authority.rfind('@') {
            Some(userinfo_end) => {
                let userinfo = &authority[..userinfo_end];
                match userinfo.split_once(':') {
                    Some((user, _)) => {
                        out.push_str(user);
                        out.push_str(":***");
                    }
                    None => out.push_str("***"),
                }
                out.push_str(&authority[userinfo_end..]);
            }
            None => out.push_str(authority),
        }
        rest = &tail[authority_end..];
    }
    out.push_str(rest);
    out
}

/// How a path given by the user is named in `source` and messages: a token pasted where a path
/// was expected is cut to its preview.
pub fn path_name(path: &std::path::Path) -> String {
    mask_tokens(&path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_lists_every_error_code_once_with_a_unique_string() {
        // No wildcard: a new variant does not compile here until it gets the next position, and
        // then ALL must hold it there.
        let position = |code: ErrorCode| match code {
            ErrorCode::Empty => 0,
            ErrorCode::Unreadable => 1,
            ErrorCode::NotAJwt => 2,
            ErrorCode::Opaque => 3,
            ErrorCode::Encrypted => 4,
            ErrorCode::BadBase64 => 5,
            ErrorCode::InvalidUtf8 => 6,
            ErrorCode::BadJson => 7,
            ErrorCode::NotAnObject => 8,
            ErrorCode::TooDeep => 9,
            ErrorCode::DuplicateClaim => 10,
            ErrorCode::NoAlg => 11,
            ErrorCode::NoTokenField => 12,
            ErrorCode::TooLarge => 13,
            ErrorCode::Binary => 14,
            ErrorCode::UnsupportedHeader => 15,
            ErrorCode::RedeemRefused => 16,
            ErrorCode::RedeemFailed => 17,
        };
        assert_eq!(ErrorCode::ALL.len(), 18);
        let mut strings = std::collections::HashSet::new();
        for (i, code) in ErrorCode::ALL.into_iter().enumerate() {
            assert_eq!(position(code), i, "{}", code.as_str());
            assert!(strings.insert(code.as_str()), "{} twice", code.as_str());
            assert_eq!(serde_json::to_value(code).unwrap(), serde_json::json!(code.as_str()));
            assert!(!code.meaning().is_empty());
        }
    }

    #[test]
    fn url_credentials_are_masked() {
        assert_eq!(
            mask_credentials("--jwks https://u:Secret@127.0.0.1:1/k: cannot fetch"),
            "--jwks https://u:***@127.0.0.1:1/k: cannot fetch"
        );
        assert_eq!(mask_credentials("http://tok@h/x and ftp://h/y"), "http://***@h/x and ftp://h/y");
        assert_eq!(mask_credentials("no url: a@b"), "no url: a@b");
    }

    #[test]
    fn mask_tokens_cuts_long_runs_only() {
        let token = format!("eyJhbGciOiJSUzI1NiJ9.{}.c2ln", "e".repeat(60));
        assert_eq!(
            mask_tokens(&format!("error: unrecognized subcommand '{token}'\n")),
            "error: unrecognized subcommand 'eyJhbGciOiJS…'\n"
        );
        let plain = "invalid value 'yaml' for '--format <FORMAT>' at https://login.microsoftonline.com/common/x";
        assert_eq!(mask_tokens(plain), plain);
    }

    #[test]
    fn preview_cuts_to_twelve_characters() {
        assert_eq!(preview("eyJ0eXAiOiJKV1QiLCJhbGciOi"), "eyJ0eXAiOiJK…");
        assert_eq!(preview("short"), "short");
    }

    #[test]
    fn codes_serialize_as_documented() {
        let json = serde_json::to_string(&ErrorCode::DuplicateClaim).unwrap();
        assert_eq!(json, "\"duplicate-claim\"");
        assert_eq!(ErrorCode::NotAJwt.as_str(), "not-a-jwt");
    }
}
