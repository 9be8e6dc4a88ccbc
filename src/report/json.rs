//! JSON renderings: `json` is one array (pretty, streamed item by item), `ndjson` one compact
//! object per line. Each format has one encoder: serde's for `json` and for the other result
//! types; [`write_outcome`] for the result object in ndjson, the bulk of a large run.

use crate::judge::classify::Kind;
use crate::judge::outcome::{AmrClaim, Outcome};
use serde::Serialize;
use std::io::{self, Write};

pub fn line<W: Write, T: Serialize>(out: &mut W, item: &T) -> io::Result<()> {
    serde_json::to_writer(&mut *out, item)?;
    out.write_all(b"\n")
}

/// One element of the array; the first also opens it. Elements are indented as if the whole
/// array had been pretty-printed at once.
pub fn array_item<W: Write, T: Serialize>(out: &mut W, item: &T, first: bool) -> io::Result<()> {
    out.write_all(if first { b"[\n  " } else { b",\n  " })?;
    // Into a buffer each thread reuses, then out a line at a time, indented (JSON strings escape
    // their newlines: every newline is the formatter's). A new string per element, and another
    // for its indented copy, were a tenth of a large `--format json` run.
    thread_local! {
        static PRETTY: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    PRETTY.with_borrow_mut(|text| {
        text.clear();
        serde_json::to_writer_pretty(&mut *text, item)?;
        let mut start = 0;
        for at in memchr::memchr_iter(b'\n', text) {
            out.write_all(&text[start..=at])?;
            out.write_all(b"  ")?;
            start = at + 1;
        }
        out.write_all(&text[start..])
    })
}

pub fn array_end<W: Write>(out: &mut W, empty: bool) -> io::Result<()> {
    out.write_all(if empty { b"[]\n" } else { b"\n]\n" })
}

/// One result object as compact JSON, byte for byte what `serde_json::to_writer` writes for it
/// (tests compare them on every path), but a string without anything to escape is copied whole:
/// escaping byte by byte was a fifth of an ndjson run.
pub fn write_outcome<W: Write>(out: &mut W, o: &Outcome) -> io::Result<()> {
    let mut j = JsonOut(out);
    j.raw(b"{\"source\":")?;
    j.str(&o.source)?;
    j.raw(b",\"kind\":")?;
    match o.kind {
        Some(Kind::AppUser) => j.label("app+user")?,
        Some(Kind::AppOnly) => j.label("app-only")?,
        None => j.raw(b"null")?,
    }
    j.raw(b",\"kind_reason\":")?;
    j.opt(o.kind_reason.as_deref())?;
    j.raw(b",\"mfa\":")?;
    match o.mfa {
        Some(mfa) => j.label(mfa.as_str())?,
        None => j.raw(b"null")?,
    }
    j.raw(if o.compliant {
        b",\"compliant\":true,\"partner_center\":"
    } else {
        b",\"compliant\":false,\"partner_center\":"
    })?;
    match &o.partner_center {
        None => j.raw(b"null")?,
        Some(pc) => {
            j.raw(match pc.accepted {
                Some(true) => b"{\"accepted\":true,\"refusals\":[",
                Some(false) => b"{\"accepted\":false,\"refusals\":[",
                None => b"{\"accepted\":null,\"refusals\":[",
            })?;
            for (i, refusal) in pc.refusals.iter().enumerate() {
                if i > 0 {
                    j.raw(b",")?;
                }
                j.label(refusal.as_str())?;
            }
            j.raw(b"]}")?;
        }
    }
    j.raw(b",\"signature\":")?;
    j.label(o.signature.signature.as_str())?;
    j.raw(b",\"amr\":")?;
    match &o.amr {
        None => j.raw(b"null")?,
        Some(AmrClaim::Methods(methods)) => j.strs(methods.iter().copied())?,
        Some(AmrClaim::Owned(methods)) => j.strs(methods.iter().map(String::as_str))?,
        Some(other) => serde_json::to_writer(&mut *j.0, other)?,
    }
    j.raw(b",\"token\":")?;
    match &o.token {
        None => j.raw(b"null")?,
        Some(t) => {
            j.raw(b"{\"type\":")?;
            j.label(t.token_type.as_str())?;
            j.raw(b",\"ver\":")?;
            j.opt(t.ver.as_deref())?;
            j.raw(b",\"alg\":")?;
            j.str(&t.alg)?;
            for (name, value) in [(&b",\"kid\":"[..], &t.kid), (b",\"aud\":", &t.aud)] {
                j.raw(name)?;
                j.opt(value.as_deref())?;
            }
            j.raw(b",\"audience_name\":")?;
            match t.audience_name {
                Some(name) => j.label(name)?,
                None => j.raw(b"null")?,
            }
            for (name, value) in [
                (&b",\"iss\":"[..], &t.iss),
                (b",\"tid\":", &t.tid),
                (b",\"app_id\":", &t.app_id),
                (b",\"app_auth\":", &t.app_auth),
                (b",\"user\":", &t.user),
                (b",\"oid\":", &t.oid),
                (b",\"idp\":", &t.idp),
            ] {
                j.raw(name)?;
                j.opt(value.as_deref())?;
            }
            j.raw(if t.cross_tenant {
                b",\"cross_tenant\":true,\"scp\":"
            } else {
                b",\"cross_tenant\":false,\"scp\":"
            })?;
            j.opt(t.scp.as_deref())?;
            for (name, value) in [(&b",\"iat\":"[..], t.iat), (b",\"nbf\":", t.nbf), (b",\"exp\":", t.exp)] {
                j.raw(name)?;
                match value {
                    Some(time) => time.with_text(|text| j.str(text))?,
                    None => j.raw(b"null")?,
                }
            }
            j.raw(if t.expired { b",\"expired\":true}" } else { b",\"expired\":false}" })?;
        }
    }
    j.raw(b",\"response\":")?;
    match &o.response {
        None => j.raw(b"null")?,
        Some(response) => {
            write!(j.0, "{{\"status\":{},\"text\":", response.status)?;
            j.str(&response.text())?;
            write!(j.0, ",\"error_code\":{}}}", response.error_code)?;
        }
    }
    j.raw(b",\"findings\":[")?;
    for (i, finding) in o.findings.iter().enumerate() {
        j.raw(if i > 0 { b",{\"code\":" } else { b"{\"code\":" })?;
        j.label(finding.code.as_str())?;
        j.raw(b",\"level\":")?;
        j.label(finding.level.as_str())?;
        j.raw(b",\"message\":")?;
        j.str(&finding.message)?;
        j.raw(b"}")?;
    }
    j.raw(b"],\"error\":")?;
    match &o.error {
        None => j.raw(b"null}"),
        Some(error) => {
            serde_json::to_writer(&mut *j.0, error)?;
            j.raw(b"}")
        }
    }
}

struct JsonOut<'w, W: Write>(&'w mut W);

/// Strings up to this long (all but messages) are quoted on the stack.
const SHORT: usize = 94;

impl<W: Write> JsonOut<'_, W> {
    fn raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.0.write_all(bytes)
    }

    /// One of our own labels (a kind, a verdict, a finding code): written in the program, so it
    /// has nothing to escape, and the test for it is left out (a tenth of an ndjson run's
    /// instructions went to testing a handful of short strings per token).
    fn label(&mut self, text: &'static str) -> io::Result<()> {
        debug_assert!(text.len() <= SHORT && text.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\'));
        let mut quoted = [b'"'; SHORT + 2];
        quoted[1..=text.len()].copy_from_slice(text.as_bytes());
        self.0.write_all(&quoted[..text.len() + 2])
    }

    fn str(&mut self, text: &str) -> io::Result<()> {
        // serde_json escapes '"', '\\' and control characters, nothing else.
        let plain = text.bytes().fold(true, |ok, b| ok & (b >= 0x20) & (b != b'"') & (b != b'\\'));
        if plain && text.len() <= SHORT {
            // Quoted in one write: three writes per string were a tenth of an ndjson run.
            let mut quoted = [b'"'; SHORT + 2];
            quoted[1..=text.len()].copy_from_slice(text.as_bytes());
            self.0.write_all(&quoted[..text.len() + 2])
        } else if plain {
            self.0.write_all(b"\"")?;
            self.0.write_all(text.as_bytes())?;
            self.0.write_all(b"\"")
        } else {
            Ok(serde_json::to_writer(&mut *self.0, text)?)
        }
    }

    fn opt(&mut self, text: Option<&str>) -> io::Result<()> {
        match text {
            Some(text) => self.str(text),
            None => self.raw(b"null"),
        }
    }

    fn strs<'s>(&mut self, items: impl Iterator<Item = &'s str>) -> io::Result<()> {
        self.raw(b"[")?;
        for (i, item) in items.enumerate() {
            if i > 0 {
                self.raw(b",")?;
            }
            self.str(item)?;
        }
        self.raw(b"]")
    }
}
