//! The engines: they read inputs, schedule the per-token function ([`Checker::check`]) and hand
//! results to the printer, in input order. They judge nothing. A stream is cut into chunks of
//! whole lines ([`Chunker`]) and every chunk, whichever thread takes it, goes through
//! [`check_chunk`]: on the calling thread for a small input, on `--threads` workers
//! ([`parallel`]) for a large one, and back on the calling thread once a line may open a JSON
//! wrapper (which may span chunks).

pub mod parallel;
pub mod redeem;
pub mod signins;

use crate::error::InputError;
use crate::exit_status::ExitStatus;
use crate::input::lines::{Chunk, Chunker, Lines};
use crate::input::scan::Source;
use crate::input::sightings::Findings;
use crate::input::{self, InputSpec, Item, from_text};
use crate::judge::{Checker, Outcome, Policy, explained};
use crate::report::summary::Key;
use crate::report::{Printer, Repeat, Scanned};
use crate::token::decode_item;
use crate::token::keys::Keys;
use std::io::{self, Read, Write};

/// Checks every input in order; returns the merged exit status. `threads`: workers for a large
/// stream (1: all in this thread).
pub fn check<W: Write>(
    specs: &[InputSpec],
    policy: &Policy,
    threads: usize,
    printer: &mut Printer<W>,
) -> io::Result<ExitStatus> {
    let mut checker = Checker::new();
    let mut run = || -> io::Result<()> {
        for spec in specs {
            match spec {
                InputSpec::Arg(n, text) => {
                    let source = format!("arg:{n}");
                    let token = from_text(text);
                    check_one(&mut checker, &source, token.as_deref().map_err(Clone::clone), policy, printer)?;
                }
                InputSpec::Stdin => stream(input::stdin_chunker(), "stdin", threads, policy, &mut checker, printer)?,
                InputSpec::File(path) => {
                    let name = crate::error::path_name(path);
                    match input::open(path, &name) {
                        Ok(file) => stream(Chunker::new(file), &name, threads, policy, &mut checker, printer)?,
                        Err(error) => printer.outcome(&Outcome::failed(name.as_str(), error))?,
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

/// One stream: on the workers while its chunks may go there, then here.
fn stream<R: Read + Send, W: Write>(
    mut chunks: Chunker<R>,
    name: &str,
    threads: usize,
    policy: &Policy,
    checker: &mut Checker,
    printer: &mut Printer<W>,
) -> io::Result<()> {
    let before = printer.tally().total;
    // A person typing at a terminal needs no workers, and the terminal's line limit is the
    // serial grammar's to report.
    if threads > 1
        && !chunks.is_terminal()
        && let Some(first) = chunks.next_chunk()
    {
        // A stream that fits in one chunk is not worth a thread.
        let small = matches!(first, Chunk::Lines { .. }) && chunks.lines() > 0 && chunks.is_done();
        chunks.put_back(first);
        if !small {
            parallel::run(&mut chunks, name, threads, policy, printer)?;
        }
    }
    let mut lines = Lines::new(name, 0).from_terminal(chunks.is_terminal());
    lines.already_emitted(printer.tally().total > before);
    let recycler = chunks.recycler();
    while let Some(chunk) = chunks.next_chunk() {
        check_chunk(&mut lines, &chunk, checker, policy, printer)?;
        recycler.give(chunk);
        printer.flush()?;
    }
    lines.finish(&mut |source, token| check_one(checker, source, token, policy, printer))
}

/// The worker of every engine: the items of one chunk, checked and printed.
pub fn check_chunk<W: Write>(
    lines: &mut Lines,
    chunk: &Chunk,
    checker: &mut Checker,
    policy: &Policy,
    printer: &mut Printer<W>,
) -> io::Result<()> {
    lines.chunk(chunk, &mut |source, token| check_one(checker, source, token, policy, printer))
}

fn check_one<W: Write>(
    checker: &mut Checker,
    source: &str,
    token: Result<&str, InputError>,
    policy: &Policy,
    printer: &mut Printer<W>,
) -> io::Result<()> {
    match token {
        Ok(token) => checker.check(source, token, policy, |outcome| printer.outcome(outcome)),
        Err(error) => printer.outcome(&Outcome::failed(source, error)),
    }
}

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

/// `check --explain`: as [`check`], with each token's claims explained under its result (text
/// output), decoding each token once, in this thread (it is for people).
pub fn check_explained<W: Write>(
    specs: &[InputSpec],
    policy: &Policy,
    printer: &mut Printer<W>,
) -> io::Result<ExitStatus> {
    let mut status = ExitStatus::Compliant;
    let read = input::read(specs, &mut |item| {
        let explained = explained(item, policy);
        status = status.merge(explained.outcome.exit_status());
        printer.outcome(&explained.outcome)?;
        match &explained.claims {
            Some(claims) => printer.explanation(claims),
            None => Ok(()),
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
        let count = crate::report::text::count;
        write!(
            f,
            "{} found ({}): {} compliant, {} not compliant, {}",
            count(self.tokens, "token"),
            count(self.occurrences, "occurrence"),
            self.compliant,
            self.non_compliant,
            count(self.errors, "error")
        )
    }
}

/// `scan`: every distinct token found in `sources`, checked and printed when first found (after
/// each chunk of a stream, each HAR file), then the counts of those found again.
pub fn scan<W: Write>(
    sources: &[Source],
    policy: &Policy,
    threads: usize,
    printer: &mut Printer<W>,
    explain: bool,
) -> io::Result<(ExitStatus, ScanSummary)> {
    let mut status = ExitStatus::Compliant;
    // Per result written: its count then, and where it counts in `--summary`.
    let mut written: Vec<(usize, Key)> = Vec::new();
    let mut found = Findings::default();
    let mut seen = |found: &mut Findings| -> io::Result<()> {
        for warning in found.warnings.drain(..) {
            eprintln!("mfacheck: warning: {}", crate::report::sanitize::message(warning.as_str()));
        }
        for sighting in &found.sightings()[written.len()..] {
            let item = Item { source: sighting.source.clone(), token: sighting.token.clone() };
            let explained = explained(item, policy);
            let outcome = &explained.outcome;
            status = status.merge(outcome.exit_status());
            written.push((sighting.count, Key::of(outcome)));
            let scanned = Scanned { outcome, count: sighting.count, request: sighting.request.as_ref() };
            printer.scanned(&scanned)?;
            if let (true, Some(claims)) = (explain, &explained.claims) {
                printer.explanation(claims)?;
            }
        }
        printer.flush()
    };
    let read = crate::input::scan::scan(sources, threads, &mut found, &mut seen);
    let repeats: Vec<Repeat> = found
        .sightings()
        .iter()
        .zip(written)
        .enumerate()
        .filter(|(_, (sighting, (count, _)))| sighting.count > *count)
        .map(|(i, (sighting, (count, key)))| Repeat {
            result: i + 1,
            source: sighting.source.clone(),
            count: sighting.count,
            written: count,
            key,
        })
        .collect();
    let read = read.and_then(|()| printer.repeats(&repeats));
    printer.occurrences(found.occurrences);
    let tally = printer.tally();
    let status = finish(read, printer, status)?;
    let tokens = found.sightings().iter().filter(|s| s.token.is_ok()).count();
    let summary = ScanSummary {
        tokens,
        occurrences: found.occurrences,
        compliant: tally.compliant,
        non_compliant: tally.non_compliant,
        errors: tally.errors,
    };
    Ok((status, summary))
}
