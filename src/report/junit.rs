//! `--format junit`: JUnit XML for CI (Azure DevOps, GitLab, Jenkins), one `testcase` per token
//! named by its source: a `failure` when it is not compliant, an `error` when it does not decode.
//! The document's counts come first, so test cases are held until the end (they are small).

use super::Tally;
use super::text::printable;
use crate::judge::Outcome;
use crate::judge::code::Level;
use crate::judge::code::Mfa;
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use std::io::{self, Write};

/// One test case, written to `out` (the printer's held cases); `facts`: what else the result
/// says (`redeem`), as its `system-out`.
pub fn testcase<W: Write>(out: &mut W, o: &Outcome, suite: &str, now: i64, facts: Option<&str>) -> io::Result<()> {
    if let Some(error) = &o.error {
        let fix = error.fix().map(|fix| format!("Fix: {fix}")).unwrap_or_default();
        let message = printable(&error.message);
        let failure = Failure { tag: "error", kind: error.code.as_str(), message: &message, body: &fix };
        return case(out, &o.source, suite, Some(failure), facts);
    }
    if o.compliant {
        let refused = super::text::refused(o, now);
        // Passing, but the report says what Partner Center would do with the token.
        let refused = (!refused.is_empty()).then(|| format!("Partner Center would refuse it: {refused}"));
        let lines: Vec<&str> = refused.as_deref().into_iter().chain(facts).collect();
        let said = (!lines.is_empty()).then(|| lines.join("\n"));
        return case(out, &o.source, suite, None, said.as_deref());
    }
    let cause = super::text::cause(o);
    // The finding that decided: an error, else the hint that explains a missing MFA.
    let decisive = o.findings.iter().find(|f| f.level == Level::Error).or_else(|| o.findings.first());
    let kind = decisive.map_or("not-compliant", |f| f.code.as_str());
    let mfa = o.mfa.map_or("", Mfa::label);
    let kind_name = o.kind.map(|k| k.to_string()).unwrap_or_default();
    let refused = super::text::refused(o, now);
    let refused =
        if refused.is_empty() { String::new() } else { format!(" — Partner Center would refuse it: {refused}") };
    let message = format!("not compliant{cause}: {kind_name}, {mfa}{refused}");
    let body: Vec<String> =
        o.findings.iter().map(|f| format!("{} {}: {}", f.level.as_str(), f.code, printable(&f.message))).collect();
    let failure = Failure { tag: "failure", kind, message: &message, body: &body.join("\n") };
    case(out, &o.source, suite, Some(failure), facts)
}

/// Why a test case did not pass: a `failure` (not compliant) or an `error` (no verdict).
pub struct Failure<'a> {
    pub tag: &'static str,
    pub kind: &'a str,
    pub message: &'a str,
    pub body: &'a str,
}

/// One `testcase` named `name`: passing without `failure`; `system_out` as its output. Every
/// junit result (tokens and sign-ins) is written here.
pub fn case<W: Write>(
    out: &mut W,
    name: &str,
    suite: &str,
    failure: Option<Failure>,
    said: Option<&str>,
) -> io::Result<()> {
    out.write_all(b"    ")?;
    let mut xml = Writer::new(&mut *out);
    let mut case = BytesStart::new("testcase");
    case.push_attribute(("name", &*printable(name)));
    case.push_attribute(("classname", suite));
    if failure.is_none() && said.is_none() {
        xml.write_event(Event::Empty(case)).map_err(io::Error::other)?;
        return out.write_all(b"\n");
    }
    xml.write_event(Event::Start(case)).map_err(io::Error::other)?;
    if let Some(Failure { tag, kind, message, body }) = failure {
        let mut element = BytesStart::new(tag);
        element.push_attribute(("message", message));
        element.push_attribute(("type", kind));
        if body.is_empty() {
            xml.write_event(Event::Empty(element)).map_err(io::Error::other)?;
        } else {
            xml.write_event(Event::Start(element)).map_err(io::Error::other)?;
            xml.write_event(Event::Text(BytesText::new(body))).map_err(io::Error::other)?;
            xml.write_event(Event::End(BytesEnd::new(tag))).map_err(io::Error::other)?;
        }
    }
    if let Some(text) = said {
        system_out(&mut xml, text)?;
    }
    xml.write_event(Event::End(BytesEnd::new("testcase"))).map_err(io::Error::other)?;
    out.write_all(b"\n")
}

fn system_out<W: Write>(xml: &mut Writer<W>, text: &str) -> io::Result<()> {
    xml.write_event(Event::Start(BytesStart::new("system-out"))).map_err(io::Error::other)?;
    xml.write_event(Event::Text(BytesText::new(text))).map_err(io::Error::other)?;
    xml.write_event(Event::End(BytesEnd::new("system-out"))).map_err(io::Error::other)
}

/// The whole document: the counts, then the held test cases.
pub fn document<W: Write>(out: &mut W, suite: &str, tally: &Tally, cases: &[u8]) -> io::Result<()> {
    let (tests, failures, errors) =
        (tally.total.to_string(), tally.non_compliant.to_string(), tally.errors.to_string());
    let counts = [("tests", tests.as_str()), ("failures", failures.as_str()), ("errors", errors.as_str())];
    let mut suites = BytesStart::new("testsuites");
    suites.push_attribute(("name", "mfacheck"));
    suites.extend_attributes(counts);
    let mut one = BytesStart::new("testsuite");
    one.push_attribute(("name", suite));
    one.extend_attributes(counts);
    let mut xml = Writer::new(&mut *out);
    xml.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None))).map_err(io::Error::other)?;
    xml.get_mut().write_all(b"\n")?;
    xml.write_event(Event::Start(suites)).map_err(io::Error::other)?;
    xml.get_mut().write_all(b"\n  ")?;
    xml.write_event(Event::Start(one)).map_err(io::Error::other)?;
    out.write_all(b"\n")?;
    out.write_all(cases)?;
    out.write_all(b"  </testsuite>\n</testsuites>\n")
}
