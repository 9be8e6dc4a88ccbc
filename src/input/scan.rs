//! `mfacheck scan`: every JWT in arbitrary text (curl -v output, server logs, cookies, JSON) or in
//! a HAR capture, each distinct token checked once with the number of times it was found.
//!
//! Text is read line by line and searched without regular expressions, in one pass: a token
//! starts at `eyJ` (base64url of `{"`) that does not continue a base64url run, and is three
//! base64url segments whose second also starts with `eyJ` (a JWS; the signature may be empty),
//! or five (a JWE, reported as encrypted). A HAR file (JSON with `log.entries`) is read as JSON:
//! each request's `Authorization` header first, with the request's method and URL, then every
//! other string of each entry (cookies, query strings, bodies, response headers).

use super::har;
use super::lines::{BINARY_SNIFF, Chunk, Chunker, count_line_ends, line_ends};
use crate::error::{ErrorCode, InputError, preview};
use serde::Serialize;
use std::collections::HashMap;

/// The distinct tokens seen, by their text: foldhash, seeded at random per process (tokens come
/// from the input, so a fixed hash could be flooded), a fraction of SipHash's cost on every token.
type Index<K> = HashMap<K, usize, foldhash::fast::RandomState>;
use std::io::{self, BufRead, BufReader, Read};
use std::path::PathBuf;
use std::sync::{PoisonError, RwLock};

/// One distinct token (or an input that could not be read), where it was first found, and how
/// many times it was found in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sighting {
    pub token: Result<String, InputError>,
    /// `PATH:LINE` (`stdin:LINE`) for text; `PATH:entry-N` for the N-th entry of a HAR file.
    pub source: String,
    /// The request of the HAR entry the token was first found in.
    pub request: Option<Request>,
    pub count: usize,
}

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

/// The distinct tokens found, in the order first found; memory grows with distinct tokens only.
#[derive(Debug, Default)]
pub struct Findings {
    index: Index<String>,
    sightings: Vec<Sighting>,
    /// Every occurrence, counting repeats.
    pub occurrences: usize,
    /// The rank of each sighting of the HAR being read (from `ranked_from`), see [`har::Rank`].
    ranks: Vec<har::Rank>,
    ranked_from: usize,
    /// What went wrong without stopping the scan (a truncated HAR), for stderr.
    pub warnings: Vec<String>,
}

impl Findings {
    /// A sighting in a HAR: it is reported where it ranks first in the file.
    pub(crate) fn add_ranked(
        &mut self,
        token: &str,
        rank: har::Rank,
        source: impl FnOnce() -> String,
        request: Option<&Request>,
    ) {
        if let Some(&i) = self.index.get(token)
            && i >= self.ranked_from
        {
            self.occurrences += 1;
            let at = i - self.ranked_from;
            self.sightings[i].count += 1;
            if rank < self.ranks[at] {
                self.ranks[at] = rank;
                self.sightings[i].source = source();
                self.sightings[i].request = request.cloned();
            }
            return;
        }
        let before = self.sightings.len();
        self.add(token, source, request);
        if self.sightings.len() > before {
            self.ranks.push(rank);
        }
    }

    /// Starts the ranked sightings of one HAR.
    fn start_ranked(&mut self) {
        self.ranked_from = self.sightings.len();
        self.ranks.clear();
    }

    /// Puts the sightings of the HAR just read in rank order: the order of the whole-document
    /// reading (every Authorization header first, then the other strings).
    fn finish_ranked(&mut self) {
        let from = self.ranked_from;
        let mut ranked: Vec<(har::Rank, Sighting)> =
            std::mem::take(&mut self.ranks).into_iter().zip(self.sightings.drain(from..)).collect();
        ranked.sort_by_key(|(rank, _)| *rank);
        for (_, sighting) in ranked {
            if let Ok(token) = &sighting.token {
                self.index.insert(token.clone(), self.sightings.len());
            }
            self.sightings.push(sighting);
        }
        self.ranked_from = self.sightings.len();
    }

    fn add(&mut self, token: &str, source: impl FnOnce() -> String, request: Option<&Request>) {
        self.occurrences += 1;
        if let Some(&i) = self.index.get(token) {
            self.sightings[i].count += 1;
            return;
        }
        self.index.insert(token.to_owned(), self.sightings.len());
        self.sightings.push(Sighting {
            token: Ok(token.to_owned()),
            source: source(),
            request: request.cloned(),
            count: 1,
        });
    }

    /// `count` occurrences of `token`, the first of them at `source`, with the index lent out
    /// by [`scan_text`].
    fn add_many(&mut self, index: &mut Index<String>, token: String, count: usize, source: impl FnOnce() -> String) {
        self.occurrences += count;
        if let Some(&i) = index.get(&token) {
            self.sightings[i].count += count;
            return;
        }
        index.insert(token.clone(), self.sightings.len());
        self.sightings.push(Sighting { token: Ok(token), source: source(), request: None, count });
    }

    /// The sightings so far, in the order first found (and, for a HAR read, in rank order).
    pub fn sightings(&self) -> &[Sighting] {
        &self.sightings
    }

    fn error(&mut self, source: String, error: InputError) {
        self.sightings.push(Sighting { token: Err(error), source, request: None, count: 1 });
    }

    pub fn into_sightings(self) -> Vec<Sighting> {
        self.sightings
    }
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

/// A HAR string longer than this is searched in pieces of this size (a token cut between two
/// pieces is kept whole), so memory stays bounded whatever the input.
const MAX_SCAN_LINE: usize = 1 << 20;

/// Where a long text can be cut without cutting a token: after its last byte no token has (all
/// of it when there is none, a run too long to be a token).
fn safe_cut(text: &[u8]) -> usize {
    match text.iter().rposition(|&b| !is_base64_loose(b) && b != b'.') {
        Some(i) if i > 0 => i + 1,
        _ => text.len(),
    }
}

/// The tokens of a text handed over piece by piece (a HAR string too long to hold), searched in
/// a window of at most about [`MAX_SCAN_LINE`] bytes: each distinct token with its count, in the
/// order first found. Memory grows with distinct tokens only.
#[derive(Debug, Default)]
pub(crate) struct TextSearch {
    window: Vec<u8>,
    found: Vec<(String, usize)>,
    index: Index<String>,
}

impl TextSearch {
    pub(crate) fn push(&mut self, bytes: &[u8]) {
        self.window.extend_from_slice(bytes);
        if self.window.len() >= MAX_SCAN_LINE {
            let cut = safe_cut(&self.window);
            self.search(cut);
            self.window.drain(..cut);
        }
    }

    fn search(&mut self, end: usize) {
        for token in tokens(&self.window[..end]) {
            match self.index.get(token) {
                Some(&i) => self.found[i].1 += 1,
                None => {
                    self.index.insert(token.to_owned(), self.found.len());
                    self.found.push((token.to_owned(), 1));
                }
            }
        }
    }

    /// Ends the text (a token may end where it ends).
    pub(crate) fn end_text(&mut self) {
        self.search(self.window.len());
        self.window.clear();
    }

    /// What was found (in texts ended), forgotten here.
    pub(crate) fn take(&mut self) -> Vec<(String, usize)> {
        self.index.clear();
        std::mem::take(&mut self.found)
    }

    pub(crate) fn clear(&mut self) {
        self.window.clear();
        self.take();
    }
}

/// A URL can carry a token (`?access_token=…`): it is shown cut, as messages show tokens.
pub(crate) fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut done = 0;
    for token in tokens(text.as_bytes()) {
        // `token` is a slice of `text`: its offset is where it starts.
        let start = token.as_ptr() as usize - text.as_ptr() as usize;
        out.push_str(&text[done..start]);
        out.push_str(&preview(token));
        done = start + token.len();
    }
    out.push_str(&text[done..]);
    out
}

/// Byte classes of the token search, one table lookup a byte: base64url…
const URL: u8 = 1;
/// …or the standard alphabet and padding too (`+`, `/`, `=`): documentation samples carry them.
/// They are not valid JWS, but reported (with `check`'s error, which says so) rather than dropped.
const LOOSE: u8 = 2;

const CLASS: [u8; 256] = {
    let mut table = [0; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = if c.is_ascii_alphanumeric() || c == b'-' || c == b'_' {
            URL | LOOSE
        } else if c == b'+' || c == b'/' || c == b'=' {
            LOOSE
        } else {
            0
        };
        b += 1;
    }
    table
};

fn is_base64url(b: u8) -> bool {
    CLASS[usize::from(b)] & URL != 0
}

fn is_base64_loose(b: u8) -> bool {
    CLASS[usize::from(b)] & LOOSE != 0
}

/// The end of the run of `class` bytes that starts at `from`: eight bytes a step while all eight
/// are in it (a token is mostly long runs; the step has no branch per byte).
fn run_end(text: &[u8], from: usize, class: u8) -> usize {
    let mut i = from;
    while let Some(block) = text.get(i..i + 8) {
        if block.iter().fold(class, |all, &b| all & CLASS[usize::from(b)]) == 0 {
            break;
        }
        i += 8;
    }
    while i < text.len() && CLASS[usize::from(text[i])] & class != 0 {
        i += 1;
    }
    i
}

/// "eyJ" (base64url of `{"`), searched with SIMD by a searcher built once.
static START: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
    std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"eyJ"));

/// Every JWT in `text`, in order. Linear: a candidate's bytes are read once (twice when it goes
/// on in the standard alphabet), and the search goes on after a token or a failed candidate's
/// `eyJ`.
pub fn tokens(text: &[u8]) -> Vec<&str> {
    let mut found = Vec::new();
    let mut i = 0;
    while let Some(offset) = find_start(&text[i..]) {
        let start = i + offset;
        match token_end(text, start) {
            Some(end) => {
                // Tokens are ASCII by construction.
                found.push(std::str::from_utf8(&text[start..end]).expect("base64url is ASCII"));
                i = end;
            }
            None => i = start + 3,
        }
    }
    found
}

/// The next `eyJ` that does not continue a base64url run.
fn find_start(text: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(at) = START.find(&text[from..]) {
        let at = from + at;
        if at == 0 || !is_base64url(text[at - 1]) {
            return Some(at);
        }
        from = at + 3;
    }
    None
}

/// The end of the token that starts at `start` (at `eyJ`), or `None` when it is not one. A
/// candidate whose header or payload has `=`, `+` or `/` (a re-encoded documentation sample), or
/// whose signature has `+` or `=`, is taken whole (so it gets `check`'s error, never a verdict on
/// its base64url prefix); `/` alone after a signature is text after it (a URL path).
fn token_end(text: &[u8], start: usize) -> Option<usize> {
    let strict = Segments::walk(text, start, URL);
    // The base64url run stops at a byte that is neither base64url nor a dot: when that byte is
    // not of the standard alphabet either, the loose run stops there too, and is the same.
    let stop = strict.end(strict.count - 1);
    if text.get(stop).copied().is_some_and(is_base64_loose) {
        let loose = Segments::walk(text, start, LOOSE);
        // `stop` is the loose run's first byte outside base64url (other than dots).
        if let Some(end) = loose.token_end(text)
            && (stop < loose.end(1) || text[loose.end(1)..end].iter().any(|&b| matches!(b, b'+' | b'=')))
        {
            return Some(end);
        }
    }
    strict.token_end(text)
}

/// The dot-separated runs of a candidate: where the first five and the last two end, all that
/// its shape needs, without allocating.
struct Segments {
    count: usize,
    first: [usize; 5],
    last: [usize; 2],
}

impl Segments {
    fn walk(text: &[u8], start: usize, class: u8) -> Self {
        let mut segments = Segments { count: 0, first: [0; 5], last: [0; 2] };
        let mut from = start;
        loop {
            let end = run_end(text, from, class);
            if let Some(slot) = segments.first.get_mut(segments.count) {
                *slot = end;
            }
            segments.last = [segments.last[1], end];
            segments.count += 1;
            if text.get(end) != Some(&b'.') {
                return segments;
            }
            from = end + 1;
        }
    }

    /// Where segment `k` ends: one of the first five or the last two.
    fn end(&self, k: usize) -> usize {
        if k < self.first.len() { self.first[k] } else { self.last[k + 2 - self.count] }
    }

    /// A JWS has 3 segments, a JWE 5 (the second may be empty); a JWS-looking run of 4 or more is
    /// taken whole, as malformed. One trailing empty segment is a full stop, not part of it.
    fn token_end(&self, text: &[u8]) -> Option<usize> {
        let segment = |k: usize| &text[self.end(k - 1) + 1..self.end(k)];
        if self.count == 5 && (2..5).all(|k| !segment(k).is_empty()) {
            return Some(self.end(4));
        }
        let mut count = self.count;
        if count > 3 && segment(count - 1).is_empty() {
            count -= 1;
        }
        (count >= 3 && segment(1).starts_with(b"eyJ")).then(|| self.end(count - 1))
    }
}

/// The HTTP request of a HAR entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Request {
    pub method: String,
    pub url: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    const JWS: &str = "eyJhbGciOiJub25lIn0.eyJhbXIiOlsicHdkIl19.c2ln";

    #[test]
    fn finds_tokens_in_text() {
        let line = format!("> Authorization: Bearer {JWS}\r\n");
        assert_eq!(tokens(line.as_bytes()), [JWS]);
        let json = format!("{{\"access_token\":\"{JWS}\",\"id\":\"x{JWS}\"}}");
        assert_eq!(tokens(json.as_bytes()), [JWS], "a token inside a base64url run is not a token");
        let sentence = format!("token={JWS}. Then cookie=a;b={JWS};");
        assert_eq!(tokens(sentence.as_bytes()), [JWS, JWS]);
    }

    #[test]
    fn unsigned_tokens_keep_their_trailing_dot() {
        assert_eq!(tokens(b"x eyJhbGciOiJub25lIn0.eyJhIjoxfQ. y"), ["eyJhbGciOiJub25lIn0.eyJhIjoxfQ."]);
    }

    #[test]
    fn jwe_has_five_segments_with_an_optional_key() {
        assert_eq!(tokens(b"eyJhbGciOiJkaXIifQ..aXY.Y3Q.dGFn,"), ["eyJhbGciOiJkaXIifQ..aXY.Y3Q.dGFn"]);
    }

    #[test]
    fn docs_samples_are_candidates() {
        let padded = b"token: eyJhbGciOiJub25lIn0=.eyJhIjoxfQ==.c2ln rest";
        assert_eq!(tokens(padded), ["eyJhbGciOiJub25lIn0=.eyJhIjoxfQ==.c2ln"]);
        let path = b"GET /x/eyJhbGciOiJub25lIn0.eyJhIjoxfQ.c2ln/more";
        assert_eq!(tokens(path), ["eyJhbGciOiJub25lIn0.eyJhIjoxfQ.c2ln"]);
    }

    #[test]
    fn malformed_candidates_are_taken_whole() {
        assert_eq!(tokens(format!("x {JWS}.dGFn y").as_bytes()), [format!("{JWS}.dGFn")]);
        assert_eq!(tokens(format!("x {JWS}.a.b.c. y").as_bytes()), [format!("{JWS}.a.b.c")]);
        assert_eq!(tokens(format!("x {JWS}+x= y").as_bytes()), [format!("{JWS}+x=")]);
        assert_eq!(tokens(format!("x {JWS}== y").as_bytes()), [format!("{JWS}==")]);
        // A full stop, a URL path and a query go on being text after the token.
        assert_eq!(tokens(format!("saw {JWS}. Then /x/{JWS}/y ?t={JWS}&u=a+b").as_bytes()), [JWS, JWS, JWS]);
    }

    #[test]
    fn near_misses_are_not_tokens() {
        assert!(tokens(b"eyJmb28iOjF9. a sentence").is_empty());
        assert!(tokens(b"eyJmb28iOjF9.json.gz").is_empty(), "the payload must be a JSON object too");
        assert!(tokens(b"eyJ").is_empty());
        assert!(tokens(b"eyJ.eyJ").is_empty());
        assert!(tokens("é eyJ.é".as_bytes()).is_empty());
    }

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

    /// The search as first written (byte by byte, a vector of segment ends per candidate): the
    /// table-driven one must find exactly what it finds.
    mod reference {
        fn is_base64url(b: u8) -> bool {
            b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
        }

        fn is_base64_loose(b: u8) -> bool {
            is_base64url(b) || matches!(b, b'+' | b'/' | b'=')
        }

        fn run_end(text: &[u8], from: usize, alphabet: fn(u8) -> bool) -> usize {
            from + text[from..].iter().take_while(|&&b| alphabet(b)).count()
        }

        pub fn tokens(text: &[u8]) -> Vec<&str> {
            let mut found = Vec::new();
            let mut i = 0;
            while let Some(offset) = find_start(&text[i..]) {
                let start = i + offset;
                match token_end(text, start) {
                    Some(end) => {
                        found.push(std::str::from_utf8(&text[start..end]).unwrap());
                        i = end;
                    }
                    None => i = start + 3,
                }
            }
            found
        }

        fn find_start(text: &[u8]) -> Option<usize> {
            let mut from = 0;
            while let Some(at) = memchr::memmem::find(&text[from..], b"eyJ") {
                let at = from + at;
                if at == 0 || !is_base64url(text[at - 1]) {
                    return Some(at);
                }
                from = at + 3;
            }
            None
        }

        fn token_end(text: &[u8], start: usize) -> Option<usize> {
            if let Some(end) = token_end_in(text, start, is_base64_loose) {
                let mut segments = text[start..end].split(|&b| b == b'.');
                let head_and_payload = segments.next().into_iter().chain(segments.next());
                if head_and_payload.flatten().any(|&b| !is_base64url(b)) {
                    return Some(end);
                }
                if segments.flatten().any(|&b| matches!(b, b'+' | b'=')) {
                    return Some(end);
                }
            }
            token_end_in(text, start, is_base64url)
        }

        fn token_end_in(text: &[u8], start: usize, alphabet: fn(u8) -> bool) -> Option<usize> {
            let mut ends = vec![run_end(text, start, alphabet)];
            loop {
                let last = *ends.last().unwrap();
                if text.get(last) != Some(&b'.') {
                    break;
                }
                ends.push(run_end(text, last + 1, alphabet));
            }
            let segment = |k: usize| &text[ends[k - 1] + 1..ends[k]];
            if ends.len() == 5 && (2..5).all(|k| !segment(k).is_empty()) {
                return Some(ends[4]);
            }
            let mut count = ends.len();
            if count > 3 && segment(count - 1).is_empty() {
                count -= 1;
            }
            (count >= 3 && segment(1).starts_with(b"eyJ")).then(|| ends[count - 1])
        }
    }

    proptest::proptest! {
        /// Text made of the pieces a token's shape turns on (its start, dots, both alphabets,
        /// separators), in any order and length.
        #[test]
        fn the_search_finds_what_the_first_one_found(pieces in proptest::collection::vec(
            proptest::sample::select(vec!["eyJ", "eyJhbGciOiJub25lIn0", ".", ".", "..", "a", "Zm9v", "AbCdEfGh12345678", "-_", "+", "/", "=", "==", " ", "\n", "x", "\u{e9}"]),
            0..60,
        )) {
            let text: String = pieces.concat();
            proptest::prop_assert_eq!(tokens(text.as_bytes()), reference::tokens(text.as_bytes()), "{:?}", text);
        }

        #[test]
        fn the_search_agrees_on_any_bytes(text in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
            proptest::prop_assert_eq!(tokens(&text), reference::tokens(&text));
        }
        #[test]
        fn any_bytes_scan_without_panic_and_yield_only_token_shapes(text in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
            for token in tokens(&text) {
                proptest::prop_assert!(token.starts_with("eyJ"));
                proptest::prop_assert!(token.bytes().all(|b| is_base64_loose(b) || b == b'.'));
                proptest::prop_assert!(token.matches('.').count() >= 2);
            }
        }

        #[test]
        fn a_token_between_separators_is_found(before in "[ -~&&[^A-Za-z0-9_-]]{0,3}[ -~]{0,20}[ =:\"'(,;]", after in "([ \"'&;,)\r\n][ -~]{0,20}|\\. [ -~]{0,20})?") {
            let text = format!("{before}{JWS}{after}");
            let found = tokens(text.as_bytes());
            proptest::prop_assert!(found.contains(&JWS), "{text:?} gave {found:?}");
        }
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
