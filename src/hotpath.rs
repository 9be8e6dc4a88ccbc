//! The hot path: checks one token as [`crate::check_token`] does, with the same classification
//! and verdict code, but without building a `serde_json::Value`, without decoding the signature
//! and without allocating for an ordinary token (the decoded segments go into buffers the
//! [`Checker`] keeps; claims are borrowed from them).
//!
//! It takes only what it can judge exactly like the slow path: a well-formed token whose JSON
//! keeps to plain values (see `Json`). Anything else (every decode error, an escaped string, a
//! fraction, a nested object, an `amr` that is not a short array of strings, more than 64 claims)
//! makes it answer `None`, and the caller runs [`crate::check_token`], which says precisely what
//! is wrong. So errors and odd tokens cost what they cost before; results are identical either
//! way (`tests/batch.rs` and the tests below compare the two on fixtures and generated mixes).

use crate::claims::{Amr, Claims};
use crate::classify::{self, Kind};
use crate::clock;
use crate::error::InputError;
use crate::input::MAX_LINE_BYTES;
use crate::report::{Outcome, TokenSummary};
use crate::verdict::{self, Finding, Mfa, Policy, Response};
use crate::verify::{Signature, Verification};
use serde::{Serialize, Serializer};
use std::borrow::Cow;
use std::fmt;
use std::io::{self, Write};

/// Reusable decoding buffers: one per thread.
#[derive(Default)]
pub struct Checker {
    header: Vec<u8>,
    payload: Vec<u8>,
    /// The last header segment and what it said (`alg`, `kid`): the tokens of one issuer share a
    /// header until its signing key rolls over, so most tokens skip decoding theirs.
    last_header: (String, String, Option<String>),
}

/// The result object of one token, borrowed: it serializes exactly as [`Outcome`] does (same
/// fields, same order; a test fails when `Outcome` gains a field this view lacks).
#[derive(Debug, Serialize)]
pub struct OutcomeView<'a> {
    pub source: &'a str,
    pub kind: Option<Kind>,
    pub kind_reason: Option<&'a str>,
    pub mfa: Option<Mfa>,
    pub compliant: bool,
    /// Always `not-checked`: a token to verify takes the slow path.
    pub signature: Signature,
    pub amr: Option<&'a [&'a str]>,
    pub token: Option<SummaryView<'a>>,
    pub response: Option<&'a Response>,
    pub findings: &'a [Finding],
    pub error: Option<&'a InputError>,
}

/// [`TokenSummary`], borrowed.
#[derive(Debug, Serialize)]
pub struct SummaryView<'a> {
    pub ver: Option<&'a str>,
    pub alg: &'a str,
    pub kid: Option<&'a str>,
    pub aud: Option<&'a str>,
    pub iss: Option<&'a str>,
    pub tid: Option<&'a str>,
    pub app_id: Option<&'a str>,
    pub app_auth: Option<&'a str>,
    pub user: Option<&'a str>,
    pub oid: Option<&'a str>,
    pub idp: Option<&'a str>,
    pub cross_tenant: bool,
    pub scp: Option<&'a str>,
    pub iat: Option<Time>,
    pub nbf: Option<Time>,
    pub exp: Option<Time>,
    pub expired: bool,
    #[serde(skip)]
    pub exp_unix: Option<i64>,
}

impl OutcomeView<'_> {
    /// The owned result object, for the text rendering and for comparisons.
    pub fn to_outcome(&self) -> Outcome {
        let owned = |s: Option<&str>| s.map(str::to_owned);
        Outcome {
            source: self.source.to_owned(),
            kind: self.kind,
            kind_reason: owned(self.kind_reason),
            mfa: self.mfa,
            compliant: self.compliant,
            signature: Verification { signature: self.signature, detail: String::new() },
            amr: self.amr.map(|methods| methods.iter().map(|&m| serde_json::Value::from(m)).collect()),
            token: self.token.as_ref().map(|t| TokenSummary {
                ver: owned(t.ver),
                alg: t.alg.to_owned(),
                kid: owned(t.kid),
                aud: owned(t.aud),
                iss: owned(t.iss),
                tid: owned(t.tid),
                app_id: owned(t.app_id),
                app_auth: owned(t.app_auth),
                user: owned(t.user),
                oid: owned(t.oid),
                idp: owned(t.idp),
                cross_tenant: t.cross_tenant,
                scp: owned(t.scp),
                iat: t.iat.as_ref().map(Time::to_string),
                nbf: t.nbf.as_ref().map(Time::to_string),
                exp: t.exp.as_ref().map(Time::to_string),
                expired: t.expired,
                exp_unix: t.exp_unix,
            }),
            response: self.response.cloned(),
            findings: self.findings.to_vec(),
            error: self.error.cloned(),
        }
    }
}

impl OutcomeView<'_> {
    /// Compact JSON, byte for byte what `serde_json::to_writer` writes for this view (a test
    /// compares them), but a string without anything to escape is copied whole: escaping byte by
    /// byte was a fifth of an ndjson run.
    pub fn write_json<W: Write>(&self, out: &mut W) -> io::Result<()> {
        let mut j = JsonOut(out);
        j.raw(b"{\"source\":")?;
        j.str(self.source)?;
        j.raw(b",\"kind\":")?;
        j.opt(self.kind.map(|kind| match kind {
            Kind::AppUser => "app+user",
            Kind::AppOnly => "app-only",
        }))?;
        j.raw(b",\"kind_reason\":")?;
        j.opt(self.kind_reason)?;
        j.raw(b",\"mfa\":")?;
        j.opt(self.mfa.map(Mfa::as_str))?;
        j.raw(if self.compliant {
            b",\"compliant\":true,\"signature\":"
        } else {
            b",\"compliant\":false,\"signature\":"
        })?;
        j.str(self.signature.as_str())?;
        j.raw(b",\"amr\":")?;
        match self.amr {
            None => j.raw(b"null")?,
            Some(methods) => {
                j.raw(b"[")?;
                for (i, method) in methods.iter().enumerate() {
                    if i > 0 {
                        j.raw(b",")?;
                    }
                    j.str(method)?;
                }
                j.raw(b"]")?;
            }
        }
        j.raw(b",\"token\":")?;
        match &self.token {
            None => j.raw(b"null")?,
            Some(t) => {
                j.raw(b"{\"ver\":")?;
                j.opt(t.ver)?;
                j.raw(b",\"alg\":")?;
                j.str(t.alg)?;
                for (name, value) in [
                    (&b",\"kid\":"[..], t.kid),
                    (b",\"aud\":", t.aud),
                    (b",\"iss\":", t.iss),
                    (b",\"tid\":", t.tid),
                    (b",\"app_id\":", t.app_id),
                    (b",\"app_auth\":", t.app_auth),
                    (b",\"user\":", t.user),
                    (b",\"oid\":", t.oid),
                    (b",\"idp\":", t.idp),
                ] {
                    j.raw(name)?;
                    j.opt(value)?;
                }
                j.raw(if t.cross_tenant {
                    b",\"cross_tenant\":true,\"scp\":"
                } else {
                    b",\"cross_tenant\":false,\"scp\":"
                })?;
                j.opt(t.scp)?;
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
        match self.response {
            None => j.raw(b"null")?,
            Some(response) => {
                write!(j.0, "{{\"status\":{},\"text\":", response.status)?;
                j.str(&response.text)?;
                j.raw(b"}")?;
            }
        }
        j.raw(b",\"findings\":[")?;
        for (i, finding) in self.findings.iter().enumerate() {
            j.raw(if i > 0 { b",{\"code\":" } else { b"{\"code\":" })?;
            j.str(finding.code)?;
            j.raw(b",\"level\":")?;
            j.str(finding.level.as_str())?;
            j.raw(b",\"message\":")?;
            j.str(&finding.message)?;
            j.raw(b"}")?;
        }
        j.raw(b"],\"error\":")?;
        match self.error {
            None => j.raw(b"null}"),
            Some(error) => {
                serde_json::to_writer(&mut *j.0, error)?;
                j.raw(b"}")
            }
        }
    }
}

struct JsonOut<'w, W: Write>(&'w mut W);

impl<W: Write> JsonOut<'_, W> {
    fn raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.0.write_all(bytes)
    }

    fn str(&mut self, text: &str) -> io::Result<()> {
        // serde_json escapes '"', '\\' and control characters, nothing else.
        let plain = text.bytes().fold(true, |ok, b| ok & (b >= 0x20) & (b != b'"') & (b != b'\\'));
        if plain {
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
}

impl Checker {
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks one cleaned token and hands the result to `each`; `None` when this token needs the
    /// slow path (see the module comment).
    pub fn check<R>(
        &mut self,
        source: &str,
        token: &str,
        policy: &Policy,
        each: impl FnOnce(&OutcomeView) -> R,
    ) -> Option<R> {
        // Verification (and its findings) is the slow path's: it costs far more than the rest.
        if token.len() > MAX_LINE_BYTES || policy.keys.is_some() {
            return None;
        }
        let bytes = token.as_bytes();
        // The first and the last '.': a third one, in the payload, fails its base64 decoding.
        let first = memchr::memchr(b'.', bytes)?;
        let last = memchr::memrchr(b'.', bytes)?;
        if first == last {
            return None;
        }
        let (head, body, signature) = (&token[..first], &token[first + 1..last], &token[last + 1..]);
        if head.is_empty() || body.is_empty() || !is_base64url(signature) {
            return None;
        }
        if head != self.last_header.0 {
            self.header.clear();
            decode_segment(head, &mut self.header)?;
            let header = Header::parse(&self.header)?;
            let Scalar::Str(alg) = header.alg else { return None };
            self.last_header = (head.to_owned(), alg.to_owned(), header.kid.text().map(str::to_owned));
        }
        self.payload.clear();
        decode_segment(body, &mut self.payload)?;
        let (_, alg, kid) = &self.last_header;
        let (alg, kid) = (alg.as_str(), kid.as_deref());
        let raw = Raw::parse(&self.payload)?;
        let amr_methods = &raw.amr_buf[..raw.amr_len];
        let claims = raw.claims(amr_methods);
        let class = classify::classify(&claims);
        let verdict =
            verdict::judge_signed(alg, signature.is_empty(), &claims, &class, policy, &Verification::not_checked());
        let now = policy.now.as_second();
        let view = OutcomeView {
            source,
            kind: Some(class.kind),
            kind_reason: Some(&class.reason),
            mfa: Some(verdict.mfa),
            compliant: verdict.compliant,
            signature: Signature::NotChecked,
            amr: raw.has_amr.then_some(amr_methods),
            token: Some(SummaryView {
                ver: claims.ver,
                alg,
                kid,
                aud: claims.aud,
                iss: claims.iss,
                tid: claims.tid,
                app_id: claims.app_id,
                app_auth: claims.app_auth.map(|v| match v {
                    "0" => "public-client",
                    "1" => "client-secret",
                    "2" => "certificate",
                    other => other,
                }),
                user: claims.user,
                oid: claims.oid,
                idp: claims.idp,
                cross_tenant: claims.cross_tenant(),
                scp: claims.scp,
                iat: claims.iat.and_then(Time::new),
                nbf: claims.nbf.and_then(Time::new),
                exp: claims.exp.and_then(Time::new),
                expired: claims.exp.is_some_and(|exp| now >= exp),
                exp_unix: claims.exp,
            }),
            response: verdict.response.as_ref(),
            findings: &verdict.findings,
            error: None,
        };
        Some(each(&view))
    }
}

/// Unpadded base64url, SIMD-decoded; accepts exactly what `token::decode_segment` accepts (the
/// `base64` crate), which also refuses non-zero bits after the last whole byte.
fn decode_segment(segment: &str, out: &mut Vec<u8>) -> Option<()> {
    let bits_left_over = match segment.len() % 4 {
        2 => 0x0f,
        3 => 0x03,
        _ => 0,
    };
    if let Some(&last) = segment.as_bytes().last()
        && base64url_value(last)? & bits_left_over != 0
    {
        return None;
    }
    base64_simd::URL_SAFE_NO_PAD.decode_append(segment, out).ok()
}

fn base64url_value(b: u8) -> Option<u8> {
    match b {
        b'A'..=b'Z' => Some(b - b'A'),
        b'a'..=b'z' => Some(b - b'a' + 26),
        b'0'..=b'9' => Some(b - b'0' + 52),
        b'-' => Some(62),
        b'_' => Some(63),
        _ => None,
    }
}

/// Every byte is in the base64url alphabet. Written without early exit so that it vectorizes.
fn is_base64url(segment: &str) -> bool {
    segment.bytes().fold(true, |ok, b| {
        ok & ((b.wrapping_sub(b'0') < 10)
            | (b.wrapping_sub(b'A') < 26)
            | (b.wrapping_sub(b'a') < 26)
            | (b == b'-')
            | (b == b'_'))
    })
}

/// A NumericDate that `clock::rfc3339` can write, written the same way only when it is output
/// (a `--quiet` run never formats it), without allocating from 1970 on.
#[derive(Debug, Clone, Copy)]
pub struct Time(i64);

impl Time {
    pub fn new(seconds: i64) -> Option<Time> {
        jiff::Timestamp::from_second(seconds).ok().map(|_| Time(seconds))
    }

    fn with_text<R>(self, f: impl FnOnce(&str) -> R) -> R {
        if self.0 < 0 {
            return f(&clock::rfc3339(self.0).unwrap_or_default());
        }
        let (days, secs) = (self.0 / 86_400, self.0 % 86_400);
        // Days to civil date (Howard Hinnant's algorithm), for the proleptic Gregorian calendar.
        let z = days + 719_468;
        let era = z / 146_097;
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        let mut text = *b"0000-00-00T00:00:00Z";
        let mut put = |at: usize, value: i64, width: usize| {
            let mut v = value;
            for i in (at..at + width).rev() {
                text[i] = b'0' + (v % 10) as u8;
                v /= 10;
            }
        };
        put(0, year, 4);
        put(5, month, 2);
        put(8, day, 2);
        put(11, secs / 3600, 2);
        put(14, secs / 60 % 60, 2);
        put(17, secs % 60, 2);
        f(std::str::from_utf8(&text).unwrap_or_default())
    }
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        self.with_text(|text| f.write_str(text))
    }
}

impl Serialize for Time {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.with_text(|text| serializer.serialize_str(text))
    }
}

/// A claim as the slow path reads it from a `Value`: a string, a number, or something else.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
enum Scalar<'de> {
    #[default]
    Absent,
    Str(&'de str),
    /// A NumericDate as `claims::time` reads it (fractions cut, saturating).
    Num(i64),
    Other,
}

impl<'de> Scalar<'de> {
    fn text(self) -> Option<&'de str> {
        match self {
            Scalar::Str(s) => Some(s),
            _ => None,
        }
    }
    fn time(self) -> Option<i64> {
        match self {
            Scalar::Num(n) => Some(n),
            _ => None,
        }
    }
    fn present(self) -> bool {
        self != Scalar::Absent
    }
}

/// A strict reader of the JSON in tokens: one object whose member values are strings without
/// escapes, integers, `true`, `false`, `null`, or arrays of these. Within that subset it accepts
/// exactly what serde_json accepts; outside it (an escape, a fraction, an exponent, a nested
/// object, deep arrays) it answers `None`, and the slow path, which reads everything, takes over.
/// serde_json's borrowed deserializer was half of the hot path's time; this is a third of it.
struct Json<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Json<'a> {
    fn new(bytes: &'a [u8]) -> Option<Self> {
        Some(Json { text: simdutf8::basic::from_utf8(bytes).ok()?, at: 0 })
    }

    fn peek(&mut self) -> Option<u8> {
        let bytes = self.text.as_bytes();
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = bytes.get(self.at) {
            self.at += 1;
        }
        bytes.get(self.at).copied()
    }

    fn eat(&mut self, byte: u8) -> bool {
        let found = self.peek() == Some(byte);
        self.at += usize::from(found);
        found
    }

    /// The whole text as one object: hands each member's name to `member`, which reads its value.
    fn object(mut self, mut member: impl FnMut(&'a str, &mut Self) -> Option<()>) -> Option<()> {
        if !self.eat(b'{') {
            return None;
        }
        if !self.eat(b'}') {
            loop {
                if self.peek() != Some(b'"') {
                    return None;
                }
                let name = self.string()?;
                if !self.eat(b':') {
                    return None;
                }
                member(name, &mut self)?;
                if self.eat(b',') {
                    continue;
                }
                if self.eat(b'}') {
                    break;
                }
                return None;
            }
        }
        (self.peek().is_none()).then_some(())
    }

    /// A string without escapes or control characters, from its opening quote. Claim values are
    /// short, so eight bytes at a time (as serde_json does) beats a SIMD search's set-up.
    fn string(&mut self) -> Option<&'a str> {
        const ONES: u64 = 0x0101_0101_0101_0101;
        const HIGH: u64 = 0x8080_8080_8080_8080;
        let bytes = self.text.as_bytes();
        let start = self.at + 1;
        let mut end = start;
        // The high bit of each byte that is '"', '\\' or a control character (exact up to the
        // first such byte, which is all that is read).
        let special = |x: u64| {
            let quote = x ^ (ONES * u64::from(b'"'));
            let backslash = x ^ (ONES * u64::from(b'\\'));
            ((quote.wrapping_sub(ONES) & !quote)
                | (backslash.wrapping_sub(ONES) & !backslash)
                | (x.wrapping_sub(ONES * 0x20) & !x))
                & HIGH
        };
        while let Some(word) = bytes.get(end..end + 8) {
            let found = special(u64::from_le_bytes(word.try_into().ok()?));
            if found != 0 {
                end += found.trailing_zeros() as usize / 8;
                break;
            }
            end += 8;
        }
        while bytes.get(end).is_some_and(|&b| b != b'"' && b != b'\\' && b >= 0x20) {
            end += 1;
        }
        if *bytes.get(end)? != b'"' {
            return None;
        }
        self.at = end + 1;
        self.text.get(start..end)
    }

    /// A member value as the slow path reads it; `arrays`: whether an array may be one.
    fn scalar(&mut self, arrays: bool) -> Option<Scalar<'a>> {
        match self.peek()? {
            b'"' => self.string().map(Scalar::Str),
            b'-' | b'0'..=b'9' => self.integer().map(Scalar::Num),
            b'[' if arrays => self.array(0, &mut |_| Some(())).map(|()| Scalar::Other),
            b't' => self.word("true"),
            b'f' => self.word("false"),
            b'n' => self.word("null"),
            _ => None,
        }
    }

    fn word(&mut self, word: &str) -> Option<Scalar<'a>> {
        let found = self.text[self.at..].starts_with(word);
        self.at += if found { word.len() } else { 0 };
        found.then_some(Scalar::Other)
    }

    /// An integer of at most 18 digits (exact in an i64); a fraction or an exponent is `None`.
    fn integer(&mut self) -> Option<i64> {
        let bytes = self.text.as_bytes();
        let negative = bytes[self.at] == b'-';
        let start = self.at + usize::from(negative);
        let digits = bytes[start..].iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 || digits > 18 || (digits > 1 && bytes[start] == b'0') {
            return None;
        }
        let end = start + digits;
        if matches!(bytes.get(end), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        let value: i64 = self.text[start..end].parse().ok()?;
        self.at = end;
        Some(if negative { -value } else { value })
    }

    /// An array, from its opening bracket: hands each element to `each` (a nested array as
    /// `Scalar::Other`, to a depth of 8).
    fn array(&mut self, depth: usize, each: &mut dyn FnMut(Scalar<'a>) -> Option<()>) -> Option<()> {
        if depth > 8 {
            return None;
        }
        self.at += 1;
        if self.eat(b']') {
            return Some(());
        }
        loop {
            let element = match self.peek()? {
                b'[' => self.array(depth + 1, &mut |_| Some(())).map(|()| Scalar::Other)?,
                _ => self.scalar(false)?,
            };
            each(element)?;
            if self.eat(b',') {
                continue;
            }
            return self.eat(b']').then_some(());
        }
    }
}

/// At most this many members per object, and `amr` elements, on the hot path.
const MAX_MEMBERS: usize = 64;
const MAX_AMR: usize = 8;

/// Refuses a member name seen before in the same object. A 128-bit filter of cheap name hashes
/// keeps the common case to one hash per name; a filter hit compares names.
struct Members<'de> {
    names: [&'de str; MAX_MEMBERS],
    len: usize,
    filter: u128,
}

impl<'de> Members<'de> {
    fn new() -> Self {
        Members { names: [""; MAX_MEMBERS], len: 0, filter: 0 }
    }

    fn add(&mut self, name: &'de str) -> Option<()> {
        let bytes = name.as_bytes();
        let hash = match bytes {
            [] => 0,
            [first, .., last] => bytes.len() * 37 + usize::from(*first) * 11 + usize::from(*last),
            [only] => usize::from(*only),
        };
        let bit = 1u128 << (hash & 127);
        if (self.filter & bit != 0 && self.names[..self.len].contains(&name)) || self.len == MAX_MEMBERS {
            return None; // a duplicate: the slow path words the error
        }
        self.filter |= bit;
        self.names[self.len] = name;
        self.len += 1;
        Some(())
    }
}

/// Reads a member into its slot. A second member of that name is a duplicate: the slow path's.
fn fill<'a>(slot: &mut Scalar<'a>, json: &mut Json<'a>, arrays: bool) -> Option<()> {
    if slot.present() {
        return None;
    }
    *slot = json.scalar(arrays)?;
    Some(())
}

/// Reads past a member nothing looks at, noting its name for duplicate detection.
fn skip<'a>(members: &mut Members<'a>, name: &'a str, json: &mut Json<'a>) -> Option<()> {
    members.add(name)?;
    json.scalar(true).map(drop)
}

#[derive(Default)]
struct Header<'de> {
    alg: Scalar<'de>,
    kid: Scalar<'de>,
}

impl<'a> Header<'a> {
    fn parse(bytes: &'a [u8]) -> Option<Self> {
        let mut header = Header::default();
        let mut members = Members::new();
        Json::new(bytes)?.object(|name, json| match name {
            "alg" => fill(&mut header.alg, json, true),
            "kid" => fill(&mut header.kid, json, true),
            _ => skip(&mut members, name, json),
        })?;
        Some(header)
    }
}

/// The payload members `Claims::new` reads, as it reads them.
#[derive(Default)]
struct Raw<'de> {
    ver: Scalar<'de>,
    aud: Scalar<'de>,
    iss: Scalar<'de>,
    tid: Scalar<'de>,
    appid: Scalar<'de>,
    azp: Scalar<'de>,
    appidacr: Scalar<'de>,
    azpacr: Scalar<'de>,
    idtyp: Scalar<'de>,
    scp: Scalar<'de>,
    roles: bool,
    oid: Scalar<'de>,
    sub: Scalar<'de>,
    idp: Scalar<'de>,
    upn: Scalar<'de>,
    unique_name: Scalar<'de>,
    preferred_username: Scalar<'de>,
    email: Scalar<'de>,
    name: bool,
    has_amr: bool,
    amr_buf: [&'de str; MAX_AMR],
    amr_len: usize,
    iat: Scalar<'de>,
    nbf: Scalar<'de>,
    exp: Scalar<'de>,
}

impl<'de> Raw<'de> {
    /// The same view `Claims::new` gives of the same payload.
    fn claims<'a>(&self, amr: &'a [&'de str]) -> Claims<'a>
    where
        'de: 'a,
    {
        let user_claim = if self.upn.present() {
            Some("upn")
        } else if self.unique_name.present() {
            Some("unique_name")
        } else if self.preferred_username.present() {
            Some("preferred_username")
        } else if self.has_amr {
            Some("amr")
        } else if self.name {
            Some("name")
        } else {
            None
        };
        Claims {
            ver: self.ver.text(),
            aud: self.aud.text(),
            // A token whose aud is an array takes the slow path.
            aud_array: None,
            iss: self.iss.text(),
            tid: self.tid.text(),
            app_id: self.appid.text().or(self.azp.text()),
            app_auth: self.appidacr.text().or(self.azpacr.text()),
            idtyp: self.idtyp.text(),
            scp: self.scp.text(),
            has_scp: self.scp.present(),
            roles: self.roles,
            oid: self.oid.text(),
            sub: self.sub.text(),
            idp: self.idp.text(),
            user: self.upn.text().or(self.unique_name.text()).or(self.preferred_username.text()).or(self.email.text()),
            user_claim,
            amr: if self.has_amr { Amr::Methods(Cow::Borrowed(amr)) } else { Amr::Absent },
            iat: self.iat.time(),
            nbf: self.nbf.time(),
            exp: self.exp.time(),
        }
    }
}

impl<'de> Raw<'de> {
    fn parse(bytes: &'de [u8]) -> Option<Self> {
        let mut raw = Raw::default();
        // Known claims find a duplicate in their own slot; the others are remembered here.
        let mut members = Members::new();
        Json::new(bytes)?.object(|name, json| {
            let slot = match name {
                "ver" => &mut raw.ver,
                "aud" => &mut raw.aud,
                "iss" => &mut raw.iss,
                "tid" => &mut raw.tid,
                "appid" => &mut raw.appid,
                "azp" => &mut raw.azp,
                "appidacr" => &mut raw.appidacr,
                "azpacr" => &mut raw.azpacr,
                "idtyp" => &mut raw.idtyp,
                "scp" => &mut raw.scp,
                "oid" => &mut raw.oid,
                "sub" => &mut raw.sub,
                "idp" => &mut raw.idp,
                "upn" => &mut raw.upn,
                "unique_name" => &mut raw.unique_name,
                "preferred_username" => &mut raw.preferred_username,
                "email" => &mut raw.email,
                "iat" => &mut raw.iat,
                "nbf" => &mut raw.nbf,
                "exp" => &mut raw.exp,
                "roles" | "name" => {
                    let seen = if name == "roles" { &mut raw.roles } else { &mut raw.name };
                    return if std::mem::replace(seen, true) { None } else { json.scalar(true).map(drop) };
                }
                "amr" => {
                    // An array of strings (Amr::Methods); anything else is the slow path's.
                    if std::mem::replace(&mut raw.has_amr, true) || json.peek()? != b'[' {
                        return None;
                    }
                    let (methods, len) = (&mut raw.amr_buf, &mut raw.amr_len);
                    return json.array(0, &mut |element| match element {
                        Scalar::Str(method) if *len < MAX_AMR => {
                            methods[*len] = method;
                            *len += 1;
                            Some(())
                        }
                        _ => None,
                    });
                }
                _ => return skip(&mut members, name, json),
            };
            // An array `aud` is read for its first element by the slow path.
            fill(slot, json, name != "aud")
        })?;
        Some(raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::Corpus;
    use crate::sample::encode_raw;
    use jiff::Timestamp;

    fn policy() -> Policy {
        Policy::at(Timestamp::from_second(1_780_000_000).unwrap())
    }

    /// The hot path's JSON for `token`, or None when it defers to the slow path. One checker per
    /// thread, as in a batch, so that what it keeps from token to token is tested too.
    fn fast(token: &str, policy: &Policy) -> Option<String> {
        thread_local! {
            static CHECKER: std::cell::RefCell<Checker> = std::cell::RefCell::new(Checker::new());
        }
        CHECKER.with_borrow_mut(|checker| {
            checker.check("arg:1", token, policy, |view| {
                let json = serde_json::to_string(view).unwrap();
                let mut fast = Vec::new();
                view.write_json(&mut fast).unwrap();
                assert_eq!(String::from_utf8(fast).unwrap(), json, "write_json differs from serde_json");
                json
            })
        })
    }

    fn slow(token: &str, policy: &Policy) -> String {
        serde_json::to_string(&crate::check_token("arg:1".into(), token, policy)).unwrap()
    }

    fn same(token: &str) -> bool {
        let p = policy();
        match fast(token, &p) {
            Some(json) => {
                assert_eq!(json, slow(token, &p), "for {token}");
                true
            }
            None => false,
        }
    }

    #[test]
    fn generated_tokens_take_the_hot_path_and_agree() {
        let mut corpus = Corpus::new(11, None);
        for _ in 0..500 {
            assert!(same(&corpus.next_token()));
        }
    }

    #[test]
    fn every_fixture_token_agrees_or_defers() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let mut taken = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "jwt") {
                let token = std::fs::read_to_string(&path).unwrap();
                taken += usize::from(same(token.trim()));
            }
        }
        assert!(taken >= 20, "most fixtures are ordinary tokens: {taken}");
    }

    #[test]
    fn odd_claims_agree_or_defer() {
        let cases: &[&str] = &[
            r#"{"amr":["mfa"],"scp":"x","aud":["https://api.partnercenter.microsoft.com"]}"#,
            r#"{"amr":"mfa","scp":"x"}"#,
            r#"{"amr":["mfa",1]}"#,
            r#"{"amr":["a","b","c","d","e","f","g","h","mfa"]}"#,
            r#"{"upn":5,"exp":1.9e9,"iat":18446744073709551615,"nbf":"1"}"#,
            r#"{"upn":"a\"b@x","amr":["pwd"]}"#,
            r#"{"x":{"a":1,"a":2}}"#,
            r#"{"x":[1,[2,[3]]],"roles":{"a":1},"name":null}"#,
            r#"{"exp":-99999999999,"iat":253402300800,"nbf":0}"#,
            r#"{"idtyp":"app","ver":"2.0","azp":"a","azpacr":"7","idp":"https://x/","iss":"https://y"}"#,
            r#"{"amr":["pwd"],"amr":["mfa"]}"#,
            r#"{"\u0061mr":["pwd"],"amr":["mfa"]}"#,
            r#"[]"#,
            r#"{}"#,
            r#"{} "#,
            r#"{}x"#,
        ];
        let mut deferred = 0;
        for payload in cases {
            for (header, sig) in [(&br#"{"alg":"RS256","kid":"k"}"#[..], "c2ln"), (br#"{"alg":"none"}"#, "")] {
                let token = encode_raw(header, payload.as_bytes(), sig);
                deferred += usize::from(!same(&token));
            }
        }
        assert!(deferred > 0 && deferred < 2 * cases.len());
        for token in ["a.b", "a.b.c.d.e", "", "eyJhbGciOiJub25lIn0.e30.a.b", "eyJhbGciOiJub25lIn0.e30.a$"] {
            assert!(!same(token), "{token}");
        }
    }

    /// JSON text from pieces that stay inside and step outside the hot path's subset.
    fn json_text() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let name = prop_oneof![
            Just("amr"),
            Just("scp"),
            Just("idtyp"),
            Just("upn"),
            Just("aud"),
            Just("exp"),
            Just("roles"),
            Just("name"),
            Just("oid"),
            Just("sub"),
            Just("appidacr"),
            Just("x"),
            Just("aio"),
            Just("a\\u0062"),
        ];
        let inside = prop_oneof![
            Just("\"mfa\""),
            Just("\"pwd\""),
            Just("\"app\""),
            Just("\"user\""),
            Just("\"ü\""),
            Just("12"),
            Just("-0"),
            Just("4102444800"),
            Just("-4102444800"),
            Just("true"),
            Just("null"),
        ];
        let outside = prop_oneof![
            Just("\"a\\\"b\""),
            Just("\"\u{1}\""),
            Just("1.5"),
            Just("1e3"),
            Just("012"),
            Just("99999999999999999999"),
            Just("nul"),
            Just("{}"),
            Just("{\"a\":1,\"a\":2}"),
            Just("\"x"),
        ];
        let scalar = prop_oneof![8 => inside, 1 => outside].prop_map(str::to_string);
        let value = prop_oneof![
            3 => scalar.clone(),
            1 => proptest::collection::vec(scalar, 0..4).prop_map(|v| format!("[{}]", v.join(","))),
            1 => Just("[[1,[2]],[]]".to_string()),
        ];
        let space = prop_oneof![6 => Just(""), 1 => Just(" "), 1 => Just("\n\t"), 1 => Just("\u{a0}")];
        let member = (name, value, space).prop_map(|(n, v, s)| format!("{s}\"{n}\"{s}:{v}"));
        (
            proptest::collection::vec(member, 0..6),
            prop_oneof![6 => Just(""), 1 => Just(" "), 1 => Just(","), 1 => Just("x")],
        )
            .prop_map(|(members, end)| format!("{{{}}}{end}", members.join(",")))
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        #[test]
        fn any_payload_agrees_or_defers(payload in json_text(), cut in 0usize..400) {
            let header = br#"{"alg":"RS256"}"#;
            same(&encode_raw(header, payload.as_bytes(), "c2ln"));
            // And every truncation: syntax errors must never take the hot path.
            let cut = cut.min(payload.len());
            same(&encode_raw(header, &payload.as_bytes()[..cut], "c2ln"));
        }

        #[test]
        fn segments_decode_as_the_slow_path_decodes(segment in "[A-Za-z0-9_=+/.-]{0,12}", bytes: Vec<u8>) {
            use base64::Engine;
            let reference = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s).ok();
            let mut out = Vec::new();
            proptest::prop_assert_eq!(decode_segment(&segment, &mut out).map(|()| out), reference(&segment));
            // Every canonical encoding, and each of its one-character changes.
            let text = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes);
            for at in 0..text.len().min(8) {
                for c in ['A', 'B', 'P', 'Q', '_', '-', '=', 'w'] {
                    let mut changed = text.clone();
                    changed.replace_range(text.len() - 1 - at..text.len() - at, &c.to_string());
                    let mut out = Vec::new();
                    proptest::prop_assert_eq!(decode_segment(&changed, &mut out).map(|()| out), reference(&changed));
                }
            }
        }
    }

    #[test]
    fn times_format_as_jiff_does() {
        let mut s: i64 = 0;
        while s < 253_402_207_999 {
            assert_eq!(Time::new(s).unwrap().to_string(), clock::rfc3339(s).unwrap(), "{s}");
            s += 86_399 * 7 + 12_345;
        }
        for s in [-1, -99_999_999_999, 951_782_400, 4_102_444_800, 253_402_207_999, 253_402_300_800, i64::MAX] {
            assert_eq!(Time::new(s).map(|t| t.to_string()), clock::rfc3339(s), "{s}");
        }
    }

    #[test]
    fn the_view_has_every_field_of_the_outcome() {
        let token = Corpus::new(3, None).next_token();
        let outcome = crate::check_token("arg:1".into(), &token, &policy());
        let owned = serde_json::to_value(&outcome).unwrap();
        let borrowed = Checker::new()
            .check("arg:1", &token, &policy(), |view| {
                assert_eq!(view.to_outcome(), outcome);
                serde_json::to_value(view).unwrap()
            })
            .unwrap();
        let names = |v: &serde_json::Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        assert_eq!(names(&borrowed), names(&owned), "Outcome changed: change OutcomeView to match");
        assert_eq!(names(&borrowed["token"]), names(&owned["token"]), "TokenSummary changed: change SummaryView");
    }
}
