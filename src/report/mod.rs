//! The result object of SPEC §2, one per input token, and its renderings: `text` for people,
//! `json` for programs (json, ndjson).

pub mod json;
pub mod text;

use crate::claims::{Claims, app_auth_meaning};
use crate::classify::Kind;
use crate::clock;
use crate::error::InputError;
use crate::exit_status::ExitStatus;
use crate::hotpath::OutcomeView;
use crate::token::Jws;
use crate::verdict::{Finding, Mfa, Response};
use crate::verify::Verification;
use serde::Serialize;
use serde_json::{Map, Value};

/// Output formats shared by `check` and `decode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Ndjson,
}

/// One input's result (SPEC §2). `kind`, `mfa` and `token` are null when `error` is set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    pub source: String,
    pub kind: Option<Kind>,
    pub kind_reason: Option<String>,
    pub mfa: Option<Mfa>,
    pub compliant: bool,
    /// `verified`, `invalid`, `unknown-key` or `not-checked` (no key given, or no token).
    pub signature: Verification,
    /// The `amr` claim as found (null when absent).
    pub amr: Option<Value>,
    pub token: Option<TokenSummary>,
    pub response: Option<Response>,
    pub findings: Vec<Finding>,
    pub error: Option<InputError>,
}

/// The claims worth showing, names reconciled across v1.0 and v2.0, times as RFC 3339.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TokenSummary {
    pub ver: Option<String>,
    pub alg: String,
    pub kid: Option<String>,
    pub aud: Option<String>,
    pub iss: Option<String>,
    pub tid: Option<String>,
    pub app_id: Option<String>,
    /// How the client authenticated (`appidacr`/`azpacr`): public-client, client-secret, certificate.
    pub app_auth: Option<String>,
    pub user: Option<String>,
    pub oid: Option<String>,
    pub idp: Option<String>,
    pub cross_tenant: bool,
    pub scp: Option<String>,
    pub iat: Option<String>,
    pub nbf: Option<String>,
    pub exp: Option<String>,
    pub expired: bool,
    /// `exp` as unix seconds, for phrases such as "expired 3 days ago".
    #[serde(skip)]
    pub exp_unix: Option<i64>,
}

impl TokenSummary {
    pub fn new(jws: &Jws, claims: &Claims, now: i64) -> Self {
        let owned = |s: Option<&str>| s.map(str::to_owned);
        TokenSummary {
            ver: owned(claims.ver),
            alg: jws.alg().to_owned(),
            kid: owned(jws.header.get("kid").and_then(Value::as_str)),
            aud: owned(claims.aud),
            iss: owned(claims.iss),
            tid: owned(claims.tid),
            app_id: owned(claims.app_id),
            app_auth: claims.app_auth.map(|v| app_auth_meaning(v).map_or(v.to_owned(), |m| m.replace(' ', "-"))),
            user: owned(claims.user),
            oid: owned(claims.oid),
            idp: owned(claims.idp),
            cross_tenant: claims.cross_tenant(),
            scp: owned(claims.scp),
            iat: claims.iat.and_then(clock::rfc3339),
            nbf: claims.nbf.and_then(clock::rfc3339),
            exp: claims.exp.and_then(clock::rfc3339),
            expired: claims.exp.is_some_and(|exp| now >= exp),
            exp_unix: claims.exp,
        }
    }
}

impl Outcome {
    pub fn failed(source: String, error: InputError) -> Self {
        Outcome {
            source,
            kind: None,
            kind_reason: None,
            mfa: None,
            compliant: false,
            signature: Verification::not_checked(),
            amr: None,
            token: None,
            response: None,
            findings: Vec::new(),
            error: Some(error),
        }
    }

    pub fn exit_status(&self) -> ExitStatus {
        if self.error.is_some() {
            ExitStatus::Error
        } else if self.compliant {
            ExitStatus::Compliant
        } else {
            ExitStatus::NonCompliant
        }
    }
}

/// One input's header and claims, for `decode`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decoded {
    pub source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header: Option<Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claims: Option<Map<String, Value>>,
    /// Present only when a key was given (`--jwks`, `--key`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<Verification>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<InputError>,
}

impl Decoded {
    /// 2 for an input that is not a token, 1 for a signature check that failed, else 0.
    pub fn exit_status(&self) -> ExitStatus {
        if self.error.is_some() {
            ExitStatus::Error
        } else if self.signature.as_ref().is_some_and(Verification::failed) {
            ExitStatus::NonCompliant
        } else {
            ExitStatus::Compliant
        }
    }
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
}

/// How many results of each outcome were printed, for the text summary.
#[derive(Debug, Default, Clone, Copy)]
pub struct Tally {
    pub total: usize,
    pub compliant: usize,
    pub non_compliant: usize,
    pub errors: usize,
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
        Printer { out, format, quiet, now, redact: false, tally: Tally::default(), explain: false }
    }

    /// Masks personal data (see [`crate::redact`]) in everything this printer writes.
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
        (!self.quiet).then_some(first)
    }

    pub fn outcome(&mut self, outcome: &Outcome) -> std::io::Result<()> {
        let Some(first) = self.count(outcome.exit_status()) else { return Ok(()) };
        let masked;
        let outcome = if self.redact {
            masked = crate::redact::outcome(outcome);
            &masked
        } else {
            outcome
        };
        match self.format {
            Format::Text => text::outcome(&mut self.out, outcome, self.now, first),
            Format::Json => json::array_item(&mut self.out, outcome, first),
            Format::Ndjson => json::line(&mut self.out, outcome),
        }
    }

    /// [`Self::outcome`] for the hot path's borrowed result.
    pub fn outcome_view(&mut self, view: &OutcomeView) -> std::io::Result<()> {
        if self.redact {
            return self.outcome(&view.to_outcome());
        }
        let status = if view.compliant { ExitStatus::Compliant } else { ExitStatus::NonCompliant };
        let Some(first) = self.count(status) else { return Ok(()) };
        match self.format {
            Format::Text => text::outcome(&mut self.out, &view.to_outcome(), self.now, first),
            Format::Json => json::array_item(&mut self.out, view, first),
            Format::Ndjson => {
                view.write_json(&mut self.out)?;
                self.out.write_all(b"\n")
            }
        }
    }

    /// Writes what another printer of the same format rendered (a chunk of a batch, checked in
    /// another thread), as if its results had been printed here.
    pub fn append(&mut self, rendered: &[u8], tally: Tally) -> std::io::Result<()> {
        let continuing = self.tally.total > 0;
        self.tally.merge(tally); // counted even if the write fails, as `outcome` does
        if !self.quiet && tally.total > 0 {
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
        Printer { explain: self.explain, ..Printer::new(out, self.format, self.quiet, self.now).redacting(self.redact) }
    }

    /// The writer and the tally, without closing (see [`Self::append`]).
    pub fn into_parts(self) -> (W, Tally) {
        (self.out, self.tally)
    }

    pub fn decoded(&mut self, decoded: &Decoded) -> std::io::Result<()> {
        let Some(first) = self.count(decoded.exit_status()) else { return Ok(()) };
        let masked;
        let decoded = if self.redact {
            masked = crate::redact::decoded(decoded);
            &masked
        } else {
            decoded
        };
        match self.format {
            Format::Text => {
                text::decoded(&mut self.out, decoded, first)?;
                match &decoded.claims {
                    Some(claims) if self.explain => {
                        text::explanation(&mut self.out, &crate::explain::claims(claims, self.now), "")
                    }
                    _ => Ok(()),
                }
            }
            Format::Json => json::array_item(&mut self.out, decoded, first),
            Format::Ndjson => json::line(&mut self.out, decoded),
        }
    }

    /// Closes the json array, or prints the text summary for more than one result.
    pub fn finish(&mut self) -> std::io::Result<()> {
        if !self.quiet {
            match self.format {
                Format::Text => text::summary(&mut self.out, &self.tally)?,
                Format::Json => json::array_end(&mut self.out, self.tally.total == 0)?,
                Format::Ndjson => {}
            }
        }
        self.out.flush()
    }

    pub fn tally(&self) -> Tally {
        self.tally
    }

    /// A `scan` result: the result object with its count and request (issue 5).
    pub fn scanned(&mut self, scanned: &Scanned) -> std::io::Result<()> {
        let Some(first) = self.count(scanned.outcome.exit_status()) else { return Ok(()) };
        let masked;
        let redacted;
        let scanned = if self.redact {
            masked = crate::redact::outcome(scanned.outcome);
            redacted = Scanned { outcome: &masked, ..scanned.clone() };
            &redacted
        } else {
            scanned
        };
        match self.format {
            Format::Text => text::scanned(&mut self.out, scanned, self.now, first),
            Format::Json => json::array_item(&mut self.out, scanned, first),
            Format::Ndjson => json::line(&mut self.out, scanned),
        }
    }

    /// `check --explain`: the claims of the result just printed, explained (text output only).
    pub fn explanation(&mut self, claims: &Map<String, Value>) -> std::io::Result<()> {
        if self.quiet || self.format != Format::Text {
            return Ok(());
        }
        let mut masked;
        let claims = if self.redact {
            masked = claims.clone();
            crate::redact::claims(&mut masked);
            &masked
        } else {
            claims
        };
        text::explanation(&mut self.out, &crate::explain::claims(claims, self.now), "    ")
    }
}

/// A `scan` result: `check`'s result object, how often the token was found, and the HAR request
/// that first carried it (null for text sources).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scanned<'a> {
    #[serde(flatten)]
    pub outcome: &'a Outcome,
    pub count: usize,
    pub request: Option<&'a Request>,
}

/// The HTTP request of a HAR entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Request {
    pub method: String,
    pub url: String,
}
