//! One stream's lines: the [`Chunker`] cuts it into chunks of whole lines as they arrive, and
//! [`Lines`] turns each line into an item (a token, or why there is none). Every engine reads a
//! stream with these two: the serial one chunk after chunk in one thread, the parallel one on
//! several, each chunk with its own [`Lines`]. So a rule about lines is written here once.
//!
//! Rules that span lines (a JSON wrapper, a token folded over lines) need one [`Lines`] to see
//! the lines in order: a chunk where one may start says so ([`Chunk::needs_order`]) and the
//! parallel engine hands it, and the rest of the stream, to the serial one.

use super::fold::{continues_fold, goes_on, starts_fold};
use super::paste::{Wrapper, clean, other_text, parse_wrapper};
use super::{BOM, MAX_JSON_BYTES, MAX_LINE_BYTES, empty_error, not_utf8, scan_instead, too_large, unreadable_error};
use crate::error::{ErrorCode, InputError};
use crossbeam_channel::{Receiver, Sender, bounded};
use std::io::{self, Read};

/// A chunk is cut after this many bytes…
pub const CHUNK_BYTES: usize = 512 << 10;
/// …or lines, whichever comes first (short bad lines make long results).
pub const CHUNK_LINES: usize = 512;

/// A read asks for at least this much, even when the buffer holds most of a chunk already.
const MIN_READ: usize = 64 << 10;

/// Chunk buffers kept for reuse: a fresh buffer per chunk costs page faults on every chunk (the
/// allocator hands memory this large back to the system), a third of the time of a large run.
const SPARES: usize = 16;

/// A stream with a NUL byte within this many bytes from its start is binary, not text.
pub const BINARY_SNIFF: usize = 8 << 10;

/// The one error of a binary stream (`check`'s and `scan`'s).
pub(crate) fn binary_error(name: &str) -> InputError {
    let message =
        format!("{name} is binary (a NUL byte in its first {} KiB), not text with tokens", BINARY_SNIFF >> 10);
    InputError::new(ErrorCode::Binary, message)
}

/// A piece of a stream.
#[derive(Debug)]
pub enum Chunk {
    /// A stream with a NUL byte in its first [`BINARY_SNIFF`] bytes: nothing more is read of it.
    Binary,
    /// Whole lines (each but the stream's last ends with a newline), from line `first_line`;
    /// `spans`: one may open a JSON object or start a folded token ([`Chunk::needs_order`]).
    Lines { first_line: usize, data: Vec<u8>, spans: bool },
    /// One line over [`MAX_LINE_BYTES`], read past without being kept.
    TooLarge { line: usize },
    /// The stream failed to read: its last piece.
    Failed(io::Error),
}

impl Chunk {
    /// A chunk whose lines may open a JSON object or start a folded token: either may span
    /// chunks, so these are read in order by one [`Lines`].
    pub fn needs_order(&self) -> bool {
        matches!(self, Chunk::Lines { spans: true, .. })
    }
}

/// Cuts a stream into [`Chunk`]s. A chunk is handed out as soon as a read comes back with less
/// than was asked (the writer is slower than us: `tail -f`, a paste), so what has arrived is
/// checked before the program waits for more; a fast stream makes full chunks.
pub struct Chunker<R> {
    reader: R,
    /// The stream's bytes not yet handed out are `buf[..filled]`; past `filled` it holds bytes
    /// of earlier reads, kept so a read does not zero its room first.
    buf: Vec<u8>,
    filled: usize,
    /// Lines handed out so far.
    lines: usize,
    ended: bool,
    /// The last read filled what it was given: more is probably there already.
    more_waiting: bool,
    failed: Option<io::Error>,
    put_back: Option<Chunk>,
    /// Bytes handed out so far (for the binary sniff of the stream's start).
    offset: usize,
    /// The stream is a terminal in canonical mode (see [`Self::on_terminal`]).
    terminal: bool,
    /// Chunks are cut for a search of their text, not read line by line ([`Self::for_search`]).
    search: bool,
    /// Buffers of chunks done with, for the next chunks ([`Recycler`]).
    spares: (Sender<Vec<u8>>, Receiver<Vec<u8>>),
}

/// Gives the buffers of chunks done with back to their [`Chunker`], from any thread.
#[derive(Clone)]
pub struct Recycler(Sender<Vec<u8>>);

impl Recycler {
    pub fn give(&self, chunk: Chunk) {
        // Its bytes are left in: the next reads overwrite them rather than zero the room first.
        // One grown for a long line is not kept at that size; when enough are kept, it is freed.
        if let Chunk::Lines { data, .. } = chunk
            && data.capacity() <= 2 * CHUNK_BYTES
        {
            let _ = self.0.try_send(data);
        }
    }
}

impl<R: Read> Chunker<R> {
    pub fn new(reader: R) -> Self {
        Chunker {
            reader,
            buf: Vec::with_capacity(CHUNK_BYTES),
            filled: 0,
            lines: 0,
            ended: false,
            more_waiting: true,
            failed: None,
            put_back: None,
            offset: 0,
            terminal: false,
            search: false,
            spares: bounded(SPARES),
        }
    }

    /// Where chunks done with go, so their buffers are used again.
    pub fn recycler(&self) -> Recycler {
        Recycler(self.spares.0.clone())
    }

    /// The stream is a terminal: a read ends only at a newline, or at Ctrl-D, so a read whose
    /// text does not end a line was ended by Ctrl-D, and that ends the input (one Ctrl-D, even
    /// after a paste without Enter; at a line's start Ctrl-D reads nothing, which ends it too).
    pub fn on_terminal(mut self, terminal: bool) -> Self {
        self.terminal = terminal;
        self
    }

    /// The chunks are searched as a whole (`scan`), not read line by line: they are cut by size
    /// alone ([`cut_search`]), as many lines as fit, none of them looked at; a chunk of short lines
    /// then costs the reader no more than one of long lines, and no line is copied twice.
    pub fn for_search(mut self) -> Self {
        self.search = true;
        self
    }

    /// Whether the stream is a terminal ([`Self::on_terminal`]).
    pub fn is_terminal(&self) -> bool {
        self.terminal
    }

    /// Lines handed out so far (a chunk put back is not counted again).
    pub fn lines(&self) -> usize {
        self.lines
    }

    /// Nothing more will come (the stream ended and all of it was handed out).
    pub fn is_done(&self) -> bool {
        self.ended && self.filled == 0 && self.failed.is_none() && self.put_back.is_none()
    }

    /// Hands `chunk` out again next (an engine that cannot take it).
    pub fn put_back(&mut self, chunk: Chunk) {
        self.put_back = Some(chunk);
    }

    pub fn next_chunk(&mut self) -> Option<Chunk> {
        if let Some(chunk) = self.put_back.take() {
            return Some(chunk);
        }
        loop {
            // A NUL byte near the start: binary, one error for the whole stream.
            if self.offset < BINARY_SNIFF {
                let sniff = &self.buf[..self.filled.min(BINARY_SNIFF - self.offset)];
                if memchr::memchr(0, sniff).is_some() {
                    (self.ended, self.offset, self.filled) = (true, BINARY_SNIFF, 0);
                    return Some(Chunk::Binary);
                }
            }
            // The line being read, after the last line end: it may not grow past the limit.
            let filled = &self.buf[..self.filled];
            let last_newline = memchr::memrchr2(b'\n', b'\r', filled);
            let tail = filled.len() - last_newline.map_or(0, |at| at + 1);
            let ready = self.ended || !self.more_waiting || filled.len() >= CHUNK_BYTES || tail > MAX_LINE_BYTES;
            let chunk = match (self.search, ready) {
                // Counted only when handed out: a search's chunk is not looked at line by line.
                (true, true) => cut_search(filled, self.ended),
                (true, false) => None,
                (false, _) => cut(filled, self.ended).filter(|cut| ready || cut.lines == CHUNK_LINES),
            };
            if let Some(Cut { end, lines: count, spans }) = chunk {
                // The next buffer starts with the line not yet whole.
                let rest = end..self.filled;
                let mut next = self.spares.1.try_recv().unwrap_or_else(|_| Vec::with_capacity(CHUNK_BYTES));
                if next.len() < rest.len() {
                    next.resize(rest.len(), 0);
                }
                next[..rest.len()].copy_from_slice(&self.buf[rest.clone()]);
                self.filled = rest.len();
                self.buf.truncate(end);
                let data = std::mem::replace(&mut self.buf, next);
                self.offset += data.len();
                let first_line = self.lines + 1;
                self.lines += count;
                return Some(Chunk::Lines { first_line, data, spans });
            }
            if tail > MAX_LINE_BYTES && last_newline.is_none() {
                // One line over the limit: report it, then read past it without keeping it.
                self.lines += 1;
                self.offset = self.offset.max(BINARY_SNIFF);
                let line = self.lines;
                match skip_line(&mut self.reader) {
                    Ok(rest) => {
                        self.ended |= rest.is_none();
                        self.buf.clear();
                        self.buf.extend_from_slice(rest.as_deref().unwrap_or_default());
                        self.filled = self.buf.len();
                    }
                    Err(e) => {
                        (self.ended, self.failed, self.filled) = (true, Some(e), 0);
                    }
                }
                return Some(Chunk::TooLarge { line });
            }
            if self.ended {
                return self.failed.take().map(Chunk::Failed);
            }
            self.read();
        }
    }

    /// One read, of what a chunk still has room for (no more: growing the buffer copies it).
    fn read(&mut self) {
        let start = self.filled;
        let want = CHUNK_BYTES.saturating_sub(start).max(MIN_READ);
        if self.buf.len() < start + want {
            self.buf.resize(start + want, 0);
        }
        let result = loop {
            match self.reader.read(&mut self.buf[start..start + want]) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => break other,
            }
        };
        match result {
            Ok(n) => {
                self.filled = start + n;
                self.ended = n == 0 || (self.terminal && self.buf[..self.filled].last() != Some(&b'\n'));
                self.more_waiting = n == want;
            }
            Err(e) => {
                (self.ended, self.failed) = (true, Some(e));
            }
        }
    }
}

/// The line ends of `buf`: a line ends at `\n`, `\r\n` or a lone `\r` (old Mac text, some
/// terminals' pastes). Yields (where the line's text ends, where the next line starts). When
/// `complete` is false a `\r` that is the last byte is not yet an end: a `\n` may follow.
pub fn line_ends(buf: &[u8], complete: bool) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut from = 0;
    std::iter::from_fn(move || {
        let at = from + memchr::memchr2(b'\n', b'\r', &buf[from..])?;
        let next = match (buf[at], buf.get(at + 1)) {
            (b'\r', Some(b'\n')) => at + 2,
            (b'\r', None) if !complete => return None,
            _ => at + 1,
        };
        from = next;
        Some((at, next))
    })
}

/// A chunk's place in a buffer ([`cut`]).
#[derive(Debug, PartialEq, Eq)]
pub struct Cut {
    /// Where the chunk ends.
    pub end: usize,
    /// Its number of lines.
    pub lines: usize,
    /// A line of it `may_span`.
    pub spans: bool,
}

/// Where a chunk in `buf` ends: after its last whole line within [`CHUNK_BYTES`] and
/// [`CHUNK_LINES`] (but at least one line), and at the stream's end with its last line even
/// without a line end. `None` when not one whole line is there yet. One pass over the lines
/// says all the reader needs, as it is the one thread every byte goes through.
pub fn cut(buf: &[u8], ended: bool) -> Option<Cut> {
    let mut cut = Cut { end: 0, lines: 0, spans: false };
    for (at, next) in line_ends(buf, ended) {
        if cut.lines == CHUNK_LINES || (cut.lines > 0 && at >= CHUNK_BYTES) {
            return Some(cut);
        }
        cut.spans |= may_span(&buf[cut.end..at]);
        (cut.end, cut.lines) = (next, cut.lines + 1);
    }
    let tail = buf.len() - cut.end;
    if ended && tail > 0 && tail <= MAX_LINE_BYTES {
        cut.spans |= may_span(&buf[cut.end..]);
        Some(Cut { end: buf.len(), lines: cut.lines + 1, spans: cut.spans })
    } else {
        (cut.lines > 0).then_some(cut)
    }
}

/// Where a chunk to search ends ([`Chunker::for_search`]): after the last line end within
/// [`CHUNK_BYTES`] (but at least one line), and at the stream's end with its last line even
/// without a line end. Its lines are counted, not looked at (`spans` is false).
pub fn cut_search(buf: &[u8], ended: bool) -> Option<Cut> {
    let end = if ended && buf.len() <= CHUNK_BYTES {
        buf.len()
    } else {
        let first = || line_ends(buf, ended).next().map(|(_, next)| next);
        match last_line_end(buf, buf.len().min(CHUNK_BYTES), ended).or_else(first) {
            Some(end) => end,
            None if ended && buf.len() <= MAX_LINE_BYTES => buf.len(),
            None => return None,
        }
    };
    let chunk = &buf[..end];
    let unended = chunk.last().is_some_and(|&b| b != b'\n' && b != b'\r');
    (end > 0).then(|| Cut { end, lines: count_line_ends(chunk) + usize::from(unended), spans: false })
}

/// Where the next line starts after the last line end in `buf[..limit]` (a `\r\n` may end just
/// past `limit`); a `\r` last in an incomplete `buf` is not yet an end, as for [`line_ends`].
fn last_line_end(buf: &[u8], limit: usize, complete: bool) -> Option<usize> {
    let at = memchr::memrchr2(b'\n', b'\r', &buf[..limit])?;
    match (buf[at], buf.get(at + 1)) {
        (b'\r', Some(b'\n')) => Some(at + 2),
        (b'\r', None) if !complete => last_line_end(buf, at, complete),
        _ => Some(at + 1),
    }
}

/// The line ends in `text`, as [`line_ends`] finds them in text that ends after a whole line
/// (`\n`, `\r\n`, a lone `\r`): a count over the bytes that vectorises, rather than a call per
/// line; a `\r` is looked at only where there is one.
pub fn count_line_ends(text: &[u8]) -> usize {
    // Byte counters, summed every 255 bytes before they can overflow: 32 bytes a step in SIMD.
    let newlines: usize =
        text.chunks(255).map(|block| usize::from(block.iter().map(|&b| u8::from(b == b'\n')).sum::<u8>())).sum();
    let lone_cr = memchr::memchr_iter(b'\r', text).filter(|&at| text.get(at + 1) != Some(&b'\n')).count();
    newlines + lone_cr
}

/// Whether [`Lines`] may take `line` for the start of a JSON object or a folded token, which may
/// go on past the chunk. Never false when it may: bytes past ASCII at either end may be
/// whitespace that `trim` removes, or a BOM, so such a line may.
fn may_span(line: &[u8]) -> bool {
    let text = line.trim_ascii();
    match (text.first(), text.last()) {
        (Some(b'{'), _) => true,
        (Some(&first), Some(&last)) if first >= 0x80 || last >= 0x80 => true,
        // The grammar's own test; most lines fail its first checks (a JWT's start, two dots).
        _ => text.starts_with(b"eyJ") && std::str::from_utf8(text).is_ok_and(starts_fold),
    }
}

/// Reads past the line that `buf` starts, keeping nothing of it; what follows its newline, or
/// `None` when the stream ends first.
fn skip_line<R: Read>(reader: &mut R) -> io::Result<Option<Vec<u8>>> {
    let mut block = vec![0; 1 << 16];
    loop {
        let n = match reader.read(&mut block) {
            Ok(0) => return Ok(None),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if let Some(at) = memchr::memchr2(b'\n', b'\r', &block[..n]) {
            if block[at] == b'\r' && at + 1 == n {
                // A `\r\n` may be cut between two reads: its `\n` is not another line.
                let mut next = [0u8; 1];
                return match read_some(reader, &mut next)? {
                    0 => Ok(None),
                    _ if next[0] == b'\n' => Ok(Some(Vec::new())),
                    _ => Ok(Some(next.to_vec())),
                };
            }
            let rest = if block[at] == b'\r' && block[at + 1] == b'\n' { at + 2 } else { at + 1 };
            return Ok(Some(block[rest..n].to_vec()));
        }
    }
}

fn read_some<R: Read>(reader: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match reader.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

/// How deep a JSON text is, fed line by line without keeping it: where a wrapper ends, so that
/// it is parsed once it may be whole, and an oversized one is skipped to its end.
#[derive(Debug, Default, Clone, Copy)]
struct Depth {
    depth: i64,
    in_string: bool,
    escaped: bool,
}

impl Depth {
    fn feed(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if self.in_string {
                match (self.escaped, b) {
                    (true, _) => self.escaped = false,
                    (false, b'\\') => self.escaped = true,
                    (false, b'"') => self.in_string = false,
                    _ => {}
                }
            } else {
                match b {
                    b'"' => self.in_string = true,
                    b'{' | b'[' => self.depth += 1,
                    b'}' | b']' => self.depth -= 1,
                    _ => {}
                }
            }
        }
    }

    /// Every bracket opened has been closed.
    fn closed(&self) -> bool {
        self.depth <= 0 && !self.in_string
    }
}

/// A JSON object being gathered over several lines.
#[derive(Debug)]
struct Pending {
    /// The line it opens on.
    start: usize,
    text: String,
    depth: Depth,
    /// Its length when last parsed: parsing again only once it doubled (or may be whole) keeps
    /// a long wrapper linear.
    parsed_at: usize,
}

/// The grammar of a stream's lines: one token per non-empty line, cleaned; a line that opens a
/// JSON object not closed on that line gathers the following lines until it is (a pretty-printed
/// `az` output); a token folded over lines (any width, see [`super::fold`]) is joined, its source
/// naming the range (`NAME:3-5`); a line of other text (a curl command, HTTP headers) is an error
/// that points to `mfacheck scan`. Items go to `each(source, token)`, `source` being `NAME:LINE`.
pub struct Lines<'n> {
    name: &'n str,
    line_no: usize,
    /// A JSON object being gathered.
    pending: Option<Pending>,
    /// An oversized JSON object, reported already, read past to its end.
    skipping: Option<Depth>,
    /// A folded token being joined: its first line, its width and its text so far.
    fold: Option<(usize, usize, String)>,
    /// The stream was binary: nothing more is read of it.
    binary: bool,
    emitted: bool,
    /// Reused for each item's source.
    source: String,
    /// The stream is a terminal, whose line discipline passes at most [`TERMINAL_LINE_MAX`]
    /// characters of a typed line and drops the rest.
    terminal: bool,
}

/// The longest line a Linux terminal in canonical mode passes on (4,096 bytes with its newline):
/// a longer paste arrives cut, and the rest of it is lost.
pub const TERMINAL_LINE_MAX: usize = 4095;

impl<'n> Lines<'n> {
    /// The grammar for `name`, from the line after `lines_before`.
    pub fn new(name: &'n str, lines_before: usize) -> Self {
        Lines {
            name,
            line_no: lines_before,
            pending: None,
            skipping: None,
            fold: None,
            binary: false,
            emitted: false,
            source: String::new(),
            terminal: false,
        }
    }

    /// The stream is a terminal (see [`TERMINAL_LINE_MAX`]).
    pub fn from_terminal(mut self, terminal: bool) -> Self {
        self.terminal = terminal;
        self
    }

    /// Counts items given elsewhere (by another engine) for this stream's `empty` rule.
    pub fn already_emitted(&mut self, emitted: bool) {
        self.emitted |= emitted;
    }

    /// The items of one chunk.
    pub fn chunk(
        &mut self,
        chunk: &Chunk,
        each: &mut impl FnMut(&str, Result<&str, InputError>) -> io::Result<()>,
    ) -> io::Result<()> {
        match chunk {
            Chunk::Lines { first_line, data, .. } => {
                self.line_no = first_line - 1;
                let mut start = 0;
                for (end, next) in line_ends(data, true) {
                    self.line(&data[start..end], each)?;
                    start = next;
                }
                if start < data.len() {
                    self.line(&data[start..], each)?;
                }
                Ok(())
            }
            Chunk::TooLarge { line } => {
                self.line_no = *line;
                self.emit(*line, Err(too_large(*line)), each)
            }
            Chunk::Failed(e) => {
                self.emitted = true;
                each(self.name, Err(unreadable_error(self.name, e)))
            }
            Chunk::Binary => {
                self.binary = true;
                self.fold = None;
                self.pending = None;
                self.emitted = true;
                each(self.name, Err(binary_error(self.name)))
            }
        }
    }

    /// One line, without its newline.
    fn line(
        &mut self,
        mut bytes: &[u8],
        each: &mut impl FnMut(&str, Result<&str, InputError>) -> io::Result<()>,
    ) -> io::Result<()> {
        self.line_no += 1;
        let line_no = self.line_no;
        if self.binary {
            return Ok(());
        }
        if line_no == 1 {
            bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
        }
        if bytes.len() > MAX_LINE_BYTES {
            return self.emit(line_no, Err(too_large(line_no)), each);
        }
        if self.terminal && bytes.len() >= TERMINAL_LINE_MAX {
            // Judging what is left would judge a cut token (or call it malformed): say what happened.
            let message = format!(
                "line {line_no} is {} characters, the most a terminal passes in one line: a longer paste \
                 was cut. Save the token to a file and run `mfacheck check @FILE`, or pipe it in \
                 (e.g. `pbpaste | mfacheck check`, `xclip -o | mfacheck check`)",
                bytes.len()
            );
            return self.emit(line_no, Err(InputError::new(ErrorCode::TooLarge, message)), each);
        }
        // Lines are ASCII but for the odd bad one: the SIMD check first, std's to say where.
        let line = match simdutf8::basic::from_utf8(bytes).or_else(|_| std::str::from_utf8(bytes)) {
            Ok(line) => line,
            Err(e) => return self.emit(line_no, Err(not_utf8(line_no, e)), each),
        };
        if let Some(depth) = &mut self.skipping {
            depth.feed(line.as_bytes());
            if depth.closed() {
                self.skipping = None;
            }
            return Ok(());
        }
        if let Some(mut p) = self.pending.take() {
            p.text.push_str(line);
            p.text.push('\n');
            p.depth.feed(line.as_bytes());
            let parse = p.depth.closed() || p.text.len() >= 2 * p.parsed_at || p.text.len() > MAX_JSON_BYTES;
            let parsed = if parse {
                p.parsed_at = p.text.len();
                parse_wrapper(&p.text)
            } else {
                Wrapper::Incomplete
            };
            return match parsed {
                Wrapper::Complete(token) => self.emit(p.start, token.as_deref().map_err(Clone::clone), each),
                Wrapper::Incomplete if p.text.len() > MAX_JSON_BYTES => {
                    // One error for the object: the rest of it is read past, not taken for tokens.
                    let start = p.start;
                    if !p.depth.closed() {
                        self.skipping = Some(p.depth);
                    }
                    let message = format!(
                        "JSON object opened on line {start} is larger than {MAX_JSON_BYTES} bytes (the rest of it is skipped)"
                    );
                    self.emit(start, Err(InputError::new(ErrorCode::TooLarge, message)), each)
                }
                Wrapper::Incomplete => {
                    self.pending = Some(p);
                    Ok(())
                }
            };
        }
        let text = line.trim();
        if let Some((start, width, mut joined)) = self.fold.take() {
            if continues_fold(&joined, text) {
                joined.push_str(text);
                if goes_on(width, text.len()) {
                    self.fold = Some((start, width, joined));
                    return Ok(());
                }
                return self.emit_range(start, line_no, Ok(&joined), each);
            }
            // The fold ends before this line: what was gathered is one item.
            self.emit_range(start, line_no - 1, Ok(&joined), each)?;
        }
        if text.is_empty() {
            return Ok(());
        }
        if starts_fold(text) {
            self.fold = Some((line_no, text.len(), text.to_owned()));
            return Ok(());
        }
        if text.starts_with('{') {
            return match parse_wrapper(text) {
                Wrapper::Complete(token) => self.emit(line_no, token.as_deref().map_err(Clone::clone), each),
                Wrapper::Incomplete => {
                    let mut depth = Depth::default();
                    depth.feed(line.as_bytes());
                    let text = format!("{line}\n");
                    self.pending = Some(Pending { start: line_no, parsed_at: text.len(), text, depth });
                    Ok(())
                }
            };
        }
        let token = clean(text);
        // Tokens have no spaces: only then can the line be other text that holds one.
        if super::paste::has_whitespace(token)
            && let Some(what) = other_text(token)
        {
            return self.emit(line_no, Err(scan_instead(line_no, what)), each);
        }
        // `token=eyJ…`, `?access_token=eyJ…`: a token further in (most lines start with it).
        if !token.starts_with("eyJ") && super::paste::holds_token(token) {
            return self.emit(line_no, Err(scan_instead(line_no, "text with a token in it")), each);
        }
        self.emit(line_no, Ok(token), each)
    }

    /// The end of the stream: a JSON object left open, or no item at all, is one.
    pub fn finish(mut self, each: &mut impl FnMut(&str, Result<&str, InputError>) -> io::Result<()>) -> io::Result<()> {
        if let Some((start, _, joined)) = self.fold.take() {
            self.emit_range(start, self.line_no, Ok(&joined), each)?;
        }
        if let Some(Pending { start, .. }) = self.pending.take() {
            let message = format!("JSON object opened on line {start} is not closed before the end of {}", self.name);
            self.emit(start, Err(InputError::new(ErrorCode::BadJson, message)), each)?;
        }
        if !self.emitted {
            each(self.name, Err(empty_error(self.name)))?;
        }
        Ok(())
    }

    fn emit(
        &mut self,
        line_no: usize,
        token: Result<&str, InputError>,
        each: &mut impl FnMut(&str, Result<&str, InputError>) -> io::Result<()>,
    ) -> io::Result<()> {
        self.emit_range(line_no, line_no, token, each)
    }

    /// An item from lines `first` to `last`: `NAME:FIRST`, or `NAME:FIRST-LAST`.
    fn emit_range(
        &mut self,
        first: usize,
        last: usize,
        token: Result<&str, InputError>,
        each: &mut impl FnMut(&str, Result<&str, InputError>) -> io::Result<()>,
    ) -> io::Result<()> {
        self.emitted = true;
        // `NAME:LINE` without formatting machinery: this runs once per token of a large batch.
        self.source.clear();
        self.source.push_str(self.name);
        self.source.push(':');
        let mut number = itoa::Buffer::new();
        self.source.push_str(number.format(first));
        if last != first {
            self.source.push('-');
            self.source.push_str(number.format(last));
        }
        each(&self.source, token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where [`cut`] ends a chunk, and its lines.
    fn at(buf: &[u8], ended: bool) -> Option<(usize, usize)> {
        cut(buf, ended).map(|cut| (cut.end, cut.lines))
    }

    /// Which lines [`Lines`] may take for the start of something longer than a line.
    #[test]
    fn a_chunk_needs_order_when_a_line_may_open_something_longer() {
        let fold = format!("eyJ{}", "a".repeat(61));
        for (text, spans) in [
            ("a.b.c\nd.e.f\n", false),
            ("a.b.c\n{\"token\": 1\n", true),
            ("a.b.c\n  {\n", true),
            ("log line {\"a\": 1}\n", false),
            ("a.b.c\r{\r", true),
            ("\u{a0}{\n", true),
            ("\u{feff}eyJ\n", true),
            (&format!("{fold}\n"), true),
            (&format!("  {fold}\t\n"), true),
            (&format!("{fold}a\n"), true),
            (&format!("{fold}.a.b\n"), false),
            ("eyJ.a\n", false),
            (&format!("x.y.z\n{fold}"), true),
        ] {
            assert_eq!(cut(text.as_bytes(), true).map(|cut| cut.spans), Some(spans), "{text:?}");
        }
    }

    #[test]
    fn chunks_end_after_whole_lines_within_the_limits() {
        assert_eq!(at(b"", false), None);
        assert_eq!(at(b"", true), None);
        assert_eq!(at(b"abc", false), None, "no whole line yet");
        assert_eq!(at(b"abc", true), Some((3, 1)), "the last line needs no newline");
        assert_eq!(at(b"a\nb\nc", false), Some((4, 2)));
        assert_eq!(at(b"a\nb\nc", true), Some((5, 3)));
        let short = b"x\n".repeat(CHUNK_LINES + 10);
        assert_eq!(at(&short, true), Some((2 * CHUNK_LINES, CHUNK_LINES)));
        let line = [vec![b'y'; 1000], b"\n".to_vec()].concat().repeat(300);
        let (end, lines) = at(&line, false).unwrap();
        assert!(end <= CHUNK_BYTES && end % 1001 == 0 && lines == end / 1001, "{end} {lines}");
        let long = [vec![b'z'; CHUNK_BYTES * 2], b"\n".to_vec()].concat();
        assert_eq!(at(&long, false), Some((long.len(), 1)), "at least one line");
    }

    /// A search's chunks: as many whole lines as fit in [`CHUNK_BYTES`], counted as [`line_ends`]
    /// counts them, a `\r\n` never split, at least one line.
    #[test]
    fn search_chunks_are_cut_by_size_alone() {
        let search = |buf: &[u8], ended| cut_search(buf, ended).map(|cut| (cut.end, cut.lines));
        assert_eq!(search(b"", true), None);
        assert_eq!(search(b"abc", false), None, "no whole line yet");
        assert_eq!(search(b"abc", true), Some((3, 1)));
        assert_eq!(search(b"a\r\nb\rc", false), Some((5, 2)));
        assert_eq!(search(b"a\nb\r", false), Some((2, 1)), "a \\n may follow the \\r");
        assert_eq!(search(b"a\nb\r", true), Some((4, 2)));
        let short = b"x\n".repeat(CHUNK_LINES + 10);
        assert_eq!(search(&short, true), Some((short.len(), CHUNK_LINES + 10)), "no limit of lines");
        let line = [vec![b'y'; 999], b"\r\n".to_vec()].concat().repeat(600);
        assert_eq!(search(&line, false), Some((CHUNK_BYTES / 1001 * 1001, CHUNK_BYTES / 1001)));
        // A `\r\n` across the size limit stays whole, in this chunk.
        let mut edge = vec![b'w'; CHUNK_BYTES + 10];
        edge[CHUNK_BYTES - 1..CHUNK_BYTES + 1].copy_from_slice(b"\r\n");
        assert_eq!(search(&edge, false), Some((CHUNK_BYTES + 1, 1)));
        let long = [vec![b'z'; CHUNK_BYTES * 2], b"\n".to_vec()].concat();
        assert_eq!(search(&long, false), Some((long.len(), 1)), "at least one line");
    }

    proptest::proptest! {
        #[test]
        fn line_ends_are_counted_as_found(text in "[ab\r\n]{0,600}", ended in proptest::bool::ANY) {
            let bytes = text.as_bytes();
            let whole = line_ends(bytes, true).last().map_or(0, |(_, next)| next);
            proptest::prop_assert_eq!(count_line_ends(&bytes[..whole]), line_ends(bytes, true).count());
            if let Some(cut) = cut_search(bytes, ended) {
                let lines = line_ends(&bytes[..cut.end], true).count();
                // A whole line ends it, or the stream's last one without a line end.
                proptest::prop_assert!(line_ends(bytes, ended).any(|(_, next)| next == cut.end) || (ended && cut.end == bytes.len()));
                let unended = !matches!(bytes[..cut.end].last(), Some(b'\n' | b'\r'));
                proptest::prop_assert_eq!(cut.lines, lines + usize::from(unended));
            }
        }
    }

    #[test]
    fn a_lone_cr_ends_a_line_and_crlf_is_one_end() {
        let ends: Vec<_> = line_ends(b"a\rb\r\nc\nd\r", true).collect();
        assert_eq!(ends, [(1, 2), (3, 5), (6, 7), (8, 9)]);
        assert_eq!(line_ends(b"a\r", false).count(), 0, "a \\n may follow");
        assert_eq!(at(b"a\rb\rc", false), Some((4, 2)));
        assert_eq!(at(b"a\rb\r", false), Some((2, 1)));
        assert_eq!(at(b"a\rb\r", true), Some((4, 2)));
    }

    /// A reader that hands out its pieces one read at a time, as a pipe fed slowly does.
    struct Trickle(Vec<&'static [u8]>);

    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() {
                return Ok(0);
            }
            let piece = self.0.remove(0);
            buf[..piece.len()].copy_from_slice(piece);
            Ok(piece.len())
        }
    }

    #[test]
    fn what_has_arrived_is_handed_out_before_reading_more() {
        let mut chunker = Chunker::new(Trickle(vec![b"a.b.c\n", b"d.e", b".f\n"]));
        let first = chunker.next_chunk().unwrap();
        assert!(matches!(&first, Chunk::Lines { first_line: 1, data, .. } if data == b"a.b.c\n"), "{first:?}");
        let second = chunker.next_chunk().unwrap();
        assert!(matches!(&second, Chunk::Lines { first_line: 2, data, .. } if data == b"d.e.f\n"), "{second:?}");
        assert!(chunker.next_chunk().is_none());
    }

    /// A reader that counts what it hands out.
    struct Counting<R>(R, std::rc::Rc<std::cell::Cell<usize>>);

    impl<R: Read> Read for Counting<R> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.0.read(buf)?;
            self.1.set(self.1.get() + n);
            Ok(n)
        }
    }

    /// A chunk is handed out once a chunk's worth is buffered, not after the whole stream has been
    /// read (which held a large file in memory and copied its rest for every chunk).
    #[test]
    fn a_large_stream_is_not_read_ahead_of_its_chunks() {
        let line = [vec![b'e'; 1500], b"\n".to_vec()].concat();
        let text = line.repeat(4000);
        let read = std::rc::Rc::new(std::cell::Cell::new(0));
        let mut chunker = Chunker::new(Counting(&text[..], read.clone()));
        let first = chunker.next_chunk().unwrap();
        assert!(matches!(first, Chunk::Lines { .. }));
        assert!(read.get() <= 2 * CHUNK_BYTES, "read {} bytes for the first chunk", read.get());
        // Buffers given back hold old bytes: none of them may show in the chunks that reuse them.
        let recycler = chunker.recycler();
        let mut seen = Vec::new();
        let mut chunk = Some(first);
        while let Some(Chunk::Lines { data, .. }) = &chunk {
            seen.extend_from_slice(data);
            assert!(data.len() <= CHUNK_BYTES + line.len());
            recycler.give(chunk.take().unwrap());
            chunk = chunker.next_chunk();
        }
        assert!(seen == text, "the chunks are the stream, in order");
    }
}
