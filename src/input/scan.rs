//! `mfacheck scan`: every JWT in arbitrary text (curl -v output, server logs, cookies, JSON) or in
//! a HAR capture, each distinct token checked once with the number of times it was found.
//!
//! Text is read in chunks of whole lines through the [`Chunker`] and searched ([`tokens`]). A HAR
//! file (JSON with `log.entries`) is read as JSON: each request's `Authorization` header first,
//! with the request's method and URL, then every other string of each entry (cookies, query
//! strings, bodies, response headers). What is found goes to [`Findings`].

use super::har;
use super::lines::{BINARY_SNIFF, Chunk, Chunker, count_line_ends, line_ends};
use super::search::tokens;
use super::sightings::{Findings, Index};
use crate::error::{ErrorCode, InputError};
use std::io::{self, BufRead, BufReader, Read};
use std::path::PathBuf;
use std::sync::{PoisonError, RwLock};

/// Where scan reads from: a file, or `-` (stdin).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Stdin,
    File(PathBuf),
}

/// PATH arguments to sources; none means stdin. A PATH that is not UTF-8 is read as it is, and
/// named lossily (`a\u{fffd}.log`): reported, never a usage error.
pub fn sources<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Vec<Source> {
    if args.is_empty() {
        return vec![Source::Stdin];
    }
    // `@PATH` and `@-` are accepted too, as `check` spells its files; stdin is read once.
    let mut stdin_seen = false;
    args.iter()
        .filter_map(|a| {
            let a = a.as_ref();
            let source = match a.to_str() {
                Some(text) => match text.strip_prefix('@').unwrap_or(text) {
                    "-" => Source::Stdin,
                    path => Source::File(PathBuf::from(path)),
                },
                None => Source::File(crate::input::strip_at(a).unwrap_or_else(|| PathBuf::from(a))),
            };
            if source == Source::Stdin {
                if stdin_seen {
                    return None;
                }
                stdin_seen = true;
            }
            Some(source)
        })
        .collect()
}

/// Reads every source, handing what was found so far to `seen` after each piece of text (a chunk
/// of lines: what has arrived of a stream) and after each HAR file, so results can be written as
/// tokens appear. A source that cannot be read becomes an `unreadable` sighting; when no token is
/// found at all, one `empty` sighting says so (as `check` does for an empty input). `threads`:
/// workers searching a large text stream.
pub fn scan(
    sources: &[Source],
    threads: usize,
    found: &mut Findings,
    seen: &mut dyn FnMut(&mut Findings) -> io::Result<()>,
) -> io::Result<()> {
    for source in sources {
        let (name, result) = match source {
            Source::Stdin => {
                use std::io::IsTerminal;
                let terminal = io::stdin().is_terminal();
                ("stdin".to_owned(), scan_reader(io::stdin(), "stdin", terminal, threads, found, seen))
            }
            Source::File(path) => {
                let name = crate::error::path_name(path);
                let result = match std::fs::File::open(path) {
                    Ok(file) => scan_reader(file, &name, false, threads, found, seen),
                    Err(e) => {
                        found.error(name.clone(), super::unreadable_error(&name, &e));
                        Ok(())
                    }
                };
                (name, result)
            }
        };
        match result {
            Ok(()) => {}
            Err(e) if e.get_ref().is_some_and(|inner| inner.is::<Binary>()) => {
                found.error(name.clone(), super::lines::binary_error(&name))
            }
            Err(e) if e.get_ref().is_some_and(|inner| inner.is::<Output>()) => {
                let output = e.into_inner().and_then(|inner| inner.downcast::<Output>().ok());
                return Err(output.map_or_else(|| io::Error::other("output"), |output| output.0));
            }
            Err(e) => {
                found.error(name.clone(), InputError::new(ErrorCode::Unreadable, format!("cannot read {name}: {e}")))
            }
        }
        seen(found)?;
    }
    if found.sightings.is_empty() {
        let name = match sources {
            [Source::Stdin] => "stdin".to_owned(),
            [Source::File(path)] => crate::error::path_name(path),
            _ => "inputs".to_owned(),
        };
        found.error(name.clone(), InputError::new(ErrorCode::Empty, format!("no JWT found in {name}")));
    }
    seen(found)
}

/// Everything found in one stream (a HAR or any text), as `scan` finds it in a file: for the
/// fuzz target and for tests.
pub fn scan_stream<R: Read + Send>(reader: R, name: &str) -> io::Result<Findings> {
    let mut found = Findings::default();
    scan_reader(reader, name, false, 1, &mut found, &mut |_| Ok(()))?;
    Ok(found)
}

/// A stream that opens with a HAR's `{"log"` is read as a HAR, streamed ([`har`]); anything
/// else (other JSON, JSON lines, text) is searched line by line as it arrives, through the
/// [`Chunker`] every engine reads with.
fn scan_reader<R: Read + Send>(
    reader: R,
    name: &str,
    terminal: bool,
    threads: usize,
    found: &mut Findings,
    seen: &mut dyn FnMut(&mut Findings) -> io::Result<()>,
) -> io::Result<()> {
    let mut reader = Sniffed { inner: BufReader::with_capacity(1 << 16, reader), offset: 0 };
    if reader.fill_buf()?.starts_with(b"\xEF\xBB\xBF") {
        reader.consume(3); // a UTF-8 byte order mark, as some Windows tools write HAR files
    }
    // Blank lines skipped while looking for `{"log"` still count as lines.
    let mut lines_before = 0;
    let is_har = loop {
        let buf = reader.fill_buf()?;
        match buf.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(i) => break looks_like_har(&buf[i..]),
            None if buf.is_empty() => break false,
            None => {
                let n = buf.len();
                lines_before += line_ends(buf, true).count();
                reader.consume(n);
            }
        }
    };
    if !is_har {
        // The Chunker sniffs for binary itself; the buffered reader hands a large read through.
        let chunks = Chunker::new(reader.inner).on_terminal(terminal).for_search();
        return scan_text(chunks, name, lines_before, threads, found, seen);
    }
    found.start_ranked();
    let (outcome, tee) = har::read(reader, name, found);
    found.finish_ranked();
    match outcome.error {
        None if outcome.entries_seen => Ok(()),
        None => {
            found.warnings.push(format!("{name}: a HAR without log.entries: no request was read"));
            Ok(())
        }
        // The reader's own error (a binary stream's among them), as it was.
        Some((e, _)) if e.is_io() => Err(e.into()),
        Some((e, entry)) => {
            found.warnings.push(format!(
                "{name}: the HAR is truncated or invalid ({e}): {entry} entries read; the rest is searched as text"
            ));
            // The bytes of the entry that failed, then whatever follows.
            let (partial, rest) = tee.into_rest();
            let source = format!("{name}:entry-{}", entry + 1);
            for (token, count) in partial {
                for _ in 0..count {
                    found.add(&token, || source.clone(), None);
                }
            }
            tell(seen, found)?;
            scan_text(Chunker::new(rest).for_search(), name, 0, 1, found, seen)
        }
    }
}

/// A write of results failed (stdout closed): the scan stops, and the error is not a source's.
#[derive(Debug)]
struct Output(io::Error);

impl std::fmt::Display for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Output {}

/// Hands what was found to `seen`; its error (a write) is marked as not the source's.
fn tell(seen: &mut dyn FnMut(&mut Findings) -> io::Result<()>, found: &mut Findings) -> io::Result<()> {
    seen(found).map_err(|e| io::Error::other(Output(e)))
}

/// What one chunk of text holds: the tokens already in the index (their sightings, once per
/// occurrence), and the others, each distinct one with the line it is first on and its count, in
/// the order first found; or why the chunk holds nothing (a line too long, a binary stream).
enum Searched {
    Tokens { known: Vec<usize>, new: Vec<(usize, String, usize)> },
    Error(String, InputError),
}

/// Searches a chunk of whole lines, numbering them from `first_line`. A token already in the
/// index (found in an earlier chunk) is counted by its sighting: hashed and compared here, on a
/// worker, and never copied; only a token new to the index is copied and its line counted.
fn search_chunk(chunk: &Chunk, name: &str, lines_before: usize, index: &RwLock<Index<String>>) -> Searched {
    match chunk {
        Chunk::Lines { first_line, data, .. } => {
            let (mut known, mut new) = (Vec::new(), Vec::<(usize, String, usize)>::new());
            let mut unknown: Index<&str> = Index::default();
            let (mut line, mut counted) = (first_line + lines_before, 0);
            for token in tokens(data) {
                // Locked for one look-up only: the writer adds the tokens of earlier chunks meanwhile.
                if let Some(&i) = index.read().unwrap_or_else(PoisonError::into_inner).get(token) {
                    known.push(i);
                    continue;
                }
                match unknown.get(token) {
                    Some(&i) => new[i].2 += 1,
                    None => {
                        let at = token.as_ptr() as usize - data.as_ptr() as usize;
                        line += count_line_ends(&data[counted..at]);
                        counted = at;
                        unknown.insert(token, new.len());
                        new.push((line, token.to_owned(), 1));
                    }
                }
            }
            Searched::Tokens { known, new }
        }
        Chunk::TooLarge { line } => Searched::Error(format!("{name}:{}", line + lines_before), super::too_large(*line)),
        Chunk::Binary => Searched::Error(name.to_owned(), super::lines::binary_error(name)),
        Chunk::Failed(e) => Searched::Error(name.to_owned(), super::unreadable_error(name, e)),
    }
}

/// Text, chunk by chunk (on `threads` workers for a large stream), each chunk's tokens added in
/// stream order, and `seen` told after each chunk. The index of the tokens found is lent to the
/// searches meanwhile (`seen` gets the findings without it), so that this thread, which every
/// result goes through, only counts the tokens known and adds the new ones.
fn scan_text<R: Read + Send>(
    chunks: Chunker<R>,
    name: &str,
    lines_before: usize,
    threads: usize,
    found: &mut Findings,
    seen: &mut dyn FnMut(&mut Findings) -> io::Result<()>,
) -> io::Result<()> {
    let index = RwLock::new(std::mem::take(&mut found.index));
    let result = search_text(chunks, name, lines_before, threads, &index, found, seen);
    found.index = index.into_inner().unwrap_or_else(PoisonError::into_inner);
    result
}

fn search_text<R: Read + Send>(
    mut chunks: Chunker<R>,
    name: &str,
    lines_before: usize,
    threads: usize,
    index: &RwLock<Index<String>>,
    found: &mut Findings,
    seen: &mut dyn FnMut(&mut Findings) -> io::Result<()>,
) -> io::Result<()> {
    let mut add = |searched: Searched| -> io::Result<()> {
        match searched {
            Searched::Tokens { known, new } => {
                found.occurrences += known.len();
                for i in known {
                    found.sightings[i].count += 1;
                }
                if !new.is_empty() {
                    let mut index = index.write().unwrap_or_else(PoisonError::into_inner);
                    for (line, token, count) in new {
                        found.add_many(&mut index, token, count, || format!("{name}:{line}"));
                    }
                }
            }
            Searched::Error(source, error) => found.error(source, error),
        }
        tell(seen, found)
    };
    // A person typing at a terminal needs no workers, nor does a stream of one chunk.
    if threads > 1 && !chunks.is_terminal() {
        let Some(first) = chunks.next_chunk() else { return Ok(()) };
        let small = chunks.is_done();
        if !small {
            chunks.put_back(first);
            let search = |chunk: &Chunk| search_chunk(chunk, name, lines_before, index);
            return crate::run::parallel::map_in_order(&mut chunks, threads, search, add, || Ok(()));
        }
        chunks.put_back(first);
    }
    let recycler = chunks.recycler();
    while let Some(chunk) = chunks.next_chunk() {
        let searched = search_chunk(&chunk, name, lines_before, index);
        recycler.give(chunk);
        add(searched)?;
    }
    Ok(())
}

/// What a read of a binary stream fails with: `scan` reports it as `check` does, once.
#[derive(Debug)]
struct Binary;

impl std::fmt::Display for Binary {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("binary")
    }
}

impl std::error::Error for Binary {}

/// A stream with a NUL byte in its first [`BINARY_SNIFF`] bytes is binary, as for `check`: the
/// read that meets it fails, so neither the text search nor the HAR reader goes on (`/dev/zero`
/// never ends).
struct Sniffed<R> {
    inner: R,
    /// Bytes consumed so far.
    offset: usize,
}

impl<R: BufRead> BufRead for Sniffed<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        let offset = self.offset;
        let buf = self.inner.fill_buf()?;
        if offset < BINARY_SNIFF && memchr::memchr(0, &buf[..buf.len().min(BINARY_SNIFF - offset)]).is_some() {
            return Err(io::Error::new(io::ErrorKind::InvalidData, Binary));
        }
        Ok(buf)
    }

    fn consume(&mut self, n: usize) {
        self.offset = self.offset.saturating_add(n);
        self.inner.consume(n);
    }
}

impl<R: BufRead> io::Read for Sniffed<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

/// `{` then, after optional whitespace, the member `"log"`: how every HAR begins.
fn looks_like_har(text: &[u8]) -> bool {
    let Some(rest) = text.strip_prefix(b"{") else { return false };
    let start = rest.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(rest.len());
    rest[start..].starts_with(b"\"log\"")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::search::redact;
    use crate::input::sightings::Request;

    const JWS: &str = "eyJhbGciOiJub25lIn0.eyJhbXIiOlsicHdkIl19.c2ln";

    #[test]
    fn repeats_are_counted_once_in_first_found_order() {
        let text = format!("a {JWS}\nb\nc {JWS} {JWS}\n");
        let found = scan_stream(text.as_bytes(), "log").unwrap();
        assert_eq!(found.occurrences, 3);
        let s = found.into_sightings();
        assert_eq!((s.len(), s[0].source.as_str(), s[0].count), (1, "log:1", 3));
    }

    #[test]
    fn har_authorization_first_then_other_strings() {
        let other = "eyJhbGciOiJub25lIn0.eyJiIjoyfQ.";
        let har = serde_json::json!({"log": {"entries": [
            {"request": {"method": "POST", "url": "https://login/token", "headers": []},
             "response": {"content": {"text": format!("{{\"access_token\":\"{JWS}\"}}")}}},
            {"request": {"method": "GET", "url": "https://api/x",
                         "headers": [{"name": "authorization", "value": format!("Bearer {JWS}")},
                                     {"name": "Cookie", "value": format!("s={other}")}]}}
        ]}});
        let found = scan_stream(har.to_string().as_bytes(), "s.har").unwrap();
        let s = found.into_sightings();
        assert_eq!(s.len(), 2);
        assert_eq!((s[0].source.as_str(), s[0].count), ("s.har:entry-2", 2));
        assert_eq!(s[0].request, Some(Request { method: "GET".into(), url: "https://api/x".into() }));
        assert_eq!((s[1].source.as_str(), s[1].token.as_deref()), ("s.har:entry-2", Ok(other)));
    }

    #[test]
    fn tokens_in_request_urls_are_cut() {
        let url = format!("https://app/cb#access_token={JWS}&state=1");
        assert_eq!(redact(&url), "https://app/cb#access_token=eyJhbGciOiJu…&state=1");
        let har = serde_json::json!({"log": {"entries": [
            {"request": {"method": "GET", "url": url, "headers": []}}]}});
        let found = scan_stream(&*[b"\xEF\xBB\xBF".as_slice(), har.to_string().as_bytes()].concat(), "s.har").unwrap();
        let s = found.into_sightings();
        assert_eq!((s[0].source.as_str(), s[0].token.as_deref()), ("s.har:entry-1", Ok(JWS)));
        assert_eq!(s[0].request.as_ref().unwrap().url, "https://app/cb#access_token=eyJhbGciOiJu…&state=1");
    }

    #[test]
    fn sources_accept_check_spellings() {
        let args = ["-", "@-", "a.log", "@b.har"].map(String::from);
        assert_eq!(sources(&args), [Source::Stdin, Source::File("a.log".into()), Source::File("b.har".into())]);
        assert_eq!(sources::<String>(&[]), [Source::Stdin]);
    }

    #[test]
    fn json_that_is_not_har_is_searched_as_text() {
        let text = format!("{{\n  \"accessToken\": \"{JWS}\"\n}}\n");
        let found = scan_stream(text.as_bytes(), "az.json").unwrap();
        assert_eq!(found.into_sightings()[0].source, "az.json:2");
    }

    /// A string too long to hold (3 MiB, over the HAR reader's 1 MiB bound) is searched as it
    /// streams by, unescaped as serde_json would read it: its tokens count to its entry, and
    /// those of a capture cut inside it are still found.
    #[test]
    fn tokens_in_a_string_too_long_to_hold_are_found() {
        let t = |i: u32| format!("eyJhbGciOiJub25lIn0.eyJhIjoi{i:04}In0.c2ln");
        let filler = "lorem \\\"ipsum\\\" \\u00e9 ".repeat(1 << 16);
        let text = format!("{filler}\\n{}\\n{filler}{} {} x\\u0020{} {filler}", t(2), t(3), t(3), t(4));
        let har = format!(
            r#"{{"log": {{"entries": [{{"request": {{"headers": [{{"name": "Authorization", "value": "Bearer {}"}}]}}}},
               {{"response": {{"content": {{"text": "{text}"}}}}}},
               {{"request": {{"headers": [{{"name": "Authorization", "value": "Bearer {}"}}]}}}}]}}}}"#,
            t(1),
            t(5)
        );
        assert!(text.len() > 3 << 20);
        let found = scan_stream(har.as_bytes(), "h").unwrap();
        assert!(found.warnings.is_empty(), "{:?}", found.warnings);
        let seen: Vec<(String, String, usize)> =
            found.into_sightings().into_iter().map(|s| (s.token.unwrap(), s.source, s.count)).collect();
        let expected = [(1, 1, 1), (5, 3, 1), (2, 2, 1), (3, 2, 2), (4, 2, 1)]
            .map(|(i, entry, count)| (t(i), format!("h:entry-{entry}"), count));
        assert_eq!(seen, expected);
        // Cut inside the long string, after its second token: both found, nothing after.
        let cut = har.find(&t(4)).unwrap() - 3; // inside `\u0020`
        let found = scan_stream(&har.as_bytes()[..cut], "h").unwrap();
        assert_eq!(found.warnings.len(), 1);
        let seen: Vec<String> = found.into_sightings().into_iter().map(|s| s.token.unwrap()).collect();
        assert_eq!(seen, [t(1), t(2), t(3)]);
    }

    /// A HAR cut anywhere (over several of the HAR reader's 64 KiB blocks): every whole token of
    /// what is left is still found, by the entries read and by the text search of the rest.
    #[test]
    fn a_har_cut_anywhere_loses_no_whole_token() {
        let filler = "x".repeat(3000);
        let mut har = String::from("{\"log\": {\"entries\": [");
        for i in 0..100 {
            // Distinct tokens: the claims segment says which entry.
            let token = format!("eyJhbGciOiJub25lIn0.eyJhIjoi{i:04}In0.c2ln");
            let entry = format!(
                "{{\"request\": {{\"method\": \"GET\", \"url\": \"https://a/{i}\", \"headers\": \
                 [{{\"name\": \"Authorization\", \"value\": \"Bearer {token}\"}}]}}, \"response\": {{\"text\": \"{filler}\"}}}}"
            );
            har.push_str(if i == 0 { "" } else { ", " });
            har.push_str(&entry);
        }
        har.push_str("]}}");
        for cut in (200..har.len()).step_by(997).chain([65_536, 131_072, 131_100, har.len() - 1]) {
            let text = &har.as_bytes()[..cut];
            let mut whole: Vec<String> = tokens(text).into_iter().map(str::to_owned).collect();
            let mut found: Vec<String> =
                scan_stream(text, "cut").unwrap().into_sightings().into_iter().filter_map(|s| s.token.ok()).collect();
            whole.sort();
            whole.dedup();
            found.sort();
            assert_eq!(found, whole, "cut at {cut}");
        }
        // Invalid at an entry's url: the reading stops there, mid-block, and the rest (what was
        // read ahead, then the stream) is searched as text, so no token is lost either.
        for (at, _) in har.match_indices("\"url\": ").step_by(7) {
            let bad = format!("{}@{}", &har[..at + 7], &har[at + 7..]);
            let mut found: Vec<String> = scan_stream(bad.as_bytes(), "bad")
                .unwrap()
                .into_sightings()
                .into_iter()
                .filter_map(|s| s.token.ok())
                .collect();
            found.sort();
            assert_eq!(found.len(), 100, "invalid at {at}");
        }
        // The same with a token across the reader's first block boundary (whitespace moves it
        // there), after the invalid byte: the text search must see it whole.
        let block = 64 << 10;
        let token_at = har.match_indices("eyJ").map(|(i, _)| i).find(|&i| i > block - 3000).unwrap();
        let url_at = har[..token_at].rfind("\"url\": ").unwrap() + 7;
        let pad = " ".repeat(block - 20 - token_at);
        let bad = format!("{}{pad}{}@{}", &har[..url_at - 7], &har[url_at - 7..url_at], &har[url_at..]);
        assert_eq!(&bad[block - 19..block - 16], "eyJ", "the token now straddles the block boundary");
        let found = scan_stream(bad.as_bytes(), "bad").unwrap().into_sightings();
        assert_eq!(found.iter().filter(|s| s.token.is_ok()).count(), 100);
    }
}
