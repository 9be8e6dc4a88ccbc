//! `--format github`: GitHub Actions workflow commands, one `::error` per token that is not
//! compliant or not decodable, with the file and line of its source where it has them; nothing
//! for a compliant token.

use super::text::printable;
use crate::judge::Outcome;
use crate::judge::code::Level;
use crate::judge::code::Mfa;
use std::io::{self, Write};

/// `facts`: what else the result says (`redeem`), added to the message; with them a compliant
/// result is a `::notice` rather than nothing.
pub fn outcome<W: Write>(out: &mut W, o: &Outcome, now: i64, facts: Option<&str>) -> io::Result<()> {
    let refused = super::text::refused(o, now);
    let facts = facts.map(|f| format!(" ({f})")).unwrap_or_default();
    let (title, message) = if let Some(error) = &o.error {
        let fix = error.fix().map(|fix| format!(" Fix: {fix}")).unwrap_or_default();
        (format!("mfacheck: {}", error.code.as_str()), format!("{}: {}{fix}{facts}", o.source, error.message))
    } else if o.compliant && refused.is_empty() {
        if facts.is_empty() {
            return Ok(());
        }
        let kind = o.kind.map(|k| k.to_string()).unwrap_or_default();
        let message = format!("{}: {kind}, {}{facts}", o.source, o.mfa.map_or("", Mfa::label));
        return command(out, "notice", &o.source, "mfacheck: compliant", &message);
    } else if o.compliant {
        // Compliant with the MFA rule, yet Partner Center would refuse the call: a warning, so the
        // job passes but the log says it.
        let kind = o.kind.map(|k| k.to_string()).unwrap_or_default();
        let title = "mfacheck: compliant, but Partner Center would refuse it";
        let message = format!(
            "{}: {kind}, {}; Partner Center would refuse it: {refused}{facts}",
            o.source,
            o.mfa.map_or("", Mfa::label)
        );
        return command(out, "warning", &o.source, title, &message);
    } else {
        let mfa = o.mfa.map_or("", Mfa::label);
        let kind = o.kind.map(|k| k.to_string()).unwrap_or_default();
        let shown = o.findings.iter().filter(|f| f.level <= Level::Hint);
        let findings: Vec<String> = shown.map(|f| format!("{}: {}", f.code, f.message)).collect();
        let title = format!("mfacheck: not compliant{}", super::text::cause(o));
        let refused =
            if refused.is_empty() { String::new() } else { format!(" Partner Center would refuse it: {refused}.") };
        (title, format!("{}: {kind}, {mfa}.{refused} {}{facts}", o.source, findings.join(" ")))
    };
    command(out, "error", &o.source, &title, &message)
}

/// One workflow command (`::error …` or `::warning …`) for a result from `source`.
pub fn command<W: Write>(out: &mut W, level: &str, source: &str, title: &str, message: &str) -> io::Result<()> {
    let mut properties = String::new();
    if let Some((file, lines)) = place(source) {
        properties.push_str(&format!("file={}", property(file)));
        if let Some((first, last)) = lines {
            properties.push_str(&format!(",line={first}"));
            if last != first {
                properties.push_str(&format!(",endLine={last}"));
            }
        }
        properties.push(',');
    }
    properties.push_str(&format!("title={}", property(title)));
    writeln!(out, "::{level} {properties}::{}", data(&printable(message)))
}

/// The file and lines a source names: `PATH:LINE`, `PATH:FIRST-LAST`, `PATH:entry-N` and
/// `PATH:record-N` (no line);
/// `arg:N` and `stdin:…` name no file.
pub fn place(source: &str) -> Option<(&str, Option<(usize, usize)>)> {
    let (file, at) = source.rsplit_once(':').unwrap_or((source, ""));
    if file.is_empty() || file == "stdin" || file == "arg" {
        return None;
    }
    let lines = match at.split_once('-') {
        _ if at.starts_with("entry-") || at.starts_with("record-") => None,
        Some((a, b)) => a.parse().ok().zip(b.parse().ok()),
        None => at.parse().ok().map(|n| (n, n)),
    };
    if lines.is_none() && !at.starts_with("entry-") && !at.starts_with("record-") && !at.is_empty() {
        return Some((source, None));
    }
    Some((file, lines))
}

fn data(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places() {
        assert_eq!(place("fixtures/a.jwt:3"), Some(("fixtures/a.jwt", Some((3, 3)))));
        assert_eq!(place("a.txt:3-5"), Some(("a.txt", Some((3, 5)))));
        assert_eq!(place("cap.har:entry-2"), Some(("cap.har", None)));
        assert_eq!(place("stdin:4"), None);
        assert_eq!(place("arg:1"), None);
        assert_eq!(property("a:b,c%"), "a%3Ab%2Cc%25");
    }
}
