//! Where tokens come from: arguments, stdin and `@PATH` files, one token per non-empty line, with
//! the clean-up a pasted token needs (whitespace, quotes, `Bearer`, JSON wrappers such as the
//! output of `az account get-access-token` or an OAuth token response).

use crate::error::{ErrorCode, InputError};
use serde_json::{Map, Value};
use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::PathBuf;

/// A JSON wrapper spread over many lines is given up on past this size.
pub const MAX_JSON_BYTES: usize = 1 << 20;

/// A line (and so a token) longer than this is a `too-large` error; the rest of it is skipped
/// without being kept, so memory stays bounded whatever the input.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// The UTF-8 byte order mark some Windows tools put before a file's text.
pub const BOM: &[u8] = b"\xef\xbb\xbf";

/// One INPUT argument, as the CLI spells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputSpec {
    /// A token given on the command line, numbered from 1 among the INPUTs.
    Arg(usize, String),
    /// `-`, or no INPUT at all.
    Stdin,
    /// `@PATH`.
    File(PathBuf),
}

/// INPUT arguments to specs; no INPUT means stdin.
pub fn specs(args: &[String]) -> Vec<InputSpec> {
    if args.is_empty() {
        return vec![InputSpec::Stdin];
    }
    args.iter()
        .enumerate()
        .map(|(i, arg)| match arg.as_str() {
            "-" | "@-" => InputSpec::Stdin,
            _ => match arg.strip_prefix('@') {
                Some(path) => InputSpec::File(PathBuf::from(path)),
                None => InputSpec::Arg(i + 1, arg.clone()),
            },
        })
        .collect()
}

/// One token to check, or why there is none, and where it came from (`arg:N`, `stdin:LINE`,
/// `PATH:LINE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub source: String,
    pub token: Result<String, InputError>,
}

/// Reads every spec in order and hands each item to `each`. An error from `each` (a closed
/// stdout) stops the reading; a file that cannot be read becomes an `unreadable` item.
pub fn read(specs: &[InputSpec], each: &mut impl FnMut(Item) -> io::Result<()>) -> io::Result<()> {
    for spec in specs {
        match spec {
            InputSpec::Arg(n, text) => each(Item { source: format!("arg:{n}"), token: from_text(text) })?,
            InputSpec::Stdin => read_lines(io::stdin().lock(), "stdin", each)?,
            InputSpec::File(path) => {
                let name = path.display().to_string();
                match File::open(path) {
                    Ok(file) => read_lines(BufReader::with_capacity(1 << 16, file), &name, each)?,
                    Err(e) => each(unreadable(&name, &e))?,
                }
            }
        }
    }
    Ok(())
}

/// The item for a stream that could not be read.
pub fn unreadable(name: &str, e: &io::Error) -> Item {
    Item {
        source: name.to_owned(),
        token: Err(InputError::new(ErrorCode::Unreadable, format!("cannot read {name}: {e}"))),
    }
}

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
    Ok(clean(trimmed).to_owned())
}

/// The item for a stream without a single token.
pub fn empty(name: &str) -> Item {
    Item { source: name.to_owned(), token: Err(InputError::new(ErrorCode::Empty, format!("no token in {name}"))) }
}

/// The error of a line over [`MAX_LINE_BYTES`].
pub fn too_large(line_no: usize) -> InputError {
    InputError::new(ErrorCode::TooLarge, format!("line {line_no} is over the {MAX_LINE_BYTES}-byte limit"))
}

/// The error of a line that is not UTF-8.
pub fn not_utf8(line_no: usize, e: std::str::Utf8Error) -> InputError {
    InputError::new(ErrorCode::InvalidUtf8, format!("line {line_no} is not valid UTF-8 (at byte {})", e.valid_up_to()))
}

/// Reads one stream line by line. A line that opens a JSON object which is not closed on that
/// line gathers the following lines until it is (a pretty-printed `az` output).
pub fn read_lines<R: BufRead>(reader: R, name: &str, each: &mut impl FnMut(Item) -> io::Result<()>) -> io::Result<()> {
    read_lines_from(reader, name, 0, false, each)
}

/// [`read_lines`] for a stream whose first `lines_before` lines were read elsewhere (`emitted`:
/// and gave at least one item).
pub fn read_lines_from<R: BufRead>(
    mut reader: R,
    name: &str,
    lines_before: usize,
    mut emitted: bool,
    each: &mut impl FnMut(Item) -> io::Result<()>,
) -> io::Result<()> {
    let mut buf = Vec::new();
    let mut line_no = lines_before;
    let mut pending: Option<(usize, String)> = None;
    let mut emit = |line: usize, token: Result<String, InputError>, each: &mut dyn FnMut(Item) -> io::Result<()>| {
        emitted = true;
        each(Item { source: format!("{name}:{line}"), token })
    };
    loop {
        buf.clear();
        match read_line(&mut reader, &mut buf) {
            Ok(Line::End) => break,
            Ok(Line::Read) => {
                line_no += 1;
                if line_no == 1 && buf.starts_with(BOM) {
                    buf.drain(..BOM.len());
                }
            }
            Ok(Line::TooLarge) => {
                line_no += 1;
                emit(line_no, Err(too_large(line_no)), each)?;
                continue;
            }
            Err(e) => return each(unreadable(name, &e)),
        }
        let line = match std::str::from_utf8(&buf) {
            Ok(line) => line,
            Err(e) => {
                emit(line_no, Err(not_utf8(line_no, e)), each)?;
                continue;
            }
        };
        if let Some((start, mut json)) = pending.take() {
            json.push_str(line);
            match parse_wrapper(&json) {
                Wrapper::Complete(token) => emit(start, token, each)?,
                Wrapper::Incomplete if json.len() > MAX_JSON_BYTES => {
                    let message = format!("JSON object opened on line {start} is larger than {MAX_JSON_BYTES} bytes");
                    emit(start, Err(InputError::new(ErrorCode::TooLarge, message)), each)?;
                }
                Wrapper::Incomplete => pending = Some((start, json)),
            }
            continue;
        }
        let text = line.trim();
        if text.is_empty() {
            continue;
        }
        if text.starts_with('{') {
            match parse_wrapper(text) {
                Wrapper::Complete(token) => emit(line_no, token, each)?,
                Wrapper::Incomplete => pending = Some((line_no, line.to_owned())),
            }
            continue;
        }
        emit(line_no, Ok(clean(text).to_owned()), each)?;
    }
    if let Some((start, _)) = pending {
        let message = format!("JSON object opened on line {start} is not closed before the end of {name}");
        emit(start, Err(InputError::new(ErrorCode::BadJson, message)), each)?;
    }
    if !emitted {
        each(empty(name))?;
    }
    Ok(())
}

enum Line {
    End,
    Read,
    /// Over [`MAX_LINE_BYTES`]: the rest of it was read past, not kept.
    TooLarge,
}

/// `read_until(b'\n')` that keeps at most [`MAX_LINE_BYTES`] (plus one buffer) of a line.
fn read_line<R: BufRead>(reader: &mut R, buf: &mut Vec<u8>) -> io::Result<Line> {
    let mut skipping = false;
    loop {
        let available = match reader.fill_buf() {
            Ok(available) => available,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok(if skipping {
                Line::TooLarge
            } else if buf.is_empty() {
                Line::End
            } else if buf.len() > MAX_LINE_BYTES {
                Line::TooLarge
            } else {
                Line::Read
            });
        }
        let (used, ended) = match memchr::memchr(b'\n', available) {
            Some(at) => (at + 1, true),
            None => (available.len(), false),
        };
        if !skipping {
            buf.extend_from_slice(&available[..used]);
            if buf.len() - usize::from(ended) > MAX_LINE_BYTES {
                skipping = true;
                buf.clear();
            }
        }
        reader.consume(used);
        if ended {
            return Ok(if skipping { Line::TooLarge } else { Line::Read });
        }
    }
}

enum Wrapper {
    Complete(Result<String, InputError>),
    /// The text so far is the start of a JSON value: read more.
    Incomplete,
}

fn parse_wrapper(text: &str) -> Wrapper {
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

/// Trims what a paste brings along: whitespace, a trailing comma, surrounding quotes, and an
/// `Authorization: Bearer` or `Bearer` prefix.
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
    for quote in ['"', '\''] {
        if text.len() >= 2 && text.starts_with(quote) && text.ends_with(quote) {
            return text[1..text.len() - 1].trim();
        }
    }
    text
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &text[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(text: &str) -> Vec<(String, Result<String, ErrorCode>)> {
        let mut out = Vec::new();
        read_lines(text.as_bytes(), "in", &mut |item: Item| {
            out.push((item.source, item.token.map_err(|e| e.code)));
            Ok(())
        })
        .unwrap();
        out
    }

    #[test]
    fn cleans_pastes() {
        assert_eq!(clean("  eyJ.a.b \r"), "eyJ.a.b");
        assert_eq!(clean("\"eyJ.a.b\","), "eyJ.a.b");
        assert_eq!(clean("'eyJ.a.b'"), "eyJ.a.b");
        assert_eq!(clean("Bearer eyJ.a.b"), "eyJ.a.b");
        assert_eq!(clean("authorization: bearer  eyJ.a.b"), "eyJ.a.b");
        assert_eq!(clean("Authorization:Bearer\teyJ.a.b"), "eyJ.a.b");
        assert_eq!(clean("\"Authorization: Bearer eyJ.a.b\""), "eyJ.a.b");
        assert_eq!(clean("Bearerish.a.b"), "Bearerish.a.b");
    }

    #[test]
    fn one_token_per_non_empty_line_with_line_numbers() {
        let got = items("a.b.c\r\n\n  \nBearer d.e.f\n");
        assert_eq!(got, [("in:1".into(), Ok("a.b.c".into())), ("in:4".into(), Ok("d.e.f".into()))]);
    }

    #[test]
    fn json_wrappers_one_per_line_and_pretty_printed() {
        let got = items(
            "{\"access_token\":\"a.b.c\",\"token_type\":\"Bearer\"}\n{\n  \"accessToken\": \"d.e.f\",\n  \"tokenType\": \"Bearer\"\n}\nx.y.z\n",
        );
        assert_eq!(
            got,
            [
                ("in:1".into(), Ok("a.b.c".into())),
                ("in:2".into(), Ok("d.e.f".into())),
                ("in:6".into(), Ok("x.y.z".into()))
            ]
        );
    }

    #[test]
    fn json_problems_are_items() {
        let got = items("{\"id_token\":\"a.b.c\"}\n{\"x\": [1,\n");
        assert_eq!(got, [("in:1".into(), Err(ErrorCode::NoTokenField)), ("in:2".into(), Err(ErrorCode::BadJson))]);
        assert_eq!(items("{\"a\":1}}\n"), [("in:1".into(), Err(ErrorCode::BadJson))]);
    }

    #[test]
    fn empty_stream_is_one_empty_item() {
        assert_eq!(items(""), [("in".into(), Err(ErrorCode::Empty))]);
        assert_eq!(items("\n \r\n"), [("in".into(), Err(ErrorCode::Empty))]);
    }

    #[test]
    fn invalid_utf8_line_is_an_item_and_reading_goes_on() {
        let mut out = Vec::new();
        read_lines(&b"\xff\xfe\na.b.c\n"[..], "in", &mut |item: Item| {
            out.push(item.token.map_err(|e| e.code));
            Ok(())
        })
        .unwrap();
        assert_eq!(out, [Err(ErrorCode::InvalidUtf8), Ok("a.b.c".into())]);
    }

    #[test]
    fn a_line_over_the_limit_is_too_large_and_reading_goes_on() {
        let long = "a".repeat(MAX_LINE_BYTES + 1);
        let at_limit = "b".repeat(MAX_LINE_BYTES);
        let got = items(&format!("{long}\nx.y.z\n{at_limit}\n{long}"));
        let codes: Vec<_> =
            got.iter().map(|(source, token)| (source.as_str(), token.as_ref().err().copied())).collect();
        assert_eq!(
            codes,
            [("in:1", Some(ErrorCode::TooLarge)), ("in:2", None), ("in:3", None), ("in:4", Some(ErrorCode::TooLarge))]
        );
    }

    #[test]
    fn argument_specs() {
        let args: Vec<String> = ["tok", "-", "@f.txt"].map(String::from).to_vec();
        assert_eq!(specs(&args), [InputSpec::Arg(1, "tok".into()), InputSpec::Stdin, InputSpec::File("f.txt".into())]);
        assert_eq!(specs(&[]), [InputSpec::Stdin]);
        assert_eq!(from_text("  ").unwrap_err().code, ErrorCode::Empty);
        assert_eq!(from_text("{\"accessToken\":\"Bearer a.b.c\"}").unwrap(), "a.b.c");
    }
}
