//! `mfacheck signins`: reads each sign-in export record by record, judges the records of the
//! resource asked for and writes each result as it is decided (SPEC §5).

use crate::error::path_name;
use crate::exit_status::ExitStatus;
use crate::input::signins::{Export, Signin, read};
use crate::judge::signin::{Resource, decide};
use crate::report::signins::{Record, SigninPrinter};
use std::fs::File;
use std::io::{self, BufReader};
use std::path::Path;

/// Reads every input (`-` or none: stdin) and writes the results; the exit status of SPEC §5.
/// A reader that went away (`| head`) ends the run quietly, with the status of what was judged.
pub fn run<W: io::Write>(
    paths: &[std::ffi::OsString],
    resource: &Resource,
    forced: Option<Export>,
    mut printer: SigninPrinter<W>,
) -> io::Result<ExitStatus> {
    let quiet = |e: io::Error, status| if e.kind() == io::ErrorKind::BrokenPipe { Ok(status) } else { Err(e) };
    if let Err(e) = every_input(paths, resource, forced, &mut printer) {
        return quiet(e, printer.status());
    }
    let status = printer.status();
    printer.finish().or_else(|e| quiet(e, status))
}

fn every_input<W: io::Write>(
    paths: &[std::ffi::OsString],
    resource: &Resource,
    forced: Option<Export>,
    printer: &mut SigninPrinter<W>,
) -> io::Result<()> {
    let stdin = [std::ffi::OsString::from("-")];
    let paths = if paths.is_empty() { &stdin[..] } else { paths };
    for path in paths {
        let (name, reader): (String, Box<dyn io::BufRead>) = if path == "-" {
            ("stdin".into(), Box::new(io::stdin().lock()))
        } else {
            let name = path_name(Path::new(path));
            match File::open(path) {
                Ok(file) => (name, Box::new(BufReader::with_capacity(1 << 16, file))),
                Err(e) => {
                    printer.file_error(&name, &format!("cannot read: {e}"))?;
                    continue;
                }
            }
        };
        let mut failed = Ok(());
        let mut seen = false;
        // With --input-format, the first record is read in full to check its spelling; a file
        // of another format is one error, not a record-by-record misreading.
        let checked = std::cell::Cell::new(forced.is_none());
        let mut stopped = false;
        let wanted = |raw: &[u8]| !checked.get() || resource.may_match(raw);
        read(reader, &wanted, &mut |n, record: Result<Option<Signin>, String>| {
            seen = true;
            if failed.is_err() || stopped {
                return;
            }
            let source = format!("{name}:record-{n}");
            if let (Some(forced), Ok(Some(Signin { export: Some(found), .. }))) = (forced, &record)
                && !checked.get()
            {
                checked.set(true);
                if !forced.accepts(*found) {
                    stopped = true;
                    let why = format!(
                        "--input-format {}, but the file reads as a {} export (record {n})",
                        forced.as_str(),
                        found.as_str()
                    );
                    failed = printer.file_error(&name, &why);
                    return;
                }
            }
            // A record that names no resource is an error, unless every resource is judged.
            let record = record.and_then(|r| match r {
                Some(signin) => resource.matches(&signin).map(|wanted| wanted.then_some(signin)),
                None => Ok(None),
            });
            failed = match record {
                Ok(Some(signin)) => {
                    let decision = decide(&signin);
                    printer.record(&Record { source: &source, signin: &signin, decision: Some(&decision), error: None })
                }
                Ok(_) => {
                    printer.skipped();
                    Ok(())
                }
                Err(why) => printer.record(&Record {
                    source: &source,
                    signin: &Signin::default(),
                    decision: None,
                    error: Some(&why),
                }),
            };
        });
        failed?;
        if !seen {
            printer.file_error(&name, "empty: no sign-in record")?;
        }
    }
    Ok(())
}
