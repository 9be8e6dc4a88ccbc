//! The clean-up a pasted token needs: whitespace, quotes, `Bearer`, and JSON wrappers such as
//! the output of `az account get-access-token` or an OAuth token response.

use crate::error::{ErrorCode, InputError};
use serde_json::{Map, Value};

/// The token in one argument: the whole text is one token (or one JSON wrapper).
pub fn from_text(text: &str) -> Result<String, InputError> {
    let trimmed = text.trim_start_matches('\u{feff}').trim();
    if trimmed.is_empty() {
        return Err(InputError::new(ErrorCode::Empty, "no token: the input is empty"));
    }
    if trimmed.starts_with('{') {
        return match parse_wrapper(trimmed) {
            Wrapper::Complete(token) => token,
            Wrapper::Incomplete => {
                Err(InputError::new(ErrorCode::BadJson, "JSON input ends before its object is closed"))
            }
        };
    }
    if trimmed.contains('\n')
        && let Some(joined) = super::fold::unfold(trimmed)
    {
        return Ok(joined);
    }
    let token = clean(trimmed);
    if has_whitespace(token)
        && let Some(what) = other_text(token)
    {
        return Err(super::scan_instead(1, what));
    }
    if !token.starts_with("eyJ") && holds_token(token) {
        return Err(super::scan_instead(1, "text with a token in it"));
    }
    Ok(token.to_owned())
}

/// What a line of text that is not a token looks like, when it is text that carries tokens:
/// a curl command or one of its options, curl -v output, an HTTP request, status or header line.
pub fn other_text(text: &str) -> Option<&'static str> {
    let word = text.split_whitespace().next().unwrap_or_default();
    if word == "curl" {
        return Some("a curl command");
    }
    if matches!(word, "-H" | "--header" | "-d" | "--data" | "-X" | "--request") || text.ends_with(" \\") {
        return Some("part of a shell command");
    }
    if matches!(word, ">" | "<" | "*") {
        return Some("curl -v output");
    }
    let methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
    if word.starts_with("HTTP/") || (methods.contains(&word) && text.contains(" HTTP/")) {
        return Some("an HTTP request or status line");
    }
    let header = word
        .strip_suffix(':')
        .filter(|name| !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    if header.is_some() {
        return Some("an HTTP header");
    }
    holds_token(text).then_some("a line of text with a token in it")
}

/// Text that holds a JWT after something else (`token=eyJ…`, a log line, a URL): `scan` finds
/// it, where `check` would judge the whole text as a token and fail on its first bytes.
pub fn holds_token(text: &str) -> bool {
    memchr::memmem::find_iter(text.as_bytes(), b"eyJ").any(|at| {
        let run = text[at..].bytes().take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        at > 0 && run.filter(|&b| b == b'.').count() >= 2
    })
}

pub enum Wrapper {
    Complete(Result<String, InputError>),
    /// The text so far is the start of a JSON value: read more.
    Incomplete,
}

pub fn parse_wrapper(text: &str) -> Wrapper {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Wrapper::Complete(token_field(&map)),
        Ok(_) => Wrapper::Complete(Err(InputError::new(ErrorCode::BadJson, "JSON input is not an object"))),
        Err(e) if e.is_eof() => Wrapper::Incomplete,
        Err(e) => Wrapper::Complete(Err(InputError::new(ErrorCode::BadJson, format!("JSON input is not valid: {e}")))),
    }
}

/// `accessToken` (Azure CLI) or `access_token` (OAuth 2.0 token response).
fn token_field(map: &Map<String, Value>) -> Result<String, InputError> {
    match map.get("accessToken").or_else(|| map.get("access_token")) {
        Some(Value::String(token)) => Ok(clean(token).to_owned()),
        Some(_) => Err(InputError::new(ErrorCode::NoTokenField, "the access token field is not a string")),
        None => {
            let id_token = if map.contains_key("id_token") {
                " (it has an id_token: Partner Center takes the access token)"
            } else {
                ""
            };
            Err(InputError::new(
                ErrorCode::NoTokenField,
                format!("JSON object has no accessToken or access_token field{id_token}"),
            ))
        }
    }
}

/// Trims what a paste brings along: whitespace, a trailing comma, surrounding quotes or square
/// brackets (`Bearer [eyJ…]`, as some logs print it), and an `Authorization: Bearer` or `Bearer`
/// prefix.
pub fn clean(raw: &str) -> &str {
    let mut text = unquote(raw.trim().trim_end_matches(',').trim_end());
    if let Some(rest) = strip_prefix_ignore_case(text, "authorization:") {
        text = rest.trim_start();
    }
    if let Some(rest) = strip_prefix_ignore_case(text, "bearer")
        && rest.starts_with(char::is_whitespace)
    {
        text = rest.trim_start();
    }
    unquote(text)
}

fn unquote(text: &str) -> &str {
    for (open, close) in [('"', '"'), ('\'', '\''), ('[', ']')] {
        if text.len() >= 2 && text.starts_with(open) && text.ends_with(close) {
            return text[1..text.len() - 1].trim();
        }
    }
    text
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &text[prefix.len()..])
}

/// Whether `text` holds any whitespace. Run on every line of a large batch, so first one pass
/// that vectorizes (no early exit): a token is printable ASCII throughout, and only text with
/// other bytes (controls, spaces, past ASCII) is looked at char by char.
pub fn has_whitespace(text: &str) -> bool {
    let printable = text.bytes().fold(true, |all, b| all & (b.wrapping_sub(b'!') <= b'~' - b'!'));
    !printable && text.contains(char::is_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brackets_are_cleaned_like_quotes() {
        assert_eq!(clean("Bearer [eyJa.eyJb.c]"), "eyJa.eyJb.c");
        assert_eq!(clean("Authorization: Bearer [ eyJa.eyJb.c ]"), "eyJa.eyJb.c");
        assert_eq!(clean("[\"eyJa.eyJb.c\"]"), "[\"eyJa.eyJb.c\"]".trim_matches(['[', ']']).trim_matches('"'));
    }

    #[test]
    fn whitespace_is_what_char_says_it_is() {
        for text in [
            "eyJa.b.c",
            "",
            "~!",
            "a\u{7f}b",
            "a\u{0}b",
            "a b",
            "a\tb",
            "a\u{b}b",
            "a\u{c}b",
            "a\rb",
            "a\nb",
            "a\u{a0}b",
            "a\u{3000}b",
            "é",
        ] {
            assert_eq!(has_whitespace(text), text.contains(char::is_whitespace), "{text:?}");
        }
    }

    #[test]
    fn other_text_is_named() {
        assert_eq!(other_text("curl -s https://api.partnercenter.microsoft.com/v1/customers"), Some("a curl command"));
        assert_eq!(other_text("-H 'Authorization: Bearer eyJ.a.b' \\"), Some("part of a shell command"));
        assert_eq!(other_text("> GET /v1/customers HTTP/2"), Some("curl -v output"));
        assert_eq!(other_text("GET /v1/customers HTTP/1.1"), Some("an HTTP request or status line"));
        assert_eq!(other_text("Host: api.partnercenter.microsoft.com"), Some("an HTTP header"));
        assert_eq!(other_text("not a token at all"), None);
        assert_eq!(from_text("Host: x").unwrap_err().code, ErrorCode::NotAJwt);
    }
}
