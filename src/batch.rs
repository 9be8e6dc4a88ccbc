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
