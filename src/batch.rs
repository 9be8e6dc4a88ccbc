//! Runs the pipeline over every input in order, streaming: each result is printed as soon as it
//! is made, so memory does not grow with the number of tokens.

use crate::exit_status::ExitStatus;
use crate::input::{self, InputSpec};
use crate::report::Printer;
use crate::verdict::Policy;
use crate::verify::Keys;
use crate::{check_item, decode_item};
use std::io::{self, Write};

/// Checks every input; returns the merged exit status.
pub fn check<W: Write>(specs: &[InputSpec], policy: &Policy, printer: &mut Printer<W>) -> io::Result<ExitStatus> {
    let mut status = ExitStatus::Compliant;
    let read = input::read(specs, &mut |item| {
        let outcome = check_item(item, policy);
        status = status.merge(outcome.exit_status());
        printer.outcome(&outcome)
    });
    finish(read, printer, status)
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

// Issue 5: `check --explain` and `scan`.

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
        let outcome = check_item(item, policy);
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
