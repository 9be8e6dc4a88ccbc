//! Sign-in log records (SPEC §5): what one Entra ID sign-in says, read from any export's
//! spelling (Graph camelCase, Azure Monitor `properties`, Log Analytics PascalCase with nested
//! JSON in strings, the admin center's download) into one [`Signin`].

use crate::checked_json::{Checked, insert};
use serde::de::{DeserializeSeed, IgnoredAny};
use serde_json::{Map, Value};
use std::io::{BufRead, Read};

/// One sign-in, as the record states it; absent fields stay `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Signin {
    pub time: Option<String>,
    /// `signInEventTypes`, or the Azure Monitor `category`.
    pub signin_type: Option<String>,
    pub app_id: Option<String>,
    pub app_name: Option<String>,
    pub resource_id: Option<String>,
    pub resource_name: Option<String>,
    pub user: Option<String>,
    /// `userType` (`member`, `guest`; some exports name app-only kinds here).
    pub user_type: Option<String>,
    /// `servicePrincipalId`: set on an app's own sign-in.
    pub service_principal_id: Option<String>,
    pub error_code: Option<i64>,
    pub failure_reason: Option<String>,
    pub additional_details: Option<String>,
    pub authentication_requirement: Option<String>,
    pub steps: Vec<Step>,
    pub is_interactive: Option<bool>,
    pub conditional_access_status: Option<String>,
    pub token_issuer_type: Option<String>,
    /// The export the record's spelling shows.
    pub export: Option<Export>,
}

/// The export formats of SPEC §5 (`--input-format`), told apart by how a record spells its
/// fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Export {
    /// Microsoft Graph `signIn` objects (camelCase), also the admin center's JSON download.
    Graph,
    /// Azure Monitor diagnostic settings / Event Hub: the sign-in under `properties`.
    Monitor,
    /// Log Analytics JSON or CSV (PascalCase columns).
    LogAnalytics,
    /// The admin center's download: CSV with its own column names (`Application ID`), or JSON
    /// as Graph spells it.
    Portal,
}

impl Export {
    pub fn as_str(self) -> &'static str {
        match self {
            Export::Graph => "graph",
            Export::Monitor => "monitor",
            Export::LogAnalytics => "log-analytics",
            Export::Portal => "portal",
        }
    }

    /// Whether a record spelled as `found` is one of this export's.
    pub fn accepts(self, found: Export) -> bool {
        self == found || (self == Export::Portal && found == Export::Graph)
    }

    fn of(record: &Map<String, Value>) -> Export {
        if matches!(record.get("properties"), Some(Value::Object(_))) {
            return Export::Monitor;
        }
        let mut names = record.keys().map(|k| k.split(" [").next().unwrap_or(k));
        if names.clone().any(|k| k.contains(' ')) {
            Export::Portal
        } else if names.any(|k| k.starts_with(|c: char| c.is_ascii_uppercase())) {
            Export::LogAnalytics
        } else {
            Export::Graph
        }
    }
}

/// One `authenticationDetails` step.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Step {
    pub method: Option<String>,
    pub requirement: Option<String>,
    pub succeeded: Option<bool>,
    pub result_detail: Option<String>,
}

/// Whether `name` is `want` (letters and digits, lower case) as an export spells it: any case,
/// any punctuation, without a unit suffix such as ` [UTC]`. Compared in place: this runs for
/// every field of every record.
fn is_key(name: &str, want: &str) -> bool {
    let name = name.split(" [").next().unwrap_or(name);
    let mut have = name.bytes().filter(u8::is_ascii_alphanumeric).map(|b| b.to_ascii_lowercase());
    want.bytes().all(|w| have.next() == Some(w)) && have.next().is_none()
}

/// The first of `names` (already in [`is_key`] form) the object holds, not null or empty.
fn get<'v>(map: &'v Map<String, Value>, names: &[&str]) -> Option<&'v Value> {
    names.iter().find_map(|want| {
        map.iter().find(|(k, v)| is_key(k, want) && !v.is_null() && v.as_str() != Some("")).map(|(_, v)| v)
    })
}

/// Log Analytics nests objects as JSON text. `Err` names a member given twice in it.
fn nested(value: &Value) -> Result<Option<Value>, String> {
    match value {
        Value::String(text) if text.trim_start().starts_with(['{', '[']) => {
            match serde_json::from_str::<Checked>(text) {
                Ok(Checked(_, Some(twice))) => Err(duplicate(&twice)),
                Ok(Checked(value, None)) => Ok(Some(value)),
                Err(_) => Ok(None),
            }
        }
        other => Ok(Some(other.clone())),
    }
}

const AMBIGUOUS: &str = "the record is ambiguous, so it is not resolved by picking one";

fn duplicate(name: &str) -> String {
    format!("duplicate field {name:?}: {AMBIGUOUS}")
}

/// Two members of one object that name the same field in different spellings
/// (`status` and `Status`) with different values: as ambiguous as one member given twice.
/// Empty ones are never read (see [`get`]), and the same value twice says one thing.
fn normal(name: &str) -> impl Iterator<Item = u8> + '_ {
    let name = name.split(" [").next().unwrap_or(name);
    name.bytes().filter(u8::is_ascii_alphanumeric).map(|b| b.to_ascii_lowercase())
}

fn spelled_twice(map: &Map<String, Value>) -> Result<(), String> {
    // The names as `is_key` compares them; hashed, so no record costs an allocation.
    let mut seen: Vec<(u64, &str, &Value)> = Vec::with_capacity(map.len());
    for (name, value) in map.iter().filter(|(_, v)| !v.is_null() && v.as_str() != Some("")) {
        let hash =
            normal(name).fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
        let twin = seen.iter().find(|(h, other, _)| *h == hash && normal(other).eq(normal(name)));
        match twin {
            Some((_, first, earlier)) if *earlier != value => {
                return Err(format!("duplicate field {first:?} (also as {name:?}): {AMBIGUOUS}"));
            }
            Some(_) => {}
            None => seen.push((hash, name, value)),
        }
    }
    Ok(())
}

fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        Value::Array(items) => items.first().and_then(|v| v.as_str()).map(str::to_owned),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn int(value: Option<&Value>) -> Option<i64> {
    match value? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn boolean(value: Option<&Value>) -> Option<bool> {
    match value? {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("yes") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") || s.eq_ignore_ascii_case("no") => Some(false),
        _ => None,
    }
}

/// Reads one record. `Err` says why it is not a sign-in (not an object).
pub fn from_json(record: &Value) -> Result<Signin, String> {
    let Value::Object(outer) = record else {
        return Err(format!("a sign-in record is a JSON object, not {}", kind_of(record)));
    };
    // Azure Monitor / Event Hub: the sign-in under `properties`, the kind in `category`; the
    // top-level `resourceId` is the tenant's path, never read as the resource.
    let (map, category) = match outer.get("properties") {
        Some(Value::Object(props)) => (props, text(outer.get("category"))),
        _ => (outer, text(get(outer, &["category"]))),
    };
    spelled_twice(outer)?;
    spelled_twice(map)?;
    let status = get(map, &["status"]).map(nested).transpose()?.flatten();
    let status = status.as_ref().and_then(Value::as_object);
    if let Some(status) = status {
        spelled_twice(status)?;
    }
    let from_status = |names: &[&str]| status.and_then(|s| get(s, names));
    let portal_status = get(map, &["status"]).and_then(Value::as_str);
    let error_code = int(from_status(&["errorcode"]))
        .or_else(|| int(get(map, &["resulttype", "signinerrorcode", "errorcode"])))
        .or_else(|| match portal_status {
            Some(s) if s.eq_ignore_ascii_case("success") => Some(0),
            _ => None,
        });
    let steps = get(map, &["authenticationdetails"])
        .map(nested)
        .transpose()?
        .flatten()
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default();
    let steps = steps.iter().filter_map(Value::as_object);
    for step in steps.clone() {
        spelled_twice(step)?;
    }
    let steps = steps
        .map(|step| Step {
            method: text(get(step, &["authenticationmethod"])),
            requirement: text(get(step, &["authenticationsteprequirement"])),
            succeeded: boolean(get(step, &["succeeded"])),
            result_detail: text(get(step, &["authenticationstepresultdetail"])),
        })
        .collect();
    Ok(Signin {
        time: text(get(map, &["createddatetime", "timegenerated", "dateutc", "date"]))
            .or_else(|| text(outer.get("time")))
            .map(|time| utc_time(&time).map_or(time, |t| t.to_string())),
        signin_type: text(get(map, &["signineventtypes", "signintype"])).or(category),
        app_id: text(get(map, &["appid", "applicationid"])),
        app_name: text(get(map, &["appdisplayname", "application"])),
        resource_id: text(get(map, &["resourceid", "resourceidentity"])),
        resource_name: text(get(map, &["resourcedisplayname", "resource"])),
        user: text(get(map, &["userprincipalname", "username", "user"])),
        user_type: text(get(map, &["usertype"])),
        service_principal_id: text(get(map, &["serviceprincipalid"])),
        error_code,
        failure_reason: text(
            from_status(&["failurereason"]).or_else(|| get(map, &["failurereason", "resultdescription"])),
        ),
        additional_details: text(from_status(&["additionaldetails"]).or_else(|| get(map, &["additionaldetails"]))),
        authentication_requirement: text(get(map, &["authenticationrequirement"])),
        steps,
        is_interactive: boolean(get(map, &["isinteractive"])),
        conditional_access_status: text(get(map, &["conditionalaccessstatus", "conditionalaccess"])),
        token_issuer_type: text(get(map, &["tokenissuertype"])),
        export: Some(Export::of(outer)),
    })
}

/// A sign-in time as exports write it, all in UTC: RFC 3339 (Graph, Azure Monitor, with up to
/// seven decimals), `2026-05-04 09:12:00` (a `Date (UTC)` column), or Log Analytics' US style
/// `9/19/2023, 1:42:37.848 PM`. `None` when it is none of these (the text is then shown as is).
fn utc_time(text: &str) -> Option<jiff::Timestamp> {
    let text = text.trim();
    if let Ok(t) = text.parse::<jiff::Timestamp>() {
        return Some(t);
    }
    if let Ok(t) = text.parse::<jiff::civil::DateTime>() {
        return jiff::tz::TimeZone::UTC.to_timestamp(t).ok();
    }
    let (date, clock) = text.split_once(", ")?;
    let mut date = date.split('/').map(|p| p.parse::<i16>().ok());
    let (month, day, year) = (date.next()??, date.next()??, date.next()??);
    let (clock, half) = clock.rsplit_once(' ')?;
    let (hms, fraction) = clock.split_once('.').unwrap_or((clock, ""));
    let mut hms = hms.split(':').map(|p| p.parse::<i8>().ok());
    let (hour, minute, second) = (hms.next()??, hms.next()??, hms.next()??);
    if date.next().is_some() || hms.next().is_some() || !(1..=12).contains(&hour) {
        return None;
    }
    // 12 AM is midnight, 12 PM noon.
    let hour = match half {
        "AM" => hour % 12,
        "PM" => hour % 12 + 12,
        _ => return None,
    };
    if fraction.len() > 9 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let nanos = if fraction.is_empty() { 0 } else { format!("{fraction:0<9}").parse().ok()? };
    let time = jiff::civil::Time::new(hour, minute, second, nanos).ok()?;
    let date = jiff::civil::Date::new(year, i8::try_from(month).ok()?, i8::try_from(day).ok()?).ok()?;
    jiff::tz::TimeZone::UTC.to_timestamp(date.to_datetime(time)).ok()
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// serde_json's message without the position it appends (the messages here say it once).
fn json_why(e: &serde_json::Error) -> String {
    let why = e.to_string();
    why.rsplit_once(" at line ").map_or(why.clone(), |(why, _)| why.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn graph_record() {
        let s = from_json(&json!({
            "createdDateTime": "2026-05-04T09:12:00Z", "appId": "a1", "appDisplayName": "Billing sync",
            "resourceId": "fa3d9a0c-3fb0-42cc-9193-47c7ecd2edbd", "resourceDisplayName": "Partner Center",
            "userPrincipalName": "ana@contoso.com", "isInteractive": false,
            "status": {"errorCode": 0, "failureReason": "Other.", "additionalDetails": null},
            "authenticationRequirement": "singleFactorAuthentication",
            "authenticationDetails": [{"authenticationMethod": "Previously satisfied", "succeeded": true,
              "authenticationStepRequirement": "Primary authentication",
              "authenticationStepResultDetail": "First factor requirement satisfied by claim in the token"}]
        }))
        .unwrap();
        assert_eq!(s.error_code, Some(0));
        assert_eq!(s.app_id.as_deref(), Some("a1"));
        assert_eq!(s.is_interactive, Some(false));
        assert_eq!(s.steps[0].succeeded, Some(true));
    }

    #[test]
    fn monitor_record_reads_properties_not_the_tenant_path() {
        let s = from_json(&json!({
            "time": "2026-05-04T09:12:00Z", "category": "NonInteractiveUserSignInLogs",
            "resourceId": "/tenants/t1/providers/Microsoft.aadiam",
            "properties": {"appId": "a1", "status": {"errorCode": 50076}}
        }))
        .unwrap();
        assert_eq!(s.resource_id, None);
        assert_eq!(s.signin_type.as_deref(), Some("NonInteractiveUserSignInLogs"));
        assert_eq!(s.error_code, Some(50076));
        assert_eq!(s.time.as_deref(), Some("2026-05-04T09:12:00Z"));
    }

    #[test]
    fn log_analytics_nested_strings_and_portal_columns() {
        let s = from_json(&json!({
            "TimeGenerated [UTC]": "9/19/2023, 1:42:37.848 PM", "AppId": "a1", "ResourceIdentity": "r1",
            "ResultType": "0", "Status": "{\"errorCode\":0}", "IsInteractive": "True",
            "AuthenticationDetails": "[{\"succeeded\":true,\"authenticationStepRequirement\":\"MFA\"}]"
        }))
        .unwrap();
        assert_eq!((s.resource_id.as_deref(), s.error_code, s.is_interactive), (Some("r1"), Some(0), Some(true)));
        assert_eq!(s.steps[0].requirement.as_deref(), Some("MFA"));
        let s = from_json(&json!({"Date (UTC)": "2026-05-04", "Application ID": "a1", "Status": "Success",
            "Authentication requirement": "Single-factor authentication"}))
        .unwrap();
        assert_eq!((s.app_id.as_deref(), s.error_code), (Some("a1"), Some(0)));
    }

    #[test]
    fn us_times_and_their_edges() {
        let t = |text: &str| utc_time(text).map(|t| t.to_string());
        assert_eq!(t("9/19/2023, 1:42:37.848 PM").as_deref(), Some("2023-09-19T13:42:37.848Z"));
        assert_eq!(t("9/19/2023, 12:00:00 AM").as_deref(), Some("2023-09-19T00:00:00Z"));
        assert_eq!(t("9/19/2023, 12:59:59 PM").as_deref(), Some("2023-09-19T12:59:59Z"));
        assert_eq!(t("9/19/2023, 11:00:00 PM").as_deref(), Some("2023-09-19T23:00:00Z"));
        assert_eq!(t("2026-05-04T10:00:00.0000000Z").as_deref(), Some("2026-05-04T10:00:00Z"));
        for bad in [
            "9/19/2023, 0:00:00 AM",
            "9/19/2023, 13:00:00 PM",
            "2/30/2023, 1:00:00 AM",
            "9/19/2023, 1:00:00",
            "9/19/2023, 1:00:00.x AM",
            "today",
        ] {
            assert_eq!(t(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_record_that_is_not_an_object_is_an_error() {
        assert!(from_json(&json!([1])).unwrap_err().contains("not an array"));
    }
}

/// What the reader hands on for each record, numbered from 1 in the file's order: the sign-in,
/// `None` for a record the caller's filter let it skip unread (checked to be JSON and counted),
/// or why it is not a sign-in record.
pub type Each<'a> = dyn FnMut(usize, Result<Option<Signin>, String>) + 'a;

/// The longest line read as one record in one-record-per-line input; a longer first line makes
/// the file read as one JSON stream instead (a `records` batch on one line), so memory stays
/// bounded either way.
const LINE_LIMIT: usize = 4 << 20;

/// Reads an export record by record: CSV (when it starts with neither `{` nor `[`), or JSON of
/// any shape: a `{"value": [...]}` page (or several, concatenated), a `{"records": [...]}` batch,
/// a JSON array, or one object per line. Only the current record is held. When the first line is
/// a whole JSON value the input is one record (or page) per line: each line is read on its own,
/// so a bad line is an error for that record and the next lines are still read, and a record
/// is handed on as soon as its line ends (`tail -f`). Otherwise a syntax error ends the file
/// (the rest can't be placed) with its line. `wanted` sees a line's raw bytes: `false` lets the
/// reader skip the line without building its records.
pub fn read<R: BufRead>(mut reader: R, wanted: &dyn Fn(&[u8]) -> bool, each: &mut Each) {
    let first = loop {
        match reader.fill_buf() {
            Ok([]) => return,
            Ok(buf) => match buf.iter().position(|b| !b.is_ascii_whitespace()) {
                Some(i) => {
                    let b = buf[i];
                    reader.consume(i);
                    break b;
                }
                None => {
                    let len = buf.len();
                    reader.consume(len);
                }
            },
            Err(e) => return each(1, Err(format!("read error: {e}"))),
        }
    };
    if first != b'{' && first != b'[' {
        let binary = reader.fill_buf().is_ok_and(|buf| buf.contains(&0));
        if binary || first == 0 {
            return each(1, Err("binary: not a sign-in export (neither JSON nor CSV)".into()));
        }
        return read_csv(reader, each);
    }
    let mut line = Vec::new();
    if let Err(e) = (&mut reader).take(LINE_LIMIT as u64).read_until(b'\n', &mut line) {
        return each(1, Err(format!("read error: {e}")));
    }
    let whole_line = line.ends_with(b"\n") || line.len() < LINE_LIMIT;
    if whole_line && serde_json::from_slice::<IgnoredAny>(&line).is_ok() {
        return read_lines(line, reader, wanted, each);
    }
    let mut n = 0;
    // One record is held at a time: a record past the limit (a string that never ends) is an
    // error, not the rest of the stream held.
    let since = std::rc::Rc::new(std::cell::Cell::new(0));
    let bounded = Bounded {
        inner: std::io::Cursor::new(line).chain(reader),
        since: since.clone(),
        limit: RECORD_LIMIT,
        what: "a JSON record longer than 16 MiB",
    };
    // A BufReader: std reads its bytes one by one without a call through `Read` each.
    let mut de = serde_json::Deserializer::from_reader(std::io::BufReader::with_capacity(1 << 16, bounded));
    let mut each = |n, record| {
        since.set(0);
        each(n, record);
    };
    loop {
        let result = DeserializeSeed::deserialize(Top { n: &mut n, skip: false, each: &mut each }, &mut de);
        if let Err(e) = result {
            n += 1;
            return each(
                n,
                Err(format!("not valid JSON at line {}, column {}: {}", e.line(), e.column(), json_why(&e))),
            );
        }
        match de.end() {
            Ok(()) => return,
            Err(_) => continue,
        }
    }
}

/// One record (or page) per line, `line` the first; see [`read`].
fn read_lines<R: BufRead>(mut line: Vec<u8>, mut reader: R, wanted: &dyn Fn(&[u8]) -> bool, each: &mut Each) {
    let (mut n, mut number) = (0, 0);
    loop {
        number += 1;
        let too_long = line.len() >= LINE_LIMIT && !line.ends_with(b"\n");
        if too_long {
            n += 1;
            each(n, Err(format!("line {number}: longer than {} MiB", LINE_LIMIT >> 20)));
            // The rest of the line is not a record of its own.
            if let Err(e) = reader.skip_until(b'\n') {
                return each(n + 1, Err(format!("read error: {e}")));
            }
        } else if !line.trim_ascii().is_empty() {
            let skip = !wanted(&line);
            let mut de = serde_json::Deserializer::from_slice(&line);
            let result = DeserializeSeed::deserialize(Top { n: &mut n, skip, each: &mut *each }, &mut de)
                .and_then(|()| de.end());
            if let Err(e) = result {
                n += 1;
                // serde_json's position is within the line: the file's line is given instead.
                each(n, Err(format!("not valid JSON at line {number}, column {}: {}", e.column(), json_why(&e))));
            }
        }
        line.clear();
        match (&mut reader).take(LINE_LIMIT as u64).read_until(b'\n', &mut line) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) => return each(n + 1, Err(format!("read error: {e}"))),
        }
    }
}

/// Reads a CSV export (Log Analytics or the admin center's download) with the `csv` crate: a
/// header row, then one record per row (RFC 4180 quoting: fields spanning lines, doubled
/// quotes; a UTF-8 BOM). A header without an application-id column is an error for the file:
/// every row would be judged without the app it concerns. A row of another length than the
/// header is an error for that record, naming its line; reading goes on.
fn read_csv<R: BufRead>(reader: R, each: &mut Each) {
    let since = std::rc::Rc::new(std::cell::Cell::new(0));
    let mut csv = csv::ReaderBuilder::new().flexible(true).has_headers(false).from_reader(Bounded {
        inner: reader,
        since: since.clone(),
        limit: CSV_RECORD_LIMIT,
        what: "a CSV record longer than 1 MiB (a quote never closed?)",
    });
    let mut row = csv::ByteRecord::new();
    let header = match csv.read_byte_record(&mut row) {
        Ok(true) => row.clone(),
        Ok(false) => return,
        Err(e) => return each(1, Err(csv_error(&e))),
    };
    let header: Vec<String> = match header.iter().map(|h| std::str::from_utf8(h).map(str::to_owned)).collect() {
        Ok(header) => header,
        Err(_) => return each(1, Err("line 1: the CSV header is not UTF-8 text".into())),
    };
    if !header.iter().any(|h| is_key(h, "appid") || is_key(h, "applicationid")) {
        return each(1, Err("CSV without an AppId or Application ID column: not a sign-in export".into()));
    }
    // Every row would hold the column twice: one error for the file, not one per row.
    let columns: Map<String, Value> = header.iter().map(|h| (h.clone(), Value::Null)).collect();
    if columns.len() < header.len() {
        let twice = header.iter().enumerate().find(|(i, h)| header[..*i].contains(h)).map_or("", |(_, h)| h);
        return each(1, Err(format!("line 1: {}", duplicate(twice))));
    }
    let mut n = 0;
    loop {
        since.set(0);
        match csv.read_byte_record(&mut row) {
            Ok(false) => return,
            Err(e) => return each(n + 1, Err(csv_error(&e))),
            Ok(true) => {}
        }
        let line = row.position().map_or(0, csv::Position::line);
        // A blank line between rows is no record.
        if row.len() == 1 && row[0].is_empty() {
            continue;
        }
        n += 1;
        if row.len() != header.len() {
            each(n, Err(format!("line {line}: {} fields where the header has {}", row.len(), header.len())));
            continue;
        }
        let fields: Result<Map<String, Value>, _> = header
            .iter()
            .zip(row.iter())
            .map(|(name, field)| std::str::from_utf8(field).map(|f| (name.clone(), Value::String(f.to_owned()))))
            .collect();
        match fields {
            Ok(map) => each(n, from_json(&Value::Object(map)).map(Some)),
            Err(_) => each(n, Err(format!("line {line}: not UTF-8 text"))),
        }
    }
}

fn csv_error(e: &csv::Error) -> String {
    let line = e.position().map_or(String::new(), |p| format!("line {}: ", p.line()));
    format!("{line}{e}")
}

/// The longest CSV record read: the `csv` crate holds a whole record, so a quote never closed
/// would otherwise hold the rest of the file.
const CSV_RECORD_LIMIT: usize = 1 << 20;

/// The longest record of a JSON stream (a batch or page not read line by line).
const RECORD_LIMIT: usize = 16 << 20;

/// Counts the bytes read since the last record (the reader resets `since`) and fails past
/// `limit` (plus the parser's buffer).
struct Bounded<R> {
    inner: R,
    since: std::rc::Rc<std::cell::Cell<usize>>,
    limit: usize,
    what: &'static str,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.since.get() > self.limit {
            return Err(std::io::Error::other(self.what));
        }
        let read = self.inner.read(buf)?;
        self.since.set(self.since.get() + read);
        Ok(read)
    }
}

/// One top-level value: an array of records, a page or batch holding one, or a record.
struct Top<'a, 'e> {
    n: &'a mut usize,
    /// Count the records without building them (the caller does not want them).
    skip: bool,
    each: &'a mut Each<'e>,
}

impl<'de> DeserializeSeed<'de> for Top<'_, '_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Top<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a sign-in record, an array of them, or a value/records page")
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if self.skip {
            while let Some(kind) = seq.next_element::<SkipRecord>()? {
                *self.n += 1;
                (self.each)(*self.n, kind.0.map_or(Ok(None), |kind| Err(not_an_object(kind))));
            }
            return Ok(());
        }
        while let Some(Checked(record, twice)) = seq.next_element()? {
            *self.n += 1;
            (self.each)(*self.n, checked(&record, twice.as_deref()));
        }
        Ok(())
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut rest = Map::new();
        let mut paged = false;
        let mut twice = None;
        while let Some(name) = map.next_key::<String>()? {
            if (name == "value" || name == "records") && !paged {
                paged = true;
                map.next_value_seed(Top { n: &mut *self.n, skip: self.skip, each: &mut *self.each })?;
                rest.insert(name, Value::Null);
            } else if self.skip {
                map.next_value::<IgnoredAny>()?;
            } else {
                let Checked(value, inner) = map.next_value()?;
                let again = insert(&mut rest, name, value);
                twice = twice.or(inner).or(again);
            }
        }
        if !paged {
            *self.n += 1;
            let record = if self.skip { Ok(None) } else { checked(&Value::Object(rest), twice.as_deref()) };
            (self.each)(*self.n, record);
        } else if let Some(twice) = twice.filter(|t| t == "value" || t == "records") {
            // A second batch in one page: its records would be dropped unread.
            *self.n += 1;
            (self.each)(*self.n, Err(duplicate(&twice)));
        }
        Ok(())
    }
    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<(), E> {
        self.other("a string")
    }
    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<(), E> {
        self.other("a number")
    }
    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<(), E> {
        self.other("a number")
    }
    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<(), E> {
        self.other("a number")
    }
    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<(), E> {
        self.other("a boolean")
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        self.other("null")
    }
}

impl Top<'_, '_> {
    fn other<E>(self, what: &str) -> Result<(), E> {
        *self.n += 1;
        (self.each)(*self.n, Err(not_an_object(what)));
        Ok(())
    }
}

/// A record read in full: from [`from_json`], unless a member was given twice in it.
fn checked(record: &Value, twice: Option<&str>) -> Result<Option<Signin>, String> {
    match twice {
        Some(name) => Err(duplicate(name)),
        None => from_json(record).map(Some),
    }
}

fn not_an_object(what: &str) -> String {
    format!("a sign-in record is a JSON object, not {what}")
}

/// A record read only to be counted: `Some(kind)` when it is not an object.
struct SkipRecord(Option<&'static str>);

impl<'de> serde::Deserialize<'de> for SkipRecord {
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        de.deserialize_any(SkipRecordVisitor)
    }
}

struct SkipRecordVisitor;

impl<'de> serde::de::Visitor<'de> for SkipRecordVisitor {
    type Value = SkipRecord;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a sign-in record")
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<SkipRecord, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(SkipRecord(None))
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<SkipRecord, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(SkipRecord(Some("an array")))
    }
    fn visit_str<E>(self, _: &str) -> Result<SkipRecord, E> {
        Ok(SkipRecord(Some("a string")))
    }
    fn visit_i64<E>(self, _: i64) -> Result<SkipRecord, E> {
        Ok(SkipRecord(Some("a number")))
    }
    fn visit_u64<E>(self, _: u64) -> Result<SkipRecord, E> {
        Ok(SkipRecord(Some("a number")))
    }
    fn visit_f64<E>(self, _: f64) -> Result<SkipRecord, E> {
        Ok(SkipRecord(Some("a number")))
    }
    fn visit_bool<E>(self, _: bool) -> Result<SkipRecord, E> {
        Ok(SkipRecord(Some("a boolean")))
    }
    fn visit_unit<E>(self) -> Result<SkipRecord, E> {
        Ok(SkipRecord(Some("null")))
    }
}

#[cfg(test)]
mod stream_tests {

    fn read(text: &str) -> Vec<(usize, Result<Option<String>, String>)> {
        let mut out = Vec::new();
        super::read(text.as_bytes(), &|_| true, &mut |n, r| out.push((n, r.map(|s| s.unwrap().app_id))));
        out
    }

    #[test]
    fn every_shape_yields_its_records_in_order() {
        let want = vec![(1, Ok(Some("a".into()))), (2, Ok(Some("b".into())))];
        assert_eq!(read(r#"{"@odata.context":"x","value":[{"appId":"a"},{"appId":"b"}]}"#), want);
        assert_eq!(read("{\"value\":[{\"appId\":\"a\"}]}\n{\"value\":[{\"appId\":\"b\"}]}"), want);
        assert_eq!(read(r#"{"records":[{"properties":{"appId":"a"}},{"properties":{"appId":"b"}}]}"#), want);
        assert_eq!(read(r#" [ {"appId":"a"}, {"appId":"b"} ] "#), want);
        assert_eq!(read("{\"appId\":\"a\"}\n{\"appId\":\"b\"}\n"), want);
    }

    #[test]
    fn lines_skipped_unread_are_still_checked_and_counted() {
        let mut got = Vec::new();
        let text = "{\"value\":[{\"appId\":\"a\"},{\"appId\":\"b\"}]}\n{\"appId\":\n\n{\"appId\":\"c\"}\n[1]\n";
        super::read(text.as_bytes(), &|_| false, &mut |n, r| got.push((n, r.map(|s| s.is_some()))));
        assert!(matches!(&got[2], (3, Err(e)) if e.contains("line 2")), "{got:?}");
        assert!(matches!(&got[4], (5, Err(e)) if e.contains("not a number")), "{got:?}");
        assert_eq!([got[0].clone(), got[1].clone(), got[3].clone()], [(1, Ok(false)), (2, Ok(false)), (4, Ok(false))]);
    }

    #[test]
    fn a_record_past_the_limit_ends_a_stream_with_an_error() {
        let mut text = b"{\"records\":[{\"appId\":\"a\"},{\"appId\":\"".to_vec();
        text.resize(20 << 20, b'x');
        let mut got = Vec::new();
        super::read(&text[..], &|_| true, &mut |n, r| got.push((n, r.map(|_| ()))));
        assert!(matches!(&got[..], [(1, Ok(())), (2, Err(e))] if e.contains("longer than 16 MiB")), "{got:?}");
    }

    #[test]
    fn csv_exports() {
        let portal = "\u{feff}Date (UTC),Application ID,Status,Authentication requirement\n\
                      2026-05-04T09:12:00Z,a,Success,Single-factor authentication\n\n\
                      2026-05-04T09:13:00Z,\"b\",\"Fail,\nure\"\"\",x\n";
        assert_eq!(read(portal), vec![(1, Ok(Some("a".into()))), (2, Ok(Some("b".into())))]);
        let got = read("AppId,ResultType\na,0,extra\n");
        assert!(matches!(&got[0], (1, Err(e)) if e.contains("line 2")), "{got:?}");
        // A quote never closed takes the rest of the file into its row: one field short.
        let got = read("AppId,ResultType\n\"open,0\na,0\n");
        assert!(matches!(&got[0], (1, Err(e)) if e.contains("line 2: 1 fields")), "{got:?}");
        let mut flood = b"AppId,ResultType\n\"".to_vec();
        flood.resize(3 << 20, b'x');
        let mut got = Vec::new();
        super::read(&flood[..], &|_| true, &mut |n, r| got.push((n, r.map(|_| ()))));
        assert!(matches!(&got[..], [(1, Err(e))] if e.contains("longer than 1 MiB")), "{got:?}");
    }

    #[test]
    fn bad_input_is_an_error_naming_the_record() {
        let got = read("{\"appId\":\"a\"}\n{\"appId\":");
        assert_eq!(got[0], (1, Ok(Some("a".into()))));
        assert!(matches!(&got[1], (2, Err(e)) if e.contains("line 2")), "{got:?}");
        let got = read("[{\"appId\":\"a\"}, 7]");
        assert!(matches!(&got[1], (2, Err(e)) if e.contains("not a number")), "{got:?}");
        assert!(matches!(&read("\u{0}\u{1}binary")[0], (1, Err(e)) if e.contains("binary")));
        assert!(matches!(&read("User,Status\nana,Success\n")[0], (1, Err(e)) if e.contains("Application ID")));
        assert!(read("").is_empty());
    }
}
