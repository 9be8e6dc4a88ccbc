//! Decoding a compact JWS for inspection: base64url and JSON, independent of `alg`.
//!
//! jsonwebtoken's header parser rejects algorithms it does not know (`none`, `ES512`, …), and
//! serde_json silently keeps the last of two equal member names. Inspection must do neither, so the
//! header and payload are decoded here with `base64` and a strict `serde_json` visitor.

use crate::checked_json::Checked;
use crate::error::{ErrorCode, InputError, preview};
use crate::input::MAX_LINE_BYTES;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

/// A decoded JWS: its header and claims. The signature is not decoded here.
#[derive(Debug, Clone, PartialEq)]
pub struct Jws {
    pub header: Map<String, Value>,
    pub claims: Map<String, Value>,
    /// True when the third segment is empty (an unsecured JWS).
    pub signature_empty: bool,
    /// Bytes of the signature, from its segment's length.
    pub signature_len: usize,
}

impl Jws {
    /// The header's `alg` (always present: decoding requires it).
    pub fn alg(&self) -> &str {
        self.header.get("alg").and_then(Value::as_str).unwrap_or("")
    }
}

/// Decodes a cleaned token (see `input::clean`).
pub fn decode(token: &str) -> Result<Jws, InputError> {
    if token.is_empty() {
        return Err(InputError::new(ErrorCode::Empty, "no token"));
    }
    if token.len() > MAX_LINE_BYTES {
        let message = format!("token is {} bytes, over the {MAX_LINE_BYTES}-byte limit", token.len());
        return Err(InputError::new(ErrorCode::TooLarge, message));
    }
    let segments: Vec<&str> = token.split('.').collect();
    match segments.len() {
        3 => {}
        5 => {
            return Err(InputError::new(
                ErrorCode::Encrypted,
                "encrypted token (JWE, 5 segments), cannot be inspected: only its recipient can decrypt the claims. \
                 Entra ID's refresh tokens can look like this: if it is one, exchange it for an access token first",
            ));
        }
        1 if looks_opaque(token) && token.starts_with("Ew") => {
            return Err(InputError::new(
                ErrorCode::Opaque,
                format!(
                    "a consumer Microsoft account token ({}, {} characters): opaque, not a JWT, and not an Entra ID \
                     access token. Partner Center takes only Entra ID tokens: sign in with a work account of the \
                     partner tenant and get an access token for https://api.partnercenter.microsoft.com",
                    preview(token),
                    token.len()
                ),
            ));
        }
        1 if looks_opaque(token) => {
            return Err(InputError::new(
                ErrorCode::Opaque,
                format!(
                    "opaque token ({}, {} characters, no '.'): not a JWT, only its issuer can read it. If it is a \
                     refresh token, exchange it for an access token first",
                    preview(token),
                    token.len()
                ),
            ));
        }
        2 if looks_like_refresh_token(token) => {
            return Err(InputError::new(
                ErrorCode::NotAJwt,
                format!(
                    "an Entra ID refresh token ({}, {} characters): opaque, not an access token; exchange it \
                     for an access token first (grant_type=refresh_token, for \
                     https://api.partnercenter.microsoft.com) and check that one",
                    preview(token),
                    token.len()
                ),
            ));
        }
        1 => {
            return Err(InputError::new(
                ErrorCode::NotAJwt,
                format!("not a JWT: {:?} has no '.'-separated segments", preview(token)),
            ));
        }
        n => {
            return Err(InputError::new(
                ErrorCode::NotAJwt,
                format!("not a JWT: expected 3 '.'-separated segments, found {n}"),
            ));
        }
    }
    let header = parse_object("header", &decode_segment("header", segments[0])?)?;
    let claims = parse_object("payload", &decode_segment("payload", segments[1])?)?;
    check_signature_segment(segments[2])?;
    match header.get("alg") {
        Some(Value::String(_)) => {}
        Some(_) => return Err(InputError::new(ErrorCode::NoAlg, "header alg is not a string")),
        None => return Err(InputError::new(ErrorCode::NoAlg, "header has no alg")),
    }
    unsupported_header(&header)?;
    let signature_len = decoded_len(segments[2]);
    Ok(Jws { header, claims, signature_empty: segments[2].is_empty(), signature_len })
}

/// For `decode` only: a token that [`decode`] refuses because a segment is padded or in the
/// standard alphabet (documentation samples), read all the same; the second value is why it is
/// not a valid compact JWS. `check` never takes this path.
pub fn decode_lenient(token: &str) -> Result<(Jws, Option<String>), InputError> {
    let error = match decode(token) {
        Ok(jws) => return Ok((jws, None)),
        Err(error) => error,
    };
    let segments: Vec<&str> = token.split('.').collect();
    let edited = |s: &str| s.contains(['=', '+', '/']);
    if error.code != ErrorCode::BadBase64 || segments.len() != 3 || !segments.iter().any(|s| edited(s)) {
        return Err(error);
    }
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    let forgiving = GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    let read = |name: &str, segment: &str| {
        let normal: String = segment.trim_end_matches('=').replace('+', "-").replace('/', "_");
        let bytes = forgiving.decode(normal).map_err(|_| error.clone())?;
        parse_object(name, &bytes)
    };
    let header = read("header", segments[0])?;
    let claims = read("payload", segments[1])?;
    let signature_len = decoded_len(segments[2].trim_end_matches('='));
    let jws = Jws { header, claims, signature_empty: segments[2].is_empty(), signature_len };
    Ok((jws, Some(error.message.replace("`mfacheck decode` shows its claims", "its claims are shown as decoded"))))
}

/// The header members that change how a JWS is to be read, and that mfacheck does not implement:
/// `crit` (any, even `[]`: RFC 7515 §4.1.11 says a recipient that does not understand every listed
/// extension must reject the JWS, and an empty list is itself invalid) and `b64: false` (RFC 7797:
/// the payload is not base64url, so the claims read here would not be what was signed). The fast
/// decoder defers every header with `crit` or `b64` to this one, so this is the one place that
/// decides.
fn unsupported_header(header: &Map<String, Value>) -> Result<(), InputError> {
    if let Some(crit) = header.get("crit") {
        let listed = serde_json::to_string(crit).unwrap_or_default();
        let message = format!(
            "header has crit {}: no JWS extension is understood here, so the token is refused (RFC 7515 §4.1.11)",
            preview(&listed)
        );
        return Err(InputError::new(ErrorCode::UnsupportedHeader, message));
    }
    if header.get("b64") == Some(&Value::Bool(false)) {
        let message = "header has b64: false (an unencoded payload, RFC 7797): not supported, so the token is refused";
        return Err(InputError::new(ErrorCode::UnsupportedHeader, message));
    }
    Ok(())
}

/// Reference tokens (e.g. Microsoft account or refresh tokens) are long runs of base64-ish text.
fn looks_opaque(token: &str) -> bool {
    token.len() >= 32
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'+' | b'/' | b'=' | b'!' | b'*' | b'$'))
}

/// Entra ID's opaque refresh tokens: a version digit, a dot, then a long run starting `A`.
fn looks_like_refresh_token(token: &str) -> bool {
    matches!(token.get(..3), Some("0.A" | "1.A")) && looks_opaque(&token[2..])
}

fn is_base64url_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// Decodes one segment, saying precisely what is wrong when it is not unpadded base64url.
pub fn decode_segment(name: &str, segment: &str) -> Result<Vec<u8>, InputError> {
    if segment.is_empty() {
        return Err(InputError::new(ErrorCode::BadBase64, format!("{name} segment is empty")));
    }
    URL_SAFE_NO_PAD.decode(segment).map_err(|_| InputError::new(ErrorCode::BadBase64, base64_problem(name, segment)))
}

fn base64_problem(name: &str, segment: &str) -> String {
    // Documentation samples are often re-encoded so: say so, and where their claims can be seen.
    const EDITED: &str = "not a valid compact JWS (edited or re-encoded, as documentation samples often are); \
                          `mfacheck decode` shows its claims";
    if segment.contains('=') {
        format!("{name} segment is padded with '=', but a JWS uses base64url without padding: {EDITED}")
    } else if segment.contains(['+', '/']) {
        format!("{name} segment uses the standard base64 alphabet ('+', '/'), not base64url ('-', '_'): {EDITED}")
    } else if let Some(at) = segment.bytes().position(|b| !is_base64url_byte(b)) {
        format!("{name} segment has a character that is not base64url at offset {at}")
    } else {
        format!("{name} segment is not valid base64url (truncated or altered)")
    }
}

/// The signature is not decoded (verification is a separate step), but must be base64url text.
fn check_signature_segment(segment: &str) -> Result<(), InputError> {
    if segment.bytes().all(is_base64url_byte) {
        Ok(())
    } else {
        Err(InputError::new(ErrorCode::BadBase64, base64_problem("signature", segment)))
    }
}

/// Parses `bytes` as one JSON object, refusing duplicate member names at any depth.
pub fn parse_object(name: &str, bytes: &[u8]) -> Result<Map<String, Value>, InputError> {
    if let Err(e) = std::str::from_utf8(bytes) {
        return Err(InputError::new(
            ErrorCode::InvalidUtf8,
            format!("{name} is not valid UTF-8 (at byte {})", e.valid_up_to()),
        ));
    }
    let value = match serde_json::from_slice::<Checked>(bytes) {
        Ok(Checked(value, None)) => value,
        Ok(Checked(_, Some(twice))) => {
            return Err(InputError::new(
                ErrorCode::DuplicateClaim,
                format!(
                    "{name} has the member {:?} more than once: ambiguous, so it is not resolved by picking one",
                    preview(&twice)
                ),
            ));
        }
        Err(e) => return Err(json_problem(name, &e)),
    };
    match value {
        Value::Object(map) => Ok(map),
        other => Err(InputError::new(
            ErrorCode::NotAnObject,
            format!("{name} is a JSON {}, not an object", type_name(&other)),
        )),
    }
}

fn json_problem(name: &str, e: &serde_json::Error) -> InputError {
    let text = e.to_string();
    if text.starts_with("recursion limit exceeded") {
        InputError::new(ErrorCode::TooDeep, format!("{name} nests JSON deeper than the parser allows (128 levels)"))
    } else {
        InputError::new(ErrorCode::BadJson, format!("{name} is not JSON: {text}"))
    }
}

/// Bytes an unpadded base64url segment of this length decodes to.
pub fn decoded_len(segment: &str) -> usize {
    segment.len() / 4 * 3 + (segment.len() % 4).saturating_sub(1)
}

/// The JSON type of a value, as a message names it.
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_lengths() {
        assert_eq!(decoded_len(&"A".repeat(342)), 256);
        assert_eq!(decoded_len(&"A".repeat(86)), 64);
        assert_eq!(decoded_len(""), 0);
        use crate::token::claims::Header;
        let rs = |len| Header { alg: "RS256", signature_len: len, ..Header::default() }.truncated_signature();
        assert_eq!((rs(255), rs(256), rs(512)), (Some(255), None, None));
        let es = |len| Header { alg: "ES256", signature_len: len, ..Header::default() }.truncated_signature();
        assert_eq!((es(63), es(64), es(72)), (Some(63), None, Some(72)));
    }

    fn b64(s: &str) -> String {
        URL_SAFE_NO_PAD.encode(s)
    }

    fn jwt(header: &str, payload: &str) -> String {
        format!("{}.{}.c2ln", b64(header), b64(payload))
    }

    fn code(token: &str) -> ErrorCode {
        decode(token).unwrap_err().code
    }

    #[test]
    fn decodes_any_alg() {
        for alg in ["none", "ES512", "RSA-OAEP", "RS256"] {
            let jws = decode(&jwt(&format!(r#"{{"alg":"{alg}"}}"#), r#"{"amr":["mfa"]}"#)).unwrap();
            assert_eq!(jws.alg(), alg);
            assert_eq!(jws.claims["amr"][0], "mfa");
        }
    }

    #[test]
    fn segment_counts() {
        assert_eq!(code("a.b"), ErrorCode::NotAJwt);
        assert_eq!(code("a.b.c.d"), ErrorCode::NotAJwt);
        assert_eq!(code("a.b.c.d.e"), ErrorCode::Encrypted);
        assert_eq!(code("hello world"), ErrorCode::NotAJwt);
        assert_eq!(code("EwBwA8l6BAAUO9chh8cJscQLmU+LSWpbnr0vmwwAAc4RfvZlg"), ErrorCode::Opaque);
        assert_eq!(code(""), ErrorCode::Empty);
    }

    #[test]
    fn says_what_is_wrong_with_base64() {
        let padded = format!("{}=.{}.", b64(r#"{"alg":"none"}"#), b64("{}"));
        let err = decode(&padded).unwrap_err();
        assert_eq!(err.code, ErrorCode::BadBase64);
        assert!(err.message.contains("padded"), "{}", err.message);

        let standard = format!("{}.{}+/.", b64(r#"{"alg":"none"}"#), b64("{}"));
        assert!(decode(&standard).unwrap_err().message.contains("standard base64 alphabet"));

        let bad_sig = format!("{}.{}.ab$c", b64(r#"{"alg":"none"}"#), b64("{}"));
        assert_eq!(code(&bad_sig), ErrorCode::BadBase64);
    }

    #[test]
    fn decode_reads_docs_samples_with_a_warning() {
        let padded = format!("{}=.{}==.", b64(r#"{"alg":"none"}"#), b64(r#"{"a":1}"#));
        let (jws, warning) = decode_lenient(&padded).unwrap();
        assert_eq!(jws.claims["a"], 1);
        assert!(warning.unwrap().contains("not a valid compact JWS"));
        assert!(decode(&padded).unwrap_err().message.contains("`mfacheck decode` shows its claims"));
        assert!(decode_lenient("a.b").is_err());
    }

    #[test]
    fn json_problems() {
        assert_eq!(code(&jwt(r#"{"alg":"none"}"#, "[1,2]")), ErrorCode::NotAnObject);
        assert_eq!(code(&jwt(r#"{"alg":"none"}"#, "{not json")), ErrorCode::BadJson);
        assert_eq!(code(&jwt(r#"{"typ":"JWT"}"#, "{}")), ErrorCode::NoAlg);
        let deep = format!("{{\"a\":{}{}}}", "[".repeat(200), "]".repeat(200));
        assert_eq!(code(&jwt(r#"{"alg":"none"}"#, &deep)), ErrorCode::TooDeep);
        let bytes = URL_SAFE_NO_PAD.encode([b'{', 0xff, b'}']);
        assert_eq!(code(&format!("{}.{bytes}.", b64(r#"{"alg":"none"}"#))), ErrorCode::InvalidUtf8);
    }

    #[test]
    fn duplicate_members_are_refused_at_any_depth() {
        let err = decode(&jwt(r#"{"alg":"none"}"#, r#"{"amr":["mfa"],"amr":["pwd"]}"#)).unwrap_err();
        assert_eq!(err.code, ErrorCode::DuplicateClaim);
        assert!(err.message.contains("\"amr\""), "{}", err.message);
        assert_eq!(code(&jwt(r#"{"alg":"none","alg":"RS256"}"#, "{}")), ErrorCode::DuplicateClaim);
        assert_eq!(code(&jwt(r#"{"alg":"none"}"#, r#"{"x":{"a":1,"a":2}}"#)), ErrorCode::DuplicateClaim);
    }

    #[test]
    fn crit_and_unencoded_payloads_are_refused() {
        for header in [
            r#"{"alg":"RS256","crit":["exp"],"exp":1}"#,
            r#"{"alg":"RS256","crit":[]}"#,
            r#"{"alg":"RS256","b64":false,"crit":["b64"]}"#,
            r#"{"alg":"RS256","b64":false}"#,
        ] {
            assert_eq!(code(&jwt(header, "{}")), ErrorCode::UnsupportedHeader, "{header}");
        }
        assert!(decode(&jwt(r#"{"alg":"RS256","b64":true}"#, "{}")).is_ok());
    }

    #[test]
    fn errors_never_echo_a_whole_token() {
        let opaque = "EwBwA8l6BAAUO9chh8cJscQLmU-LSWpbnr0vmwwAAc4RfvZlgSECRETSECRET";
        let err = decode(opaque).unwrap_err();
        assert!(!err.message.contains("SECRET"), "{}", err.message);
    }
}
