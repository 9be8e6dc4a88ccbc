//! `--summary`: the per-application report Partner Center gives after the fact
//! (`GET /v1/applicationmfaadoptionstatus`), from your own tokens before the calls fail. App+user
//! tokens are counted by application id (`appid`/`azp`) and the day of `iat`; whether one counts
//! as MFA-compliant is the result's `mfa` (never worked out again here). A token that `scan` saw
//! N times counts N requests.

use crate::judge::Outcome;
use crate::judge::classify::Kind;
use crate::judge::code::Mfa;
use crate::judge::signin::SigninMfa;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{self, Write};

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    /// (application id, login date) → (MFA-compliant requests, all requests).
    apps: BTreeMap<(Option<String>, Option<String>), (u64, u64)>,
    app_only: u64,
    not_decodable: u64,
}

/// Where a result counts: its row (application, day, with MFA or not), or app-only, or not
/// decodable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    NotDecodable,
    AppOnly,
    AppUser { app: Option<String>, day: Option<String>, mfa: bool },
}

impl Key {
    pub fn of(o: &Outcome) -> Key {
        match o.kind {
            None => Key::NotDecodable,
            Some(Kind::AppOnly) => Key::AppOnly,
            Some(Kind::AppUser) => {
                let token = o.token.as_ref();
                let app = token.and_then(|t| t.app_id.as_deref()).map(str::to_owned);
                let day = token.and_then(|t| t.iat).and_then(|iat| jiff::Timestamp::from_second(iat.seconds()).ok());
                let day = day.map(|d| d.strftime("%Y-%m-%d").to_string());
                Key::AppUser { app, day, mfa: o.mfa == Some(Mfa::Satisfied) }
            }
        }
    }
}

/// One row, in Partner Center's field names.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Row<'s> {
    pub application_id: Option<&'s str>,
    pub login_date: Option<&'s str>,
    pub mfa_compliant_request_count: u64,
    pub total_request_count: u64,
}

/// The summary as JSON: `{"summary": …}` is the last ndjson line.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report<'s> {
    pub applications: Vec<Row<'s>>,
    pub app_only_request_count: u64,
    pub not_decodable_count: u64,
}

impl Summary {
    /// Counts one result seen `requests` times.
    pub fn add(&mut self, o: &Outcome, requests: u64) {
        self.add_key(&Key::of(o), requests);
    }

    /// Counts `requests` more of a result already counted (a token `scan` found again).
    pub fn add_key(&mut self, key: &Key, requests: u64) {
        match key {
            Key::NotDecodable => self.not_decodable += requests,
            Key::AppOnly => self.app_only += requests,
            Key::AppUser { app, day, mfa } => {
                let row = self.apps.entry((app.clone(), day.clone())).or_default();
                row.1 += requests;
                if *mfa {
                    row.0 += requests;
                }
            }
        }
    }

    pub fn merge(&mut self, other: Summary) {
        for (key, (compliant, total)) in other.apps {
            let row = self.apps.entry(key).or_default();
            row.0 += compliant;
            row.1 += total;
        }
        self.app_only += other.app_only;
        self.not_decodable += other.not_decodable;
    }

    pub fn report(&self) -> Report<'_> {
        Report {
            applications: self
                .apps
                .iter()
                .map(|((app, day), &(compliant, total))| Row {
                    application_id: app.as_deref(),
                    login_date: day.as_deref(),
                    mfa_compliant_request_count: compliant,
                    total_request_count: total,
                })
                .collect(),
            app_only_request_count: self.app_only,
            not_decodable_count: self.not_decodable,
        }
    }

    /// The last ndjson line.
    pub fn ndjson<W: Write>(&self, out: &mut W) -> io::Result<()> {
        summary_line(out, &self.report())
    }

    /// The table on stderr, for people.
    pub fn text<W: Write>(&self, out: &mut W) -> io::Result<()> {
        writeln!(
            out,
            "mfacheck: MFA adoption by application and day (app+user tokens, as Partner Center reports it):"
        )?;
        if self.apps.is_empty() {
            writeln!(out, "  no app+user token")?;
        } else {
            writeln!(out, "  {:<38} {:<10}  {:>12}  {:>8}", "applicationId", "loginDate", "mfaCompliant", "total")?;
        }
        for row in self.report().applications {
            let app = super::text::printable(row.application_id.unwrap_or("(none)")).into_owned();
            let day = row.login_date.unwrap_or("(no iat)");
            let (compliant, total) = (row.mfa_compliant_request_count, row.total_request_count);
            let share = (compliant * 100).checked_div(total).unwrap_or(0);
            writeln!(out, "  {app:<38} {day:<10}  {compliant:>12}  {total:>8}  ({share}% with MFA)")?;
        }
        writeln!(
            out,
            "  app-only requests (MFA not required): {}; not decodable: {}",
            self.app_only, self.not_decodable
        )
    }
}

/// `{"summary": …}`: the last ndjson line of `check`, `scan` and `signins` under `--summary`.
fn summary_line<W: Write, T: Serialize>(out: &mut W, report: &T) -> io::Result<()> {
    #[derive(Serialize)]
    struct Line<'s, T> {
        summary: &'s T,
    }
    super::json::line(out, &Line { summary: report })
}

/// `signins --summary`: per application and user, what their judged sign-ins to the resource
/// showed (the shape of Partner Center's adoption report, from the sign-in logs). Whether a
/// sign-in counts as satisfied, missing or required is its decision's `mfa`.
#[derive(Debug, Default)]
pub struct SigninSummary {
    /// (application id, user) → the counts and the last time seen.
    rows: BTreeMap<(String, String), SigninCounts>,
    skipped: u64,
}

/// One row, in the field names of Partner Center's report where it has them.
#[derive(Debug, Default, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SigninCounts {
    sign_in_count: u64,
    mfa_satisfied_count: u64,
    mfa_missing_count: u64,
    mfa_required_count: u64,
    last_seen: Option<String>,
}

impl SigninSummary {
    /// Counts one judged sign-in of `app` by `user` (already redacted when asked) at `time`.
    pub fn add(&mut self, app: &str, user: &str, mfa: SigninMfa, time: Option<&str>) {
        let row = self.rows.entry((app.to_owned(), user.to_owned())).or_default();
        row.sign_in_count += 1;
        row.mfa_satisfied_count += u64::from(mfa == SigninMfa::Satisfied);
        row.mfa_missing_count += u64::from(mfa == SigninMfa::Missing);
        row.mfa_required_count += u64::from(mfa == SigninMfa::Required);
        // Times are RFC 3339 when the export's could be read: compare instants, not text.
        let instant = |t: &str| t.parse::<jiff::Timestamp>().ok();
        if let Some(time) = time
            && row.last_seen.as_deref().is_none_or(|seen| match (instant(time), instant(seen)) {
                (Some(t), Some(s)) => t > s,
                _ => time > seen,
            })
        {
            row.last_seen = Some(time.to_owned());
        }
    }

    /// A sign-in to another resource, counted and not judged.
    pub fn skip(&mut self) {
        self.skipped += 1;
    }

    /// The last ndjson line.
    pub fn ndjson<W: Write>(&self, out: &mut W) -> io::Result<()> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Row<'s> {
            application_id: &'s str,
            user: &'s str,
            #[serde(flatten)]
            counts: &'s SigninCounts,
        }
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Report<'s> {
            applications: Vec<Row<'s>>,
            skipped_count: u64,
        }
        let applications =
            self.rows.iter().map(|((app, user), counts)| Row { application_id: app, user, counts }).collect();
        summary_line(out, &Report { applications, skipped_count: self.skipped })
    }

    /// The table on stderr, for people.
    pub fn text<W: Write>(&self, out: &mut W) -> io::Result<()> {
        writeln!(out, "mfacheck: MFA by application and user (judged sign-ins, as Partner Center reports it):")?;
        if self.rows.is_empty() {
            writeln!(out, "  no judged sign-in")?;
        } else {
            writeln!(
                out,
                "  {:<38} {:<32} {:>8} {:>9} {:>7} {:>8}  last seen",
                "application", "user", "sign-ins", "satisfied", "missing", "required"
            )?;
        }
        for ((app, user), row) in &self.rows {
            let line = format!(
                "  {:<38} {:<32} {:>8} {:>9} {:>7} {:>8}  {}",
                if app.is_empty() { "(none)" } else { app },
                if user.is_empty() { "(none)" } else { user },
                row.sign_in_count,
                row.mfa_satisfied_count,
                row.mfa_missing_count,
                row.mfa_required_count,
                row.last_seen.as_deref().unwrap_or("")
            );
            writeln!(out, "{}", super::text::printable(&line))?;
        }
        writeln!(out, "  sign-ins to other resources (not judged): {}", self.skipped)
    }
}
