//! The results of `mfacheck signins` in every format of `check`, and its per application and
//! user summary (the shape of Partner Center's MFA adoption report). Decides nothing.

use crate::exit_status::ExitStatus;
use crate::input::signins::Signin;
use crate::judge::signin::{Decision, SigninMfa};
use crate::report::summary::SigninSummary;
use crate::report::text::{count, wrap};
use crate::report::{Format, Tally, github, junit, redact, sanitize};
use serde_json::{Value, json};
use std::io::{self, Write};

/// One record's result: its decision, or why it is not a sign-in record.
pub struct Record<'a> {
    pub source: &'a str,
    pub signin: &'a Signin,
    pub decision: Option<&'a Decision>,
    pub error: Option<&'a str>,
}

pub struct SigninPrinter<W: Write> {
    out: W,
    format: Format,
    quiet: bool,
    redact: bool,
    summary: Option<SigninSummary>,
    /// `--summary`: the table goes to stderr (as `check`'s); without it, text ends with it.
    summary_asked: bool,
    judged: usize,
    refused: usize,
    skipped: usize,
    errors: usize,
    held: Vec<u8>,
    /// A terminal's width: text lines wrap to it, as `check`'s do.
    width: Option<usize>,
}

impl<W: Write> SigninPrinter<W> {
    pub fn new(out: W, format: Format, quiet: bool, redact: bool, summary: bool) -> Self {
        let summary_asked = summary;
        let summary = (summary || (format == Format::Text && !quiet)).then(SigninSummary::default);
        SigninPrinter {
            out,
            format,
            quiet,
            redact,
            summary,
            summary_asked,
            judged: 0,
            refused: 0,
            skipped: 0,
            errors: 0,
            held: Vec::new(),
            width: None,
        }
    }

    pub fn wrapping(mut self, width: Option<usize>) -> Self {
        self.width = width;
        self
    }

    /// `text`, starting at column `lead`, wrapped to the terminal's width (lines after the first
    /// indented by `indent`).
    fn fit<'t>(&self, text: &'t str, lead: usize, indent: usize) -> std::borrow::Cow<'t, str> {
        match self.width {
            Some(width) => wrap(text, lead, indent, width),
            None => std::borrow::Cow::Borrowed(text),
        }
    }

    fn user(&self, s: &Signin) -> Value {
        match &s.user {
            Some(user) if self.redact => Value::String(redact::digest(&Value::String(user.clone()))),
            Some(user) => Value::String(user.clone()),
            None => Value::Null,
        }
    }

    fn object(&self, r: &Record) -> Value {
        let s = r.signin;
        json!({
            "source": r.source, "time": s.time, "signin_type": s.signin_type, "app_id": s.app_id,
            "app_name": s.app_name, "resource_id": s.resource_id, "resource_name": s.resource_name,
            "user": self.user(s), "error_code": s.error_code,
            "authentication_requirement": s.authentication_requirement,
            "mfa": r.decision.map(|d| d.mfa.as_str()), "reason": r.decision.map(|d| d.reason.as_str()),
            "findings": r.decision.map(|d| d.findings.as_slice()).unwrap_or_default(),
            "error": r.error.map(|m| json!({"code": "not-a-signin", "message": m})),
        })
    }

    /// An input that can't be read as a sign-in log at all.
    pub fn file_error(&mut self, name: &str, why: &str) -> io::Result<()> {
        let source = format!("{name}:record-1");
        self.record(&Record { source: &source, signin: &Signin::default(), decision: None, error: Some(why) })
    }

    pub fn skipped(&mut self) {
        self.skipped += 1;
        if let Some(summary) = self.summary.as_mut() {
            summary.skip();
        }
    }

    pub fn record(&mut self, r: &Record) -> io::Result<()> {
        let refused = r.decision.is_some_and(|d| d.mfa.refused());
        match r.decision {
            Some(_) => self.judged += 1,
            None => self.errors += 1,
        }
        self.refused += usize::from(refused);
        if let (Some(summary), Some(d)) = (self.summary.as_mut(), r.decision) {
            let s = r.signin;
            let user = match &s.user {
                Some(u) if self.redact => redact::digest(&Value::String(u.clone())),
                other => other.clone().unwrap_or_default(),
            };
            summary.add(s.app_id.as_deref().unwrap_or_default(), &user, d.mfa, s.time.as_deref());
        }
        if self.quiet {
            return Ok(());
        }
        let object = self.object(r);
        match self.format {
            Format::Ndjson => writeln!(self.out, "{object}")?,
            Format::Json => {
                let sep = if self.judged + self.errors == 1 { "[\n" } else { ",\n" };
                write!(self.out, "{sep}{object}")?;
            }
            Format::Text => {
                let line = match (r.decision, r.error) {
                    (Some(d), _) => format!(
                        "{} {}: {} — {}: {}",
                        // `unknown` is never shown as a pass.
                        match d.mfa {
                            _ if refused => "✘",
                            SigninMfa::Unknown => "?",
                            _ => "✔",
                        },
                        r.source,
                        d.mfa.as_str(),
                        who(r.signin, &object),
                        d.reason
                    ),
                    (None, why) => format!("✘ {}: error: {}", r.source, why.unwrap_or_default()),
                };
                let line = sanitize::printable(&line);
                writeln!(self.out, "{}", self.fit(&line, 0, 4))?;
                for f in r.decision.map(|d| d.findings.as_slice()).unwrap_or_default() {
                    let finding = format!("{} {}: {}", f.level.as_str(), f.code, sanitize::printable(&f.message));
                    writeln!(self.out, "    {}", self.fit(&finding, 4, 8))?;
                }
            }
            Format::Github => {
                if let Some(d) = r.decision.filter(|_| refused) {
                    let message = format!(
                        "{}: {} — {}: {} {}",
                        r.source,
                        d.mfa.as_str(),
                        who(r.signin, &object),
                        d.reason,
                        hints(d).join(" ")
                    );
                    github::command(
                        &mut self.out,
                        "error",
                        r.source,
                        &format!("mfacheck: MFA {}", d.mfa.as_str()),
                        &message,
                    )?;
                } else if let Some(why) = r.error {
                    github::command(
                        &mut self.out,
                        "error",
                        r.source,
                        "mfacheck: not a sign-in record",
                        &format!("{}: {why}", r.source),
                    )?;
                }
            }
            Format::Junit => {
                const SUITE: &str = "mfacheck signins";
                match (r.decision, r.error) {
                    (Some(d), _) if refused => {
                        let message =
                            sanitize::printable(&format!("MFA {} — {}", d.mfa.as_str(), who(r.signin, &object)))
                                .into_owned();
                        // The reason, then a hint a line (each made printable, the line ends kept).
                        let body = std::iter::once(d.reason.clone())
                            .chain(hints(d))
                            .map(|line| sanitize::printable(&line).into_owned())
                            .collect::<Vec<_>>()
                            .join("\n");
                        let kind = d.findings.first().map_or(d.mfa.as_str(), |f| f.code.as_str());
                        let failure = junit::Failure { tag: "failure", kind, message: &message, body: &body };
                        junit::case(&mut self.held, r.source, SUITE, Some(failure), None)?;
                    }
                    (Some(_), _) => junit::case(&mut self.held, r.source, SUITE, None, None)?,
                    (None, why) => {
                        let message = sanitize::printable(why.unwrap_or_default()).into_owned();
                        let failure =
                            junit::Failure { tag: "error", kind: "not-a-signin", message: &message, body: "" };
                        junit::case(&mut self.held, r.source, SUITE, Some(failure), None)?;
                    }
                }
            }
        }
        // Written as decided: a `tail -f` of an export shows each record when it arrives.
        self.out.flush()
    }

    /// Closes the output, writes the summary and returns the exit status.
    pub fn finish(mut self) -> io::Result<ExitStatus> {
        if !self.quiet {
            match self.format {
                Format::Json if self.judged + self.errors == 0 => writeln!(self.out, "[]")?,
                Format::Json => writeln!(self.out, "\n]")?,
                Format::Junit => {
                    let tally = Tally {
                        total: self.judged + self.errors,
                        compliant: self.judged - self.refused,
                        non_compliant: self.refused,
                        errors: self.errors,
                        mfa_refused: self.refused,
                    };
                    junit::document(&mut self.out, "mfacheck signins", &tally, &self.held)?;
                }
                Format::Text => {
                    let counts = format!(
                        "{} judged, {} refused by Partner Center's MFA rule, {} skipped (other resources), {}",
                        count(self.judged, "sign-in"),
                        self.refused,
                        self.skipped,
                        count(self.errors, "error")
                    );
                    writeln!(self.out, "{}", self.fit(&counts, 0, 0))?;
                }
                _ => {}
            }
        }
        if let (Some(summary), false) = (&self.summary, self.summary_asked) {
            // Text's end, as SPEC has it: the table after the count line.
            writeln!(self.out)?;
            summary.text(&mut self.out)?;
        } else if let Some(summary) = &self.summary {
            // As `check` and `scan`: the last ndjson line, and the table on stderr.
            if self.format == Format::Ndjson && !self.quiet {
                summary.ndjson(&mut self.out)?;
            }
            self.out.flush()?;
            summary.text(&mut io::stderr().lock())?;
        }
        self.out.flush()?;
        Ok(self.status())
    }

    /// The exit status of what was judged so far (SPEC §5).
    pub fn status(&self) -> ExitStatus {
        if self.errors > 0 {
            ExitStatus::Error
        } else if self.refused > 0 {
            ExitStatus::NonCompliant
        } else {
            ExitStatus::Compliant
        }
    }
}

/// Who the sign-in was, for every format's line: the application and the user (as the result
/// object shows it, so `--redact` applies).
fn who(s: &Signin, object: &Value) -> String {
    format!(
        "{} ({}), user {}",
        s.app_name.as_deref().unwrap_or("?"),
        s.app_id.as_deref().unwrap_or("?"),
        object["user"].as_str().unwrap_or("?")
    )
}

/// The hints of a decision as the text output shows them, a line each.
fn hints(d: &Decision) -> Vec<String> {
    d.findings.iter().map(|f| format!("{} {}: {}", f.level.as_str(), f.code, f.message)).collect()
}
