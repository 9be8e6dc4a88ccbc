//! The text rendering, for a person: a verdict line per token, the claims that matter, findings
//! with what to change, and the 401 Partner Center would answer.

use super::{Decoded, Outcome, Redeemed, Scanned, Tally};
use crate::clock;
use crate::error::InputError;
use crate::judge::code::Level;
use crate::judge::code::Mfa;
use crate::judge::explain::Line;
use crate::judge::outcome::AmrClaim;
use crate::judge::verdict::ENFORCEMENT;
use crate::token::issuer::version as issuer_version;
use crate::token::signature::{Signature, Verification};
use anstyle::{AnsiColor, Style};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::fmt::{self, Display};
use std::io::{self, Write};

/// Whether text output is coloured, and the styles it uses. The default is plain: only a
/// terminal that can show colour, or `--color always`, gets escape codes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Paint {
    on: bool,
}

const GREEN: Style = AnsiColor::Green.on_default();
const RED: Style = AnsiColor::Red.on_default();
const BOLD: Style = Style::new().bold();
const DIM: Style = Style::new().dimmed();
const CYAN: Style = AnsiColor::Cyan.on_default();
const YELLOW: Style = AnsiColor::Yellow.on_default();

impl Paint {
    pub fn new(on: bool) -> Self {
        Paint { on }
    }

    /// `text` in `style`, or as it is when colour is off.
    fn paint<T: Display>(self, style: Style, text: T) -> Painted<T> {
        Painted { style: if self.on { style } else { Style::new() }, text }
    }
}

/// Text between a style's escape code and its reset (neither is written for the plain style).
struct Painted<T> {
    style: Style,
    text: T,
}

impl<T: Display> Display for Painted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}{}", self.style.render(), self.text, self.style.render_reset())
    }
}

/// Claims that hold a NumericDate, shown also as RFC 3339.
const TIME_CLAIMS: [&str; 4] = ["iat", "nbf", "exp", "auth_time"];

/// Why a token is not compliant beyond its MFA state, for the first line: ` (expired,
/// audience-mismatch)`, the codes of its error findings; empty when there are none.
pub fn cause(o: &Outcome) -> String {
    let codes: Vec<&str> = o.findings.iter().filter(|f| f.level == Level::Error).map(|f| f.code.as_str()).collect();
    if o.compliant || codes.is_empty() { String::new() } else { format!(" ({})", codes.join(", ")) }
}

/// The verdict in a few words, for a line of `serve`'s log: `MFA missing`, `MFA satisfied
/// (bad-signature)`, `error (not-a-jwt)`. Printable.
pub fn brief(o: &Outcome) -> String {
    match (&o.error, o.mfa) {
        (Some(error), _) => format!("error ({})", error.code.as_str()),
        (None, mfa) => format!("{}{}", mfa.map_or("", Mfa::label), cause(o)),
    }
}

/// The refusals other than the MFA rule's, in words, printable; empty when there are none.
pub fn refused(o: &Outcome, now: i64) -> String {
    let words = o.partner_center.as_ref().map(|pc| crate::judge::acceptance::phrase(pc, o.token.as_ref(), now));
    printable(&words.unwrap_or_default()).into_owned()
}

/// The verdict line without the source, uncoloured: `✘ not compliant (bad-signature): app+user,
/// MFA satisfied, amr [pwd, mfa]`, then what Partner Center would refuse beyond the MFA rule; or
/// `✘ error (not-a-jwt): …`. The paste page shows it as it is.
pub fn headline(o: &Outcome, now: i64) -> String {
    let (glyph, rest) = verdict(o, now, Paint::default());
    format!("{glyph} {rest}")
}

/// The glyph, and the rest of the verdict line after the source.
fn verdict(o: &Outcome, now: i64, paint: Paint) -> (String, String) {
    if let Some(error) = &o.error {
        return (
            paint.paint(RED.bold(), "✘").to_string(),
            format!("{} ({}): {}", paint.paint(RED.bold(), "error"), error.code.as_str(), printable(&error.message)),
        );
    }
    let (glyph, verdict) = if o.compliant {
        (paint.paint(GREEN.bold(), "✔"), paint.paint(GREEN.bold(), "compliant".to_owned()))
    } else {
        (paint.paint(RED.bold(), "✘"), paint.paint(RED.bold(), format!("not compliant{}", cause(o))))
    };
    let kind = o.kind.map(|k| k.to_string()).unwrap_or_default();
    let mfa = match o.mfa {
        Some(state @ Mfa::Satisfied) => paint.paint(GREEN, state.label()),
        Some(state @ Mfa::Missing) => paint.paint(RED, state.label()),
        state => paint.paint(Style::new(), state.map_or("", Mfa::label)),
    };
    let amr = amr(o.amr.as_ref());
    // What Partner Center would refuse beyond the MFA rule, on the first line: a green ✔ for a
    // Graph or an expired token must not read as "Partner Center will take it".
    let refused = match refused(o, now) {
        words if words.is_empty() => String::new(),
        words => {
            let lead = if o.compliant {
                " — but Partner Center would refuse it: "
            } else {
                " — Partner Center would refuse it: "
            };
            paint.paint(YELLOW.bold(), format!("{lead}{words}")).to_string()
        }
    };
    (glyph.to_string(), format!("{verdict}: {kind}, {mfa}, {}{refused}", printable(&amr)))
}

/// The facts under the verdict line, label and value (not yet made printable): kind, audience,
/// issuer, tenant, app, user, idp, times, signature.
pub fn fields(o: &Outcome, now: i64, paint: Paint) -> Vec<(&'static str, String)> {
    let mut fields = Vec::new();
    if o.error.is_some() {
        return fields;
    }
    let kind = o.kind.map(|k| k.to_string()).unwrap_or_default();
    fields.push(("kind", format!("{kind}: {}", o.kind_reason.as_deref().unwrap_or_default())));
    if let Some(t) = &o.token {
        if let Some(aud) = &t.aud {
            let note = t.audience_name.map(|name| format!(" ({name})")).unwrap_or_default();
            fields.push(("audience", format!("{aud}{note}")));
        }
        // The issuer's form says the format; B2C tokens say ver 1.0 under a v2.0 issuer.
        let version = match (issuer_version(t.iss.as_deref()), t.ver.as_deref()) {
            (Some(form), Some(ver)) if form != ver => format!("v{form} issuer, ver {ver}, "),
            (Some(form), _) => format!("v{form}, "),
            (None, Some(ver)) => format!("v{ver}, "),
            (None, None) => String::new(),
        };
        fields.push(("issuer", format!("{} ({version}{})", t.iss.as_deref().unwrap_or("none"), t.alg)));
        if let Some(tid) = &t.tid {
            fields.push(("tenant", tid.to_string()));
        }
        if let Some(app) = &t.app_id {
            let how = t.app_auth.as_deref().map(|a| format!(" ({})", a.replace('-', " "))).unwrap_or_default();
            fields.push(("app", format!("{app}{how}")));
        }
        if let Some(user) = &t.user {
            fields.push(("user", user.to_string()));
        }
        if let Some(idp) = &t.idp {
            let note = if t.cross_tenant { " (another tenant than the issuer)" } else { "" };
            fields.push(("idp", format!("{idp}{note}")));
        }
        if let Some(iat) = &t.iat {
            fields.push(("issued", iat.to_string()));
        }
        if let Some(exp) = t.exp {
            fields.push(("expires", format!("{exp} ({})", clock::expiry_phrase(exp.seconds(), now))));
        }
    }
    if o.signature.signature != Signature::NotChecked {
        fields.push(("signature", signature(&o.signature, paint)));
    }
    fields
}

/// One result: the verdict line, then its details. `width`: a terminal's, to wrap findings to.
pub fn outcome<W: Write>(
    out: &mut W,
    o: &Outcome,
    now: i64,
    first: bool,
    width: Option<usize>,
    paint: Paint,
) -> io::Result<()> {
    if !first {
        writeln!(out)?;
    }
    if let Some(error) = &o.error {
        return error_line(out, &o.source, error, paint);
    }
    let (glyph, rest) = verdict(o, now, paint);
    let head = format!("{glyph} {}  {rest}", paint.paint(BOLD, printable(&o.source)));
    match width {
        Some(width) => writeln!(out, "{}", wrap(&head, 0, 4, width))?,
        None => writeln!(out, "{head}")?,
    }
    for (label, value) in fields(o, now, paint) {
        let value = printable(&value);
        let value = match width {
            Some(width) => wrap(&value, 14, 14, width),
            None => value,
        };
        writeln!(out, "    {} {value}", paint.paint(DIM, format!("{label:<9}")))?;
    }
    for f in &o.findings {
        let padded = format!("{:<9}", f.level.as_str());
        let style = match f.level {
            Level::Error => RED.bold(),
            Level::Warning => AnsiColor::Yellow.on_default().bold(),
            Level::Hint => CYAN.bold(),
            Level::Info => AnsiColor::Blue.on_default(),
        };
        let level = paint.paint(style, padded);
        let message = printable(&f.message);
        // "    " + level (9) + " " + code + ": " comes before the message.
        let lead = 4 + 9 + 1 + f.code.as_str().len() + 2;
        let message = match width {
            Some(width) => wrap(&message, lead, 14, width),
            None => message,
        };
        writeln!(out, "    {level} {}: {message}", paint.paint(BOLD, f.code.as_str()))?;
    }
    if let Some(response) = &o.response {
        writeln!(out, "    {}", paint.paint(RED, "Partner Center would answer:"))?;
        for line in response.text().lines() {
            writeln!(out, "      {line}")?;
        }
    }
    Ok(())
}

/// `text` broken at spaces so that no line passes `width` columns, the first starting at column
/// `lead` and the others indented by `indent` (14: under a finding's level column's end).
pub fn wrap(text: &str, lead: usize, indent: usize, width: usize) -> Cow<'_, str> {
    let width = width.max(indent + 20);
    if lead + visible_len(text) <= width {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 64);
    let mut column = lead;
    for word in text.split(' ') {
        let len = visible_len(word);
        if column > indent && column + 1 + len > width {
            out.push('\n');
            out.extend(std::iter::repeat_n(' ', indent));
            column = indent;
        } else if !out.is_empty() {
            out.push(' ');
            column += 1;
        }
        out.push_str(word);
        column += len;
    }
    Cow::Owned(out)
}

/// `verified (RS256, key "kid")`, or the status alone: a failure's reason is in its finding.
fn signature(v: &Verification, paint: Paint) -> String {
    match v.signature {
        Signature::Verified => format!("{} ({})", paint.paint(GREEN, "verified"), printable(&v.detail)),
        other => paint.paint(RED, other.as_str().replace('-', " ")).to_string(),
    }
}

pub use super::sanitize::printable;

fn amr(value: Option<&AmrClaim>) -> String {
    match value.map(|amr| (amr, amr.methods())) {
        None => "no amr".into(),
        Some((_, Some(methods))) => format!("amr [{}]", methods.join(", ")),
        Some((other, None)) => {
            format!("amr {} (not an array of strings)", serde_json::to_string(other).unwrap_or_default())
        }
    }
}

fn error_line<W: Write>(out: &mut W, source: &str, error: &InputError, paint: Paint) -> io::Result<()> {
    let (glyph, label) = (paint.paint(RED.bold(), "✘"), paint.paint(RED.bold(), "error"));
    let (source, message) = (printable(source), printable(&error.message));
    writeln!(out, "{glyph} {}  {label} ({}): {message}", paint.paint(BOLD, source), error.code.as_str())?;
    match error.fix() {
        Some(fix) => writeln!(out, "    {} {fix}", paint.paint(DIM, "fix:")),
        None => Ok(()),
    }
}

/// The columns `text` takes on a terminal: its characters less those of colour escapes.
fn visible_len(text: &str) -> usize {
    let (mut len, mut escape) = (0, false);
    for c in text.chars() {
        match c {
            '\x1b' => escape = true,
            'm' if escape => escape = false,
            _ if escape => {}
            _ => len += 1,
        }
    }
    len
}

/// `1 token`, `2 tokens`: a count and its noun (whose plural takes an `s`).
pub fn count(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

/// Today's enforcement of the 401: once per run, after the results (the same for every 401).
pub fn enforcement<W: Write>(out: &mut W, width: Option<usize>) -> io::Result<()> {
    writeln!(out, "\n{}", wrap(&format!("Note: {ENFORCEMENT}"), 0, 6, width.unwrap_or(usize::MAX)))
}

/// The closing count line: `check`'s, `scan`'s (which names the occurrences), or none (`scan
/// --summary` writes it on stderr, above the table).
pub enum CountLine {
    Tokens,
    Occurrences(usize),
    None,
}

pub fn summary<W: Write>(out: &mut W, tally: &Tally, width: Option<usize>, line: CountLine) -> io::Result<()> {
    if tally.mfa_refused > 0 {
        enforcement(out, width)?;
    }
    let found = match line {
        CountLine::None => return Ok(()),
        _ if tally.total < 2 => return Ok(()),
        CountLine::Tokens => count(tally.total, "token"),
        CountLine::Occurrences(n) => format!("{} found ({})", count(tally.total, "token"), count(n, "occurrence")),
    };
    writeln!(
        out,
        "\n{found}: {} compliant, {} not compliant, {}",
        tally.compliant,
        tally.non_compliant,
        count(tally.errors, "error")
    )
}

/// `scan`'s tokens found again after their result was written, with their count in all.
pub fn repeats<W: Write>(out: &mut W, repeats: &[super::Repeat]) -> io::Result<()> {
    writeln!(out, "\nfound again after their result was written:")?;
    for r in repeats {
        writeln!(out, "    {}  found {}", printable(&r.source), count(r.count, "time"))?;
    }
    Ok(())
}

pub fn decoded<W: Write>(out: &mut W, d: &Decoded, first: bool, paint: Paint) -> io::Result<()> {
    if !first {
        writeln!(out)?;
    }
    if let Some(error) = &d.error {
        return error_line(out, &d.source, error, paint);
    }
    writeln!(out, "{}", paint.paint(BOLD, printable(&d.source)))?;
    if let Some(warning) = &d.warning {
        writeln!(out, "{} {}", paint.paint(AnsiColor::Yellow.on_default().bold(), "warning"), printable(warning))?;
    }
    if let Some(v) = &d.signature {
        let reason =
            if v.signature == Signature::Verified { String::new() } else { format!(": {}", printable(&v.detail)) };
        writeln!(out, "{} {}{reason}", paint.paint(DIM, "signature"), signature(v, paint))?;
    }
    if let Some(header) = &d.header {
        object(out, "header", header, paint)?;
    }
    if let Some(claims) = &d.claims {
        object(out, "claims", claims, paint)?;
    }
    Ok(())
}

/// A pretty-printed object whose time claims also show as RFC 3339 dates.
fn object<W: Write>(out: &mut W, label: &str, map: &Map<String, Value>, paint: Paint) -> io::Result<()> {
    writeln!(out, "{} {{", paint.paint(DIM, label))?;
    for (i, (key, value)) in map.iter().enumerate() {
        // Split first: the pretty printer's own newlines are structure, every other one is escaped.
        let pretty = serde_json::to_string_pretty(value)?;
        let text = pretty.split('\n').map(printable).collect::<Vec<_>>().join("\n  ");
        let comma = if i + 1 < map.len() { "," } else { "" };
        let date = match value.as_i64() {
            Some(seconds) if TIME_CLAIMS.contains(&key.as_str()) => clock::rfc3339(seconds)
                .map(|d| format!("  {}", paint.paint(DIM, format!("// {d}"))))
                .unwrap_or_default(),
            _ => String::new(),
        };
        writeln!(out, "  {}: {text}{comma}{date}", paint.paint(CYAN, printable(&serde_json::to_string(key)?)))?;
    }
    writeln!(out, "}}")
}

// scan results and --explain.

/// A scan result: `outcome`'s block, with where the token was seen and how often under its first
/// line.
pub fn scanned<W: Write>(
    out: &mut W,
    s: &Scanned,
    now: i64,
    first: bool,
    width: Option<usize>,
    paint: Paint,
) -> io::Result<()> {
    with_facts(out, s.outcome, now, first, width, paint, |out, field| {
        if let Some(request) = s.request {
            writeln!(out, "    {} {} {}", field("request"), printable(&request.method), printable(&request.url))?;
        }
        if s.count > 1 {
            writeln!(out, "    {} {} times", field("found"), s.count)?;
        }
        Ok(())
    })
}

/// A `redeem` result: the verdict, where the token came from, then the rest of the result.
pub fn redeemed<W: Write>(
    out: &mut W,
    r: &Redeemed,
    now: i64,
    first: bool,
    width: Option<usize>,
    paint: Paint,
) -> io::Result<()> {
    with_facts(out, r.outcome, now, first, width, paint, |out, field| {
        writeln!(out, "    {} {}", field("endpoint"), printable(&r.redeem.token_endpoint))?;
        if let Some(seconds) = r.redeem.expires_in {
            let rotated = if r.redeem.refresh_token_rotated { "; a new refresh token was returned" } else { "" };
            writeln!(out, "    {} access token valid for {seconds} s{rotated}", field("redeemed"))?;
        }
        Ok(())
    })
}

/// `outcome`'s block with lines of the engine's own facts under its verdict line (`field` pads
/// and dims a label as the block's own fields are).
fn with_facts<W: Write>(
    out: &mut W,
    outcome: &Outcome,
    now: i64,
    first: bool,
    width: Option<usize>,
    paint: Paint,
    facts: impl FnOnce(&mut W, &dyn Fn(&str) -> String) -> io::Result<()>,
) -> io::Result<()> {
    let mut block = Vec::new();
    super::text::outcome(&mut block, outcome, now, first, width, paint)?;
    // The verdict line ends at the first newline after the blank line that separates results.
    let split = block.iter().skip(1).position(|&b| b == b'\n').map_or(block.len(), |i| i + 2);
    out.write_all(&block[..split])?;
    facts(out, &|label: &str| paint.paint(DIM, format!("{label:<9}")).to_string())?;
    out.write_all(&block[split..])
}

/// What a redemption gave, in one line (junit's `system-out`, github's message).
pub fn redeem_facts(r: &crate::redeem::RedeemInfo) -> String {
    let mut facts = format!("token endpoint {}", printable(&r.token_endpoint));
    if let Some(seconds) = r.expires_in {
        facts.push_str(&format!("; access token valid for {seconds} s"));
    }
    if r.refresh_token_rotated {
        facts.push_str("; a new refresh token was returned");
    }
    facts
}

/// Claims explained, one per line, under `indent`.
/// Each claim's one-line meaning; `columns`: a terminal's width, to wrap them to.
pub fn explanation<W: Write>(
    out: &mut W,
    lines: &[Line],
    indent: &str,
    columns: Option<usize>,
    paint: Paint,
) -> io::Result<()> {
    writeln!(out, "{indent}{}", paint.paint(DIM, "claims explained:"))?;
    let width = lines.iter().map(|l| l.name.chars().count()).max().unwrap_or(0).min(20);
    // Wrapped lines go on under the value, after the name column.
    let lead = indent.chars().count() + 2 + width + 1;
    for l in lines {
        let name = format!("{:<width$}", printable(&l.name));
        let (value, meaning) = (printable(&l.value), printable(&l.meaning));
        let meaning = match columns {
            Some(columns) => Cow::Owned(wrap(&meaning, lead + value.chars().count() + 3, lead, columns).into_owned()),
            None => meaning,
        };
        writeln!(out, "{indent}  {} {value} {} {meaning}", paint.paint(CYAN, name), paint.paint(DIM, "—"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn findings_wrap_to_the_width_and_only_when_long() {
        assert_eq!(wrap("short text", 20, 14, 80), "short text");
        let long = "word ".repeat(40);
        let wrapped = wrap(long.trim(), 30, 14, 60);
        let lines: Vec<&str> = wrapped.lines().collect();
        assert!(lines.len() > 2, "{wrapped}");
        assert!(lines[0].len() + 30 <= 60);
        assert!(lines[1..].iter().all(|l| l.starts_with(&" ".repeat(14)) && l.len() <= 60), "{wrapped}");
        assert_eq!(wrapped.split_whitespace().count(), 40, "no word lost");
    }
}
