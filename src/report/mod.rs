//! Renderings of the results, one module per format: `text` for people, `json` for programs
//! (json, ndjson), `junit` and `github` for CI; `summary` counts them per application; `--redact`
//! is applied at this boundary. The [`Printer`] writes results as they come.

pub mod github;
pub mod json;
pub mod junit;
pub mod redact;
pub mod sanitize;
pub mod signins;
pub mod summary;
pub mod text;

pub use summary::Summary;

use crate::exit_status::ExitStatus;
use crate::input::sightings::Request;
use crate::judge::Outcome;
use crate::token::Decoded;
use serde::Serialize;
use serde_json::{Map, Value};

/// Output formats shared by `check`, `scan` and `decode` (`junit` and `github`: not `decode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    Text,
    Json,
    Ndjson,
    /// JUnit XML: one testcase per token.
    Junit,
    /// GitHub Actions workflow commands (`::error file=…,line=…::…`).
    Github,
}

/// Writes results in one format as they come, and a closing summary where the format has one.
pub struct Printer<W: std::io::Write> {
    out: W,
    format: Format,
    quiet: bool,
    /// The clock, for "expired 3 days ago".
    now: i64,
    /// `--redact`: personal data is masked in everything printed.
    redact: bool,
    tally: Tally,
    /// `--explain`: text output explains each claim.
    explain: bool,
    /// The terminal's width, to wrap text findings to (None: piped, one line per finding).
    width: Option<usize>,
    /// Whether text output is coloured.
    paint: text::Paint,
    /// `--format junit`: test cases held until the counts are known, and the suite's name.
    held: Vec<u8>,
    suite: &'static str,
    /// `--summary`: the per-application counts.
    summary: Option<Summary>,
    /// `scan`: occurrences found, for the closing count line ([`Self::occurrences`]).
    occurrences: Option<usize>,
    /// The progress line on stderr, for long runs.
    progress: Option<Box<dyn Progress>>,
}

/// What shows a long run's progress (the binary's progress line): told the counts as results are
/// written, and when the run ends. `Send + Sync`: the engines share a printer with their workers.
pub trait Progress: Send + Sync {
    fn update(&self, tally: &Tally);
    fn finish(self: Box<Self>);
}

/// How many results of each outcome were printed, for the text summary.
#[derive(Debug, Default, Clone, Copy)]
pub struct Tally {
    pub total: usize,
    pub compliant: usize,
    pub non_compliant: usize,
    pub errors: usize,
    /// Results Partner Center would refuse under the MFA rule (its 401 shown).
    pub mfa_refused: usize,
}

impl Tally {
    /// The exit status of the results counted.
    pub fn status(&self) -> ExitStatus {
        if self.errors > 0 {
            ExitStatus::Error
        } else if self.non_compliant > 0 {
            ExitStatus::NonCompliant
        } else {
            ExitStatus::Compliant
        }
    }

    fn merge(&mut self, other: Tally) {
        self.total += other.total;
        self.compliant += other.compliant;
        self.non_compliant += other.non_compliant;
        self.errors += other.errors;
        self.mfa_refused += other.mfa_refused;
    }

    fn add(&mut self, status: ExitStatus) {
        self.total += 1;
        match status {
            ExitStatus::Compliant => self.compliant += 1,
            ExitStatus::NonCompliant => self.non_compliant += 1,
            ExitStatus::Error => self.errors += 1,
        }
    }
}

impl<W: std::io::Write> Printer<W> {
    pub fn new(out: W, format: Format, quiet: bool, now: i64) -> Self {
        Printer {
            out,
            format,
            quiet,
            now,
            redact: false,
            tally: Tally::default(),
            explain: false,
            width: None,
            paint: text::Paint::default(),
            held: Vec::new(),
            suite: "mfacheck check",
            summary: None,
            occurrences: None,
            progress: None,
        }
    }

    /// Text findings are wrapped to `width` columns (a terminal's).
    pub fn wrapping(mut self, width: Option<usize>) -> Self {
        self.width = width;
        self
    }

    /// Text output in colour (`--color`, decided by the caller).
    pub fn colored(mut self, on: bool) -> Self {
        self.paint = text::Paint::new(on);
        self
    }

    /// The JUnit test suite's name (`mfacheck check`, `mfacheck scan`).
    pub fn suite(mut self, suite: &'static str) -> Self {
        self.suite = suite;
        self
    }

    /// `--summary`: counts results per application.
    pub fn summarizing(mut self, summary: bool) -> Self {
        self.summary = summary.then(Summary::default);
        self
    }

    /// Shows a progress line on stderr (the caller decides when: a terminal, not `--quiet`).
    pub fn with_progress(mut self, progress: Option<Box<dyn Progress>>) -> Self {
        self.progress = progress;
        self
    }

    /// The per-application counts, with `--summary`.
    pub fn summary(&self) -> Option<&Summary> {
        self.summary.as_ref()
    }

    /// Takes the per-application counts (a chunk's, to merge into the writer's).
    pub fn take_summary(&mut self) -> Option<Summary> {
        self.summary.take()
    }

    /// Adds a chunk's per-application counts.
    pub fn merge_summary(&mut self, other: Option<Summary>) {
        if let (Some(mine), Some(other)) = (&mut self.summary, other) {
            mine.merge(other);
        }
    }

    /// Masks personal data (see [`redact`]) in everything this printer writes.
    pub fn redacting(mut self, redact: bool) -> Self {
        self.redact = redact;
        self
    }

    /// `--explain`: in text output, each decoded token's claims are explained under it.
    pub fn with_explain(mut self, explain: bool) -> Self {
        self.explain = explain;
        self
    }

    /// Counts one result; `Some(first)` when it is to be printed (is it the first?), `None` under
    /// `--quiet`.
    fn count(&mut self, status: ExitStatus) -> Option<bool> {
        let first = self.tally.total == 0;
        self.tally.add(status);
        if let Some(progress) = &self.progress
            && self.tally.total.is_multiple_of(4096)
        {
            progress.update(&self.tally);
        }
        (!self.quiet).then_some(first)
    }

    pub fn outcome(&mut self, outcome: &Outcome) -> std::io::Result<()> {
        if let Some(summary) = &mut self.summary {
            summary.add(outcome, 1);
        }
        let Some(first) = self.count(outcome.exit_status()) else { return Ok(()) };
        self.tally.mfa_refused += usize::from(outcome.response.is_some());
        let masked;
        let outcome = if self.redact {
            masked = redact::outcome(outcome);
            &masked
        } else {
            outcome
        };
        match self.format {
            Format::Text => text::outcome(&mut self.out, outcome, self.now, first, self.width, self.paint),
            Format::Json => json::array_item(&mut self.out, outcome, first),
            Format::Ndjson => {
                json::write_outcome(&mut self.out, outcome)?;
                self.out.write_all(b"\n")
            }
            Format::Junit => junit::testcase(&mut self.held, outcome, self.suite, self.now, None),
            Format::Github => github::outcome(&mut self.out, outcome, self.now, None),
        }
    }

    /// Writes what another printer of the same format rendered (a chunk of a batch, checked in
    /// another thread), as if its results had been printed here.
    pub fn append(&mut self, rendered: &[u8], tally: Tally) -> std::io::Result<()> {
        let continuing = self.tally.total > 0;
        self.tally.merge(tally); // counted even if the write fails, as `outcome` does
        if let Some(progress) = &self.progress {
            progress.update(&self.tally);
        }
        if !self.quiet && tally.total > 0 {
            if self.format == Format::Junit {
                self.held.extend_from_slice(rendered);
                return Ok(());
            }
            let body = match (self.format, continuing) {
                // The chunk's first item opened an array ("[\n  ") that is already open here.
                (Format::Json, true) => {
                    self.out.write_all(b",")?;
                    &rendered[1..]
                }
                (Format::Text, true) => {
                    self.out.write_all(b"\n")?;
                    rendered
                }
                _ => rendered,
            };
            self.out.write_all(body)?;
        }
        Ok(())
    }

    /// A new printer of the same format and options, writing to `out`.
    pub fn sibling<V: std::io::Write>(&self, out: V) -> Printer<V> {
        Printer {
            explain: self.explain,
            width: self.width,
            paint: self.paint,
            suite: self.suite,
            summary: self.summary.as_ref().map(|_| Summary::default()),
            ..Printer::new(out, self.format, self.quiet, self.now).redacting(self.redact)
        }
    }

    /// The writer (with the JUnit cases held, if any) and the tally, without closing (see
    /// [`Self::append`]).
    pub fn into_parts(mut self) -> (W, Tally) {
        if !self.held.is_empty() {
            let _ = self.out.write_all(&self.held);
        }
        (self.out, self.tally)
    }

    pub fn decoded(&mut self, decoded: &Decoded) -> std::io::Result<()> {
        let Some(first) = self.count(decoded.exit_status()) else { return Ok(()) };
        let masked;
        let decoded = if self.redact {
            masked = redact::decoded(decoded);
            &masked
        } else {
            decoded
        };
        match self.format {
            Format::Text => {
                text::decoded(&mut self.out, decoded, first, self.paint)?;
                match &decoded.claims {
                    Some(claims) if self.explain => text::explanation(
                        &mut self.out,
                        &crate::judge::explain::claims(claims, self.now),
                        "",
                        self.width,
                        self.paint,
                    ),
                    _ => Ok(()),
                }
            }
            Format::Json => json::array_item(&mut self.out, decoded, first),
            // junit and github are refused for decode on the command line.
            Format::Ndjson | Format::Junit | Format::Github => json::line(&mut self.out, decoded),
        }
    }

    /// Closes the json array, writes the JUnit document, or prints the text summary for more
    /// than one result; with `--summary` and ndjson, its last line.
    pub fn finish(&mut self) -> std::io::Result<()> {
        if let Some(progress) = self.progress.take() {
            progress.finish();
        }
        if !self.quiet {
            match self.format {
                Format::Text => {
                    let line = match (self.occurrences, &self.summary) {
                        (Some(_), Some(_)) => text::CountLine::None,
                        (Some(n), None) => text::CountLine::Occurrences(n),
                        (None, _) => text::CountLine::Tokens,
                    };
                    text::summary(&mut self.out, &self.tally, self.width, line)?
                }
                Format::Json => json::array_end(&mut self.out, self.tally.total == 0)?,
                Format::Ndjson => {
                    if let Some(summary) = &self.summary {
                        summary.ndjson(&mut self.out)?;
                    }
                }
                Format::Junit => junit::document(&mut self.out, self.suite, &self.tally, &self.held)?,
                Format::Github => {}
            }
        }
        self.out.flush()
    }

    /// Writes out what is buffered: done before the engine waits for more input.
    pub fn flush(&mut self) -> std::io::Result<()> {
        if let Some(progress) = &self.progress {
            progress.update(&self.tally);
        }
        self.out.flush()
    }

    pub fn tally(&self) -> Tally {
        self.tally
    }

    /// A `scan` result: the result object with its count and request.
    pub fn scanned(&mut self, scanned: &Scanned) -> std::io::Result<()> {
        if let Some(summary) = &mut self.summary {
            summary.add(scanned.outcome, scanned.count as u64);
        }
        let Some(first) = self.count(scanned.outcome.exit_status()) else { return Ok(()) };
        self.tally.mfa_refused += usize::from(scanned.outcome.response.is_some());
        let masked;
        let request;
        let redacted;
        let scanned = if self.redact {
            masked = redact::outcome(scanned.outcome);
            request = scanned
                .request
                .map(|r| Request { method: r.method.clone(), url: redact::secret_parameters(&r.url).into_owned() });
            redacted = Scanned { outcome: &masked, request: request.as_ref(), ..scanned.clone() };
            &redacted
        } else {
            scanned
        };
        match self.format {
            Format::Text => text::scanned(&mut self.out, scanned, self.now, first, self.width, self.paint),
            Format::Json => json::array_item(&mut self.out, scanned, first),
            Format::Ndjson => json::line(&mut self.out, scanned),
            Format::Junit => junit::testcase(&mut self.held, scanned.outcome, self.suite, self.now, None),
            Format::Github => github::outcome(&mut self.out, scanned.outcome, self.now, None),
        }
    }

    /// A `redeem` result: the result object with what the redemption gave.
    pub fn redeemed(&mut self, redeemed: &Redeemed) -> std::io::Result<()> {
        let Some(first) = self.count(redeemed.outcome.exit_status()) else { return Ok(()) };
        self.tally.mfa_refused += usize::from(redeemed.outcome.response.is_some());
        let masked;
        let redeemed = if self.redact {
            masked = redact::outcome(redeemed.outcome);
            &Redeemed { outcome: &masked, redeem: redeemed.redeem }
        } else {
            redeemed
        };
        match self.format {
            Format::Text => text::redeemed(&mut self.out, redeemed, self.now, first, self.width, self.paint),
            Format::Json => json::array_item(&mut self.out, redeemed, first),
            Format::Ndjson => json::line(&mut self.out, redeemed),
            Format::Junit => {
                let facts = text::redeem_facts(redeemed.redeem);
                junit::testcase(&mut self.held, redeemed.outcome, self.suite, self.now, Some(&facts))
            }
            Format::Github => {
                let facts = text::redeem_facts(redeemed.redeem);
                github::outcome(&mut self.out, redeemed.outcome, self.now, Some(&facts))
            }
        }
    }

    /// `scan`'s closing counts: the tokens found again after their result was written (the
    /// results of a stream are written when first found), as a last item (json, ndjson) or lines
    /// (text), and counted in `--summary`.
    pub fn repeats(&mut self, repeats: &[Repeat]) -> std::io::Result<()> {
        if let Some(summary) = &mut self.summary {
            for r in repeats {
                summary.add_key(&r.key, (r.count - r.written) as u64);
            }
        }
        if self.quiet || repeats.is_empty() {
            return Ok(());
        }
        #[derive(Serialize)]
        struct Repeats<'r> {
            repeats: &'r [Repeat],
        }
        match self.format {
            Format::Text => text::repeats(&mut self.out, repeats),
            Format::Json => json::array_item(&mut self.out, &Repeats { repeats }, self.tally.total == 0),
            Format::Ndjson => json::line(&mut self.out, &Repeats { repeats }),
            Format::Junit | Format::Github => Ok(()),
        }
    }

    /// `scan`: the closing count line names the occurrences too (one count line: under
    /// `--summary` it is the one on stderr, above the table).
    pub fn occurrences(&mut self, occurrences: usize) {
        self.occurrences = Some(occurrences);
    }

    /// `check --explain`: the claims of the result just printed, explained (text output only).
    pub fn explanation(&mut self, claims: &Map<String, Value>) -> std::io::Result<()> {
        if self.quiet || self.format != Format::Text {
            return Ok(());
        }
        let mut masked;
        let claims = if self.redact {
            masked = claims.clone();
            redact::claims(&mut masked);
            &masked
        } else {
            claims
        };
        text::explanation(
            &mut self.out,
            &crate::judge::explain::claims(claims, self.now),
            "    ",
            self.width,
            self.paint,
        )
    }
}

/// A token `scan` found again after its result was written: the result's place (1-based) and
/// source, how many times it was found in all, and where it counts in `--summary`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Repeat {
    pub result: usize,
    pub source: String,
    pub count: usize,
    #[serde(skip)]
    pub written: usize,
    #[serde(skip)]
    pub key: summary::Key,
}

/// A `redeem` result: `check`'s result object and what the redemption gave (SPEC §6).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Redeemed<'s, 'a> {
    #[serde(flatten)]
    pub outcome: &'s Outcome<'a>,
    pub redeem: &'s crate::redeem::RedeemInfo,
}

/// A `scan` result: `check`'s result object, how often the token was found, and the HAR request
/// that first carried it (null for text sources).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scanned<'s, 'a> {
    #[serde(flatten)]
    pub outcome: &'s Outcome<'a>,
    pub count: usize,
    pub request: Option<&'s Request>,
}
