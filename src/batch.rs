//! Runs the pipeline over every input in order, streaming, in bounded memory.
//!
//! `check` reads a large stream in chunks of whole lines (at most [`CHUNK_BYTES`] and
//! [`CHUNK_LINES`]), which worker threads check and render into buffers of their own; one writer
//! puts the chunks back in input order. At most [`in_flight`] chunks exist at once, so memory does
//! not grow with the input. A small input (one read's worth), a one-core machine or a stream with
//! JSON wrappers (which may span lines, and so chunks) is checked in the calling thread instead.

use crate::exit_status::ExitStatus;
use crate::hotpath::Checker;
use crate::input::{self, InputSpec, Item, MAX_LINE_BYTES};
use crate::report::{Printer, Tally};
use crate::verdict::Policy;
use crate::verify::Keys;
use crate::{check_token, decode_item};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufReader, Cursor, Read, Write};
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

/// A chunk is cut after this many bytes…
pub const CHUNK_BYTES: usize = 512 << 10;
/// …or lines, whichever comes first (short bad lines make long results).
pub const CHUNK_LINES: usize = 512;
/// Workers at most (the work is CPU-bound; more than the cores only adds switching).
const MAX_WORKERS: usize = 8;
/// Chunks read and not yet written: the bound on memory (5 on two cores: one being read, and per
/// worker one being checked and one done early, waiting for its turn; each at most a chunk, or
/// one line up to the limit, and its results).
pub fn in_flight(workers: usize) -> usize {
    2 * workers + 1
}

/// Checks every input; returns the merged exit status.
pub fn check<W: Write>(specs: &[InputSpec], policy: &Policy, printer: &mut Printer<W>) -> io::Result<ExitStatus> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).min(MAX_WORKERS);
    let mut checker = Checker::new();
    let mut run = || -> io::Result<()> {
        for spec in specs {
            match spec {
                InputSpec::Arg(n, text) => {
                    let item = Item { source: format!("arg:{n}"), token: input::from_text(text) };
                    check_item(&mut checker, item, policy, printer)?;
                }
                InputSpec::Stdin => stream(io::stdin(), "stdin", workers, policy, &mut checker, printer)?,
                InputSpec::File(path) => {
                    let name = path.display().to_string();
                    match File::open(path) {
                        Ok(file) => stream(file, &name, workers, policy, &mut checker, printer)?,
                        Err(e) => check_item(&mut checker, input::unreadable(&name, &e), policy, printer)?,
                    }
                }
            }
        }
        Ok(())
    };
    let read = run();
    let status = printer.tally().status();
    finish(read, printer, status)
}

/// Decodes every input; returns the merged exit status (0, or 2 when any input failed).
/// Decodes every input, verifying signatures when `keys` are given; returns the merged exit
/// status (2 when any input failed, 1 when a signature check failed, else 0).
pub fn decode<W: Write>(specs: &[InputSpec], keys: Option<&Keys>, printer: &mut Printer<W>) -> io::Result<ExitStatus> {
    let mut status = ExitStatus::Compliant;
    let read = input::read(specs, &mut |item| {
        let decoded = decode_item(item, keys);
        status = status.merge(decoded.exit_status());
        printer.decoded(&decoded)
    });
    finish(read, printer, status)
}

/// A reader of our output that went away (`| head`) ends the run quietly with the status so far.
fn finish<W: Write>(read: io::Result<()>, printer: &mut Printer<W>, status: ExitStatus) -> io::Result<ExitStatus> {
    match read.and_then(|()| printer.finish()) {
        Ok(()) => Ok(status),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(status),
        Err(e) => Err(e),
    }
}

/// One item, by the hot path when it can.
fn check_item<W: Write>(
    checker: &mut Checker,
    item: Item,
    policy: &Policy,
    printer: &mut Printer<W>,
) -> io::Result<()> {
    match item.token {
        Ok(token) => check_str(checker, &item.source, &token, policy, printer),
        Err(error) => printer.outcome(&crate::report::Outcome::failed(item.source, error)),
    }
}

fn check_str<W: Write>(
    checker: &mut Checker,
    source: &str,
    token: &str,
    policy: &Policy,
    printer: &mut Printer<W>,
) -> io::Result<()> {
    match checker.check(source, token, policy, |view| printer.outcome_view(view)) {
        Some(written) => written,
        None => printer.outcome(&check_token(source.to_owned(), token, policy)),
    }
}

/// Checks one stream: in chunks on the workers when it is large, else line by line here.
fn stream<R: Read + Send, W: Write>(
    mut reader: R,
    name: &str,
    workers: usize,
    policy: &Policy,
    checker: &mut Checker,
    printer: &mut Printer<W>,
) -> io::Result<()> {
    let mut first = Vec::with_capacity(CHUNK_BYTES);
    let (ended, failed) = fill(&mut reader, &mut first, CHUNK_BYTES);
    if first.starts_with(input::BOM) {
        first.drain(..input::BOM.len());
    }
    let (rest, lines, failed, emitted) = if ended || workers < 2 || memchr::memchr(b'{', &first).is_some() {
        (first, 0, failed, false)
    } else {
        let before = printer.tally().total;
        let (rest, lines, failed) = Parallel { name, workers, policy }.run(&mut reader, first, printer)?;
        if rest.is_empty() && failed.is_none() {
            let emitted = printer.tally().total > before;
            return if emitted { Ok(()) } else { check_item(checker, input::empty(name), policy, printer) };
        }
        (rest, lines, failed, printer.tally().total > before)
    };
    // The rest of the stream, line by line (a read error is the item it always was).
    let tail = Cursor::new(rest).chain(Failed(failed)).chain(reader);
    input::read_lines_from(BufReader::with_capacity(1 << 16, tail), name, lines, emitted, &mut |item| {
        check_item(checker, item, policy, printer)
    })
}

/// Reads until `buf` holds `target` bytes or the stream ends; (ended, the read error if any).
fn fill<R: Read>(reader: &mut R, buf: &mut Vec<u8>, target: usize) -> (bool, Option<io::Error>) {
    let want = target.saturating_sub(buf.len()) as u64;
    match reader.by_ref().take(want).read_to_end(buf) {
        Ok(n) => (n < want as usize, None),
        Err(e) => (true, Some(e)),
    }
}

/// A reader that fails once with a kept error, then ends.
struct Failed(Option<io::Error>);

impl Read for Failed {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        self.0.take().map_or(Ok(0), Err)
    }
}

/// Lines `first_line..` of a stream, or one line over the limit.
struct Work {
    seq: usize,
    first_line: usize,
    data: Vec<u8>,
    too_large: bool,
}

/// A chunk checked and rendered.
struct Done {
    seq: usize,
    data: Vec<u8>,
    rendered: Vec<u8>,
    tally: Tally,
}

struct Parallel<'a> {
    name: &'a str,
    workers: usize,
    policy: &'a Policy,
}

/// What the chunked reading leaves: the bytes to read line by line from (empty at the end), the
/// number of lines done, and a read error to report as the stream's last item.
type Rest = (Vec<u8>, usize, Option<io::Error>);

impl Parallel<'_> {
    /// Checks the stream from `first` on, until it ends or a line opens a JSON object. Reads in
    /// one thread, checks in the workers, writes here (the printer's writer may not leave this
    /// thread: stdout's lock).
    fn run<R: Read + Send, W: Write>(
        &self,
        reader: &mut R,
        first: Vec<u8>,
        printer: &mut Printer<W>,
    ) -> io::Result<Rest> {
        let template = printer.sibling(Vec::new());
        let (work_tx, work_rx) = sync_channel::<Work>(self.workers);
        let work_rx = Mutex::new(work_rx);
        let (done_tx, done_rx) = sync_channel::<Done>(in_flight(self.workers));
        let (free_tx, free_rx) = sync_channel::<Vec<u8>>(in_flight(self.workers));
        let spare = Mutex::new(Vec::<Vec<u8>>::new());
        std::thread::scope(|scope| {
            for _ in 0..self.workers {
                let done_tx = done_tx.clone();
                let (work_rx, spare, template) = (&work_rx, &spare, &template);
                scope.spawn(move || self.work(work_rx, &done_tx, spare, template));
            }
            drop(done_tx);
            let reading = scope.spawn(move || self.read(reader, first, &work_tx, &free_rx));
            // Returning drops the receiving and recycling ends, which stops the workers and the
            // reader; a reader still handing out chunks gets them taken and dropped.
            let written = write_in_order(done_rx, free_tx, printer, &spare);
            if written.is_err() {
                while work_rx.lock().is_ok_and(|rx| rx.recv().is_ok()) {}
            }
            let read = reading.join().unwrap_or_else(|_| Err(io::Error::other("reader thread panicked")));
            written?;
            read
        })
    }

    /// Cuts the stream into chunks and hands them out in order.
    fn read<R: Read>(
        &self,
        reader: &mut R,
        mut buf: Vec<u8>,
        work: &SyncSender<Work>,
        free: &Receiver<Vec<u8>>,
    ) -> io::Result<Rest> {
        let mut allocated = 1;
        let mut next_buffer = || -> Option<Vec<u8>> {
            if allocated < in_flight(self.workers) {
                allocated += 1;
                return Some(Vec::with_capacity(CHUNK_BYTES));
            }
            // A buffer that grew for a long line is not kept at that size.
            free.recv().ok().map(|mut b| {
                if b.capacity() > 2 * CHUNK_BYTES {
                    b = Vec::with_capacity(CHUNK_BYTES);
                }
                b.clear();
                b
            })
        };
        let (mut seq, mut lines, mut ended) = (0, 0, false);
        let closed = || io::Error::new(io::ErrorKind::BrokenPipe, "output closed");
        loop {
            let Some((end, count)) = cut(&buf, ended) else {
                if buf.len() > MAX_LINE_BYTES {
                    // One line over the limit: report it, then read past it without keeping it.
                    lines += 1;
                    let rest = match skip_line(reader) {
                        Ok(rest) => rest,
                        Err(e) => return Ok((Vec::new(), lines, Some(e))),
                    };
                    ended = rest.is_none();
                    work.send(Work { seq, first_line: lines, data: Vec::new(), too_large: true })
                        .map_err(|_| closed())?;
                    seq += 1;
                    buf.clear();
                    buf.extend_from_slice(rest.as_deref().unwrap_or_default());
                } else if ended {
                    return Ok((Vec::new(), lines, None));
                }
                let target = (buf.len() + CHUNK_BYTES).min(MAX_LINE_BYTES + 2);
                let (now_ended, failed) = fill(reader, &mut buf, target);
                if failed.is_some() {
                    return Ok((buf, lines, failed));
                }
                ended |= now_ended;
                continue;
            };
            if memchr::memchr(b'{', &buf[..end]).is_some() {
                return Ok((buf, lines, None)); // JSON wrappers: line by line from here
            }
            let mut next = next_buffer().ok_or_else(closed)?;
            next.extend_from_slice(&buf[end..]);
            buf.truncate(end);
            work.send(Work { seq, first_line: lines + 1, data: buf, too_large: false }).map_err(|_| closed())?;
            (seq, lines) = (seq + 1, lines + count);
            buf = next;
            if !ended && buf.len() < CHUNK_BYTES {
                let (now_ended, failed) = fill(reader, &mut buf, CHUNK_BYTES);
                if failed.is_some() {
                    return Ok((buf, lines, failed));
                }
                ended = now_ended;
            }
        }
    }

    /// A worker: checks chunks and renders them until there are none.
    fn work(
        &self,
        work: &Mutex<Receiver<Work>>,
        done: &SyncSender<Done>,
        spare: &Mutex<Vec<Vec<u8>>>,
        template: &Printer<Vec<u8>>,
    ) {
        let mut checker = Checker::new();
        let mut source = String::new();
        loop {
            let next = work.lock().map(|rx| rx.recv());
            let Ok(Ok(chunk)) = next else { return };
            let rendered = spare.lock().ok().and_then(|mut s| s.pop()).unwrap_or_default();
            let mut printer = template.sibling(rendered);
            let _ = self.check_chunk(&chunk, &mut checker, &mut source, &mut printer);
            let (rendered, tally) = printer.into_parts();
            if done.send(Done { seq: chunk.seq, data: chunk.data, rendered, tally }).is_err() {
                return;
            }
        }
    }

    fn check_chunk<W: Write>(
        &self,
        chunk: &Work,
        checker: &mut Checker,
        source: &mut String,
        printer: &mut Printer<W>,
    ) -> io::Result<()> {
        let mut line_no = chunk.first_line;
        let set_source = |source: &mut String, line_no: usize| {
            source.clear();
            source.push_str(self.name);
            source.push(':');
            let mut digits = [0u8; 20];
            let mut at = digits.len();
            let mut n = line_no;
            loop {
                at -= 1;
                digits[at] = b'0' + (n % 10) as u8;
                n /= 10;
                if n == 0 {
                    break;
                }
            }
            source.extend(digits[at..].iter().map(|&d| char::from(d)));
        };
        if chunk.too_large {
            set_source(source, line_no);
            return printer.outcome(&crate::report::Outcome::failed(source.clone(), input::too_large(line_no)));
        }
        let mut start = 0;
        let data = &chunk.data;
        while start < data.len() {
            let end = memchr::memchr(b'\n', &data[start..]).map_or(data.len(), |at| start + at);
            let line = &data[start..end];
            start = end + 1;
            let this_line = line_no;
            line_no += 1;
            // The limit of the line-by-line reader, so both readers say the same of such a line.
            if line.len() > MAX_LINE_BYTES {
                set_source(source, this_line);
                printer.outcome(&crate::report::Outcome::failed(source.clone(), input::too_large(this_line)))?;
                continue;
            }
            // Lines are ASCII but for the odd bad one: the SIMD check first, std's to say where.
            let text = simdutf8::basic::from_utf8(line).or_else(|_| std::str::from_utf8(line));
            match text {
                Err(e) => {
                    set_source(source, this_line);
                    printer.outcome(&crate::report::Outcome::failed(source.clone(), input::not_utf8(this_line, e)))?;
                }
                Ok(text) => {
                    let text = text.trim();
                    if text.is_empty() {
                        continue;
                    }
                    set_source(source, this_line);
                    check_str(checker, source, input::clean(text), self.policy, printer)?;
                }
            }
        }
        Ok(())
    }
}

/// Where the chunk in `buf` ends, and its number of lines: after its last whole line within
/// [`CHUNK_BYTES`] and [`CHUNK_LINES`] (but at least one line), and at the stream's end with its
/// last line even without a newline. `None` when not one whole line is there yet.
fn cut(buf: &[u8], ended: bool) -> Option<(usize, usize)> {
    let (mut end, mut lines) = (0, 0);
    for at in memchr::memchr_iter(b'\n', buf) {
        if lines == CHUNK_LINES || (lines > 0 && at >= CHUNK_BYTES) {
            return Some((end, lines));
        }
        (end, lines) = (at + 1, lines + 1);
    }
    let tail = buf.len() - end;
    if ended && tail > 0 && tail <= MAX_LINE_BYTES {
        Some((buf.len(), lines + 1))
    } else {
        (lines > 0).then_some((end, lines))
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
        if let Some(at) = memchr::memchr(b'\n', &block[..n]) {
            return Ok(Some(block[at + 1..n].to_vec()));
        }
    }
}

/// The writer: puts chunks back in order, hands their buffers back.
fn write_in_order<W: Write>(
    done: Receiver<Done>,
    free: SyncSender<Vec<u8>>,
    printer: &mut Printer<W>,
    spare: &Mutex<Vec<Vec<u8>>>,
) -> io::Result<()> {
    let mut waiting = BTreeMap::new();
    let mut next = 0;
    for chunk in done {
        waiting.insert(chunk.seq, chunk);
        while let Some(chunk) = waiting.remove(&next) {
            printer.append(&chunk.rendered, chunk.tally)?;
            next += 1;
            let mut rendered = chunk.rendered;
            rendered.clear();
            if let Ok(mut spare) = spare.lock() {
                spare.push(rendered);
            }
            if chunk.data.capacity() > 0 {
                let _ = free.try_send(chunk.data);
            }
        }
    }
    Ok(())
}

/// `check --explain`: as [`check`], with each token's claims explained under its result (text
/// output). For people, so it decodes each token a second time rather than widen [`check`].
pub fn check_explained<W: Write>(
    specs: &[InputSpec],
    policy: &Policy,
    printer: &mut Printer<W>,
) -> io::Result<ExitStatus> {
    let mut status = ExitStatus::Compliant;
    let read = input::read(specs, &mut |item| {
        let claims = item.token.as_deref().ok().and_then(|t| crate::token::decode(t).ok()).map(|jws| jws.claims);
        let outcome = crate::check_item(item, policy);
        status = status.merge(outcome.exit_status());
        printer.outcome(&outcome)?;
        match &claims {
            Some(claims) if outcome.error.is_none() => printer.explanation(claims),
            _ => Ok(()),
        }
    });
    finish(read, printer, status)
}

/// What `scan --summary` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScanSummary {
    pub tokens: usize,
    pub occurrences: usize,
    pub compliant: usize,
    pub non_compliant: usize,
    pub errors: usize,
}

impl std::fmt::Display for ScanSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} tokens found ({} occurrences): {} compliant, {} non-compliant, {} errors",
            self.tokens, self.occurrences, self.compliant, self.non_compliant, self.errors
        )
    }
}

/// `scan`: every distinct token found in `sources`, checked and printed in the order first found.
pub fn scan<W: Write>(
    sources: &[crate::scan::Source],
    policy: &Policy,
    printer: &mut Printer<W>,
    explain: bool,
) -> io::Result<(ExitStatus, ScanSummary)> {
    let findings = crate::scan::scan(sources);
    let occurrences = findings.occurrences;
    let sightings = findings.into_sightings();
    let tokens = sightings.iter().filter(|s| s.token.is_ok()).count();
    let mut status = ExitStatus::Compliant;
    let each = || -> io::Result<()> {
        for sighting in sightings {
            let outcome = match &sighting.token {
                Ok(token) => crate::check_token(sighting.source, token, policy),
                Err(error) => crate::report::Outcome::failed(sighting.source, error.clone()),
            };
            status = status.merge(outcome.exit_status());
            let scanned =
                crate::report::Scanned { outcome: &outcome, count: sighting.count, request: sighting.request.as_ref() };
            printer.scanned(&scanned)?;
            if let (true, Ok(token), None) = (explain, &sighting.token, &outcome.error) {
                let jws = crate::token::decode(token).expect("checked above");
                printer.explanation(&jws.claims)?;
            }
        }
        Ok(())
    };
    let read = each();
    let tally = printer.tally();
    let status = finish(read, printer, status)?;
    let summary = ScanSummary {
        tokens,
        occurrences,
        compliant: tally.compliant,
        non_compliant: tally.non_compliant,
        errors: tally.errors,
    };
    Ok((status, summary))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_end_after_whole_lines_within_the_limits() {
        assert_eq!(cut(b"", false), None);
        assert_eq!(cut(b"", true), None);
        assert_eq!(cut(b"abc", false), None, "no whole line yet");
        assert_eq!(cut(b"abc", true), Some((3, 1)), "the last line needs no newline");
        assert_eq!(cut(b"a\nb\nc", false), Some((4, 2)));
        assert_eq!(cut(b"a\nb\nc", true), Some((5, 3)));
        let short = b"x\n".repeat(CHUNK_LINES + 10);
        assert_eq!(cut(&short, true), Some((2 * CHUNK_LINES, CHUNK_LINES)));
        let line = [vec![b'y'; 1000], b"\n".to_vec()].concat().repeat(300);
        let (end, lines) = cut(&line, false).unwrap();
        assert!(end <= CHUNK_BYTES && end % 1001 == 0 && lines == end / 1001, "{end} {lines}");
        let long = [vec![b'z'; CHUNK_BYTES * 2], b"\n".to_vec()].concat();
        assert_eq!(cut(&long, false), Some((long.len(), 1)), "at least one line");
    }
}
