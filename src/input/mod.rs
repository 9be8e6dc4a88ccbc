//! Where tokens come from: arguments, stdin and files (`-`, `@PATH`), one token per non-empty
//! line ([`lines`]), cleaned of what a paste brings along ([`paste`]); and, for `scan`, tokens
//! found among other text ([`scan`]). This module is the input grammar: every engine reads
//! through it.

pub mod fold;
pub mod har;
pub mod lines;
pub mod paste;
pub mod scan;
pub mod search;
pub mod sightings;
pub mod signins;

use crate::error::{ErrorCode, InputError};
use std::ffi::OsStr;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

pub use paste::{clean, from_text};

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

/// INPUT arguments to specs; no INPUT means stdin. An argument that is not UTF-8 is no usage
/// error: as `@PATH` it names its file exactly, as a token it is shown lossily (and fails).
pub fn specs<S: AsRef<OsStr>>(args: &[S]) -> Vec<InputSpec> {
    if args.is_empty() {
        return vec![InputSpec::Stdin];
    }
    let mut stdin_seen = false;
    args.iter()
        .enumerate()
        .filter_map(|(i, arg)| {
            let arg = arg.as_ref();
            let spec = match arg.to_str() {
                Some("-" | "@-") => InputSpec::Stdin,
                Some(text) => match text.strip_prefix('@') {
                    Some(path) => InputSpec::File(PathBuf::from(path)),
                    None if names_a_file(text) || looks_like_a_path(text) => InputSpec::File(PathBuf::from(text)),
                    None => InputSpec::Arg(i + 1, text.to_owned()),
                },
                None => match strip_at(arg) {
                    Some(path) => InputSpec::File(path),
                    None if is_readable_as_file(Path::new(arg)) => InputSpec::File(PathBuf::from(arg)),
                    None => InputSpec::Arg(i + 1, arg.to_string_lossy().into_owned()),
                },
            };
            if spec == InputSpec::Stdin {
                if stdin_seen {
                    return None;
                }
                stdin_seen = true;
            }
            Some(spec)
        })
        .collect()
}

/// A plain argument that is a path to an existing file, and does not read as a token (a token
/// starts `eyJ`, or is a pasted header or JSON wrapper, and has no path separator).
pub fn names_a_file(arg: &str) -> bool {
    let looks_like_token = arg.starts_with("eyJ") && !arg.contains('/');
    !looks_like_token && !arg.contains('\n') && is_readable_as_file(Path::new(arg))
}

/// Anything but a directory: a FIFO, `/dev/stdin` or bash's `<(…)` (`/dev/fd/N`, a pipe) is read
/// as the file it is, and a device such as `/dev/zero` meets the binary sniff.
fn is_readable_as_file(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| !m.is_dir())
}

/// A plain argument that reads as a path, not a token, though no file is there (a typo, a
/// directory): read as a file, so the error says "no such file" or "a directory" rather than
/// how the text fails to be a JWT. Tokens have no spaces, and are longer than paths typed.
fn looks_like_a_path(arg: &str) -> bool {
    const EXTENSIONS: [&str; 8] = [".jwt", ".txt", ".json", ".ndjson", ".jsonl", ".log", ".har", ".token"];
    let lower = arg.to_ascii_lowercase();
    let path_like = arg.starts_with(['/', '~'])
        || arg.starts_with("./")
        || arg.starts_with("../")
        || arg.ends_with('/')
        || EXTENSIONS.iter().any(|ext| lower.ends_with(ext));
    path_like && arg.len() < 256 && !arg.starts_with("eyJ") && !arg.contains(char::is_whitespace)
}

/// Checks one INPUT argument as clap reads it: `@` alone names no file (a usage error).
pub fn parse_input(arg: std::ffi::OsString) -> Result<std::ffi::OsString, String> {
    if arg == "@" {
        return Err("`@` needs a path after it (`@PATH`), or use `-` for stdin".into());
    }
    Ok(arg)
}

/// `@PATH` with a PATH that is not UTF-8: the path, byte for byte where the platform allows.
pub fn strip_at(arg: &OsStr) -> Option<PathBuf> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        arg.as_bytes().strip_prefix(b"@").map(|rest| PathBuf::from(OsStr::from_bytes(rest)))
    }
    #[cfg(not(unix))]
    {
        arg.to_string_lossy().strip_prefix('@').map(PathBuf::from)
    }
}

/// One token to check, or why there is none, and where it came from (`arg:N`, `stdin:LINE`,
/// `PATH:LINE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub source: String,
    pub token: Result<String, InputError>,
}

/// Reads every spec in order and hands each item to `each`, one after another. An error from
/// `each` (a closed stdout) stops the reading; a file that cannot be read becomes an
/// `unreadable` item.
pub fn read(specs: &[InputSpec], each: &mut impl FnMut(Item) -> io::Result<()>) -> io::Result<()> {
    for spec in specs {
        match spec {
            InputSpec::Arg(n, text) => each(Item { source: format!("arg:{n}"), token: from_text(text) })?,
            InputSpec::Stdin => read_chunks(stdin_chunker(), "stdin", each)?,
            InputSpec::File(path) => {
                let name = crate::error::path_name(path);
                match open(path, &name) {
                    Ok(file) => read_stream(file, &name, each)?,
                    Err(error) => each(Item { source: name, token: Err(error) })?,
                }
            }
        }
    }
    Ok(())
}

/// Every item of one stream, in order.
pub fn read_stream<R: io::Read>(
    reader: R,
    name: &str,
    each: &mut impl FnMut(Item) -> io::Result<()>,
) -> io::Result<()> {
    read_chunks(lines::Chunker::new(reader), name, each)
}

/// Stdin's chunks; on a terminal, one Ctrl-D ends them ([`lines::Chunker::on_terminal`]).
pub fn stdin_chunker() -> lines::Chunker<io::Stdin> {
    use std::io::IsTerminal;
    lines::Chunker::new(io::stdin()).on_terminal(io::stdin().is_terminal())
}

fn read_chunks<R: io::Read>(
    mut chunks: lines::Chunker<R>,
    name: &str,
    each: &mut impl FnMut(Item) -> io::Result<()>,
) -> io::Result<()> {
    let mut lines = lines::Lines::new(name, 0).from_terminal(chunks.is_terminal());
    let mut item = |source: &str, token: Result<&str, InputError>| {
        each(Item { source: source.to_owned(), token: token.map(str::to_owned) })
    };
    let recycler = chunks.recycler();
    while let Some(chunk) = chunks.next_chunk() {
        lines.chunk(&chunk, &mut item)?;
        recycler.give(chunk);
    }
    lines.finish(&mut item)
}

/// Opens a file of tokens (`name`: its path as shown), or says why it is none: missing, a
/// directory, or a browser's HAR capture (by its name: `scan` reads those).
pub fn open(path: &Path, name: &str) -> Result<File, InputError> {
    if path.is_dir() {
        let message =
            format!("{name} is a directory: give the files in it (e.g. {}/*.jwt)", name.trim_end_matches('/'));
        return Err(InputError::new(ErrorCode::Unreadable, message));
    }
    if path.extension().is_some_and(|ext| ext.eq_ignore_ascii_case("har")) {
        return Err(InputError::new(
            ErrorCode::NotAJwt,
            format!(
                "{name} is a HAR capture (a browser's network log), not a file of tokens: `mfacheck scan {name}` \
                 finds the tokens in it"
            ),
        ));
    }
    File::open(path).map_err(|e| unreadable_error(name, &e))
}

/// The item for a stream that could not be read.
pub fn unreadable(name: &str, e: &io::Error) -> Item {
    Item { source: name.to_owned(), token: Err(unreadable_error(name, e)) }
}

pub fn unreadable_error(name: &str, e: &io::Error) -> InputError {
    let why = match e.kind() {
        io::ErrorKind::NotFound => "no such file".to_owned(),
        io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        _ => e.to_string(),
    };
    InputError::new(ErrorCode::Unreadable, format!("cannot read {name}: {why}"))
}

/// The item for a stream without a single token.
pub fn empty(name: &str) -> Item {
    Item { source: name.to_owned(), token: Err(empty_error(name)) }
}

pub fn empty_error(name: &str) -> InputError {
    InputError::new(ErrorCode::Empty, format!("no token in {name}"))
}

/// The error of a line of other text: it points to `scan`, which finds tokens in such text.
pub fn scan_instead(line_no: usize, what: &str) -> InputError {
    InputError::new(
        ErrorCode::NotAJwt,
        format!("line {line_no} is {what}, not a token: `mfacheck scan` finds the tokens in such text"),
    )
}

/// The error of a line over [`MAX_LINE_BYTES`].
pub fn too_large(line_no: usize) -> InputError {
    InputError::new(ErrorCode::TooLarge, format!("line {line_no} is over the {MAX_LINE_BYTES}-byte limit"))
}

/// The error of a line that is not UTF-8.
pub fn not_utf8(line_no: usize, e: std::str::Utf8Error) -> InputError {
    InputError::new(ErrorCode::InvalidUtf8, format!("line {line_no} is not valid UTF-8 (at byte {})", e.valid_up_to()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(text: &str) -> Vec<(String, Result<String, ErrorCode>)> {
        let mut out = Vec::new();
        read_stream(text.as_bytes(), "in", &mut |item: Item| {
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
        read_stream(&b"\xff\xfe\na.b.c\n"[..], "in", &mut |item: Item| {
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
        assert_eq!(specs::<String>(&[]), [InputSpec::Stdin]);
        let twice: Vec<String> = ["-", "@-", "tok"].map(String::from).to_vec();
        assert_eq!(specs(&twice), [InputSpec::Stdin, InputSpec::Arg(3, "tok".into())], "stdin is read once");
        let file: Vec<String> = ["Cargo.toml", "no-such-file"].map(String::from).to_vec();
        assert_eq!(specs(&file), [InputSpec::File("Cargo.toml".into()), InputSpec::Arg(2, "no-such-file".into())]);
        assert!(parse_input("@".into()).is_err() && parse_input("@x".into()).is_ok());
        assert_eq!(from_text("  ").unwrap_err().code, ErrorCode::Empty);
        assert_eq!(from_text("{\"accessToken\":\"Bearer a.b.c\"}").unwrap(), "a.b.c");
    }
}
