//! A HAR capture read as a stream: serde_json's streaming deserialiser with visitors that look
//! at each string as it goes by and keep nothing but the tokens found, one entry at a time. So
//! memory is bounded by the largest entry, never by the file (a 500 MB capture stays within a few
//! MiB), and the results are those of reading the whole document: for each entry, its
//! `Authorization` headers first (rank 0), then every other string (rank 1), each distinct token
//! reported where it ranks first.
//!
//! A capture that ends early or is not valid JSON gives a warning; the entries read until then
//! are kept, and the bytes of the entry being read when it failed, with the rest of the stream,
//! are searched as text.

use super::search::{TextSearch, redact, tokens};
use super::sightings::{Findings, Request};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fmt;
use std::io::{self, BufRead, Read};
use std::rc::Rc;

pub use super::sightings::Rank;

/// Set by the reader of entries when an entry begins: the [`Tee`] then starts its record afresh.
type EntryStart = Rc<Cell<bool>>;

/// Bytes the [`Tee`] reads from its reader at once.
const BLOCK: usize = 64 << 10;

/// A string longer than this (as written, escapes and all) is never held: serde_json would hold
/// it whole, and twice (3 GB for one 1.5 GB `content.text`). Its text is searched as it streams
/// by ([`TextSearch`]) and serde_json reads `""` in its place.
const MAX_STRING: usize = 1 << 20;

/// The bytes of the entry being read kept beyond this are searched at once (their tokens kept for
/// a truncated capture), so an entry of many strings is not held whole either.
const MAX_RECORD: usize = 4 << 20;

/// The stream after a HAR's reading stopped: the bytes read ahead, then the reader.
pub type Rest<R> = io::Chain<io::Cursor<Vec<u8>>, R>;

/// Tokens found in the strings too long to hold, shared by the [`Tee`] that finds them and the
/// reader of entries that counts them to the entry being read.
type LongStrings = Rc<RefCell<TextSearch>>;

/// The reader serde_json reads from, one byte per call (its `IoRead` takes bytes one at a time),
/// so a call must cost next to nothing: it hands out bytes of `out`, filled a block at a time.
/// Filling it, the Tee finds the JSON strings (a quote outside a string opens one; inside, a
/// backslash escapes the next byte) and holds each until it ends, or diverts it to the search of
/// long strings once it passes `MAX_STRING`. It keeps the bytes of the current entry (searched
/// as text if the entry turns out truncated) by copying them once per block, not once per byte.
/// (A byte at a time from a `BufReader` through a tee that recorded each byte read a HAR at
/// 72 MB/s.)
pub struct Tee<R> {
    inner: R,
    block: Box<[u8]>,
    /// Bytes for serde_json: those before `ready` can be handed out, the rest are a string that
    /// has not ended yet; `pos` of them are handed out.
    out: Vec<u8>,
    pos: usize,
    ready: usize,
    /// Where the current entry starts in `out`; its bytes handed out before are in `record`, or
    /// searched already (`recorded`).
    mark: usize,
    record: Vec<u8>,
    recorded: TextSearch,
    entry_start: EntryStart,
    /// Inside a string (from its opening quote at `out[string]`), after a backslash, diverted.
    string: Option<usize>,
    escaped: bool,
    diverted: Option<Unescape>,
    long: LongStrings,
    ended: bool,
}

impl<R: Read> Tee<R> {
    fn new(inner: R, entry_start: EntryStart, long: LongStrings) -> Self {
        Tee {
            inner,
            block: vec![0; BLOCK].into_boxed_slice(),
            out: Vec::with_capacity(BLOCK),
            pos: 0,
            ready: 0,
            mark: 0,
            record: Vec::new(),
            recorded: TextSearch::default(),
            entry_start,
            string: None,
            escaped: false,
            diverted: None,
            long,
            ended: false,
        }
    }

    fn start_entry_if_asked(&mut self) {
        if self.entry_start.replace(false) {
            self.record.clear();
            self.recorded.clear();
            self.long.borrow_mut().clear();
            self.mark = self.pos;
        }
    }

    /// The tokens of the entry being read when the reading stopped (with their counts), and the
    /// rest of the stream (from the bytes read ahead of where it stopped).
    pub fn into_rest(mut self) -> (Vec<(String, usize)>, Rest<R>) {
        self.start_entry_if_asked();
        self.record.extend_from_slice(&self.out[self.mark..self.pos]);
        self.recorded.push(&self.record);
        self.recorded.end_text();
        let mut found = self.recorded.take();
        let mut long = self.long.borrow_mut();
        long.end_text();
        found.extend(long.take());
        drop(long);
        let ahead = self.out[self.pos..].to_vec();
        (found, io::Cursor::new(ahead).chain(self.inner))
    }

    /// Hands the bytes handed out to the record, and makes room in `out`.
    fn compact(&mut self) {
        self.record.extend_from_slice(&self.out[self.mark..self.pos]);
        if self.record.len() > MAX_RECORD {
            let cut = self.record.len() - BLOCK;
            self.recorded.push(&self.record[..cut]);
            self.record.drain(..cut);
        }
        self.out.drain(..self.pos);
        self.ready -= self.pos;
        self.string = self.string.map(|at| at - self.pos);
        (self.pos, self.mark) = (0, 0);
    }

    /// Reads blocks until some bytes are ready for serde_json, or the stream ends.
    fn fill(&mut self) -> io::Result<()> {
        self.compact();
        while self.ready == self.pos && !self.ended {
            let n = loop {
                match self.inner.read(&mut self.block) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    other => break other?,
                }
            };
            if n == 0 {
                // What is held goes to serde_json, whose error says what is missing.
                self.ended = true;
                self.ready = self.out.len();
                self.string = None;
                if self.diverted.take().is_some() {
                    self.long.borrow_mut().end_text();
                }
                break;
            }
            self.lex(n);
        }
        Ok(())
    }

    /// Sorts `block[..n]` into `out` (ready, or held as a string not ended yet) and the search of
    /// long strings.
    fn lex(&mut self, n: usize) {
        let mut i = 0;
        while i < n {
            let Some(opened) = self.string else {
                // Outside strings, up to the next quote.
                let end = memchr::memchr(b'"', &self.block[i..n]).map_or(n, |k| i + k);
                self.out.extend_from_slice(&self.block[i..end]);
                self.ready = self.out.len();
                if end < n {
                    self.string = Some(self.out.len());
                    self.out.push(b'"');
                }
                i = end + 1;
                continue;
            };
            // Inside one, up to its closing quote.
            let mut end = i;
            let closed = loop {
                if self.escaped {
                    self.escaped = false;
                    end += 1;
                    continue;
                }
                match memchr::memchr2(b'"', b'\\', &self.block[end.min(n)..n]) {
                    None => break None,
                    Some(k) if self.block[end + k] == b'"' => break Some(end + k),
                    Some(k) => {
                        end += k + 1;
                        self.escaped = true;
                        if end >= n {
                            break None;
                        }
                    }
                }
            };
            let stop = closed.unwrap_or(n);
            match &mut self.diverted {
                Some(unescape) => unescape.push(&self.block[i..stop], &mut self.long.borrow_mut()),
                None => {
                    self.out.extend_from_slice(&self.block[i..stop]);
                    if self.out.len() - opened > MAX_STRING {
                        let mut unescape = Unescape::default();
                        unescape.push(&self.out[opened + 1..], &mut self.long.borrow_mut());
                        self.out.truncate(opened);
                        self.diverted = Some(unescape);
                    }
                }
            }
            if let Some(close) = closed {
                if self.diverted.take().is_some() {
                    self.long.borrow_mut().end_text();
                    self.out.extend_from_slice(b"\"\"");
                } else {
                    self.out.push(b'"');
                }
                self.string = None;
                self.ready = self.out.len();
                i = close + 1;
            } else {
                i = n;
            }
        }
    }
}

impl<R: Read> Read for Tee<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.start_entry_if_asked();
        // serde_json's case, without a call to `memcpy` for one byte.
        if let ([byte], true) = (&mut *buf, self.pos < self.ready) {
            *byte = self.out[self.pos];
            self.pos += 1;
            return Ok(1);
        }
        if self.pos == self.ready {
            self.fill()?;
        }
        let n = buf.len().min(self.ready - self.pos);
        buf[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// A long string's text as written in JSON, unescaped for the search (as serde_json would read
/// it: `\n` ends a token, `\u0065` is an `e`); a character beyond ASCII, which no token has,
/// becomes one byte that no token has either.
#[derive(Default)]
struct Unescape {
    /// After a backslash; in a `\uXXXX` escape, its digits so far.
    backslash: bool,
    unicode: Option<(u8, u32)>,
    out: Vec<u8>,
}

impl Unescape {
    fn push(&mut self, raw: &[u8], search: &mut TextSearch) {
        self.out.clear();
        for &b in raw {
            if let Some((digits, value)) = self.unicode {
                let value = value * 16 + (b as char).to_digit(16).unwrap_or(0);
                if digits == 3 {
                    self.unicode = None;
                    self.out.push(if value < 0x80 { value as u8 } else { 0x80 });
                } else {
                    self.unicode = Some((digits + 1, value));
                }
            } else if self.backslash {
                self.backslash = false;
                match b {
                    b'u' => self.unicode = Some((0, 0)),
                    b'n' => self.out.push(b'\n'),
                    b't' => self.out.push(b'\t'),
                    b'r' => self.out.push(b'\r'),
                    b'b' | b'f' => self.out.push(b' '),
                    other => self.out.push(other),
                }
            } else if b == b'\\' {
                self.backslash = true;
            } else {
                self.out.push(b);
            }
        }
        search.push(&self.out);
    }
}

/// What one HAR file gave: whether `log.entries` was met, and an error that stopped the reading
/// with the index of the entry being read.
pub struct Outcome {
    pub entries_seen: bool,
    pub error: Option<(serde_json::Error, usize)>,
}

/// Reads a HAR from `reader` into `found`; sightings are added ranked (see [`Rank`]).
pub fn read<R: BufRead>(reader: R, name: &str, found: &mut Findings) -> (Outcome, Tee<R>) {
    let entry_start = EntryStart::default();
    let long = LongStrings::default();
    let mut tee = Tee::new(reader, entry_start.clone(), long.clone());
    let mut state = State { name, found, entries_seen: false, entry: 0, long };
    let mut de = serde_json::Deserializer::from_reader(&mut tee);
    let root = ToEntries { state: &mut state, entry_start, depth: 0 };
    let result = root.deserialize(&mut de).and_then(|()| de.end());
    drop(de);
    let outcome = Outcome { entries_seen: state.entries_seen, error: result.err().map(|e| (e, state.entry)) };
    (outcome, tee)
}

struct State<'s, 'f> {
    name: &'s str,
    found: &'f mut Findings,
    entries_seen: bool,
    /// The entry being read, from 0.
    entry: usize,
    long: LongStrings,
}

/// The objects on the way to the entries: `{"log": {"entries": [...]}}`. The member named at each
/// level is read on, the others skipped; (member, what serde's errors say was expected).
const PATH: [(&str, &str); 2] = [("log", "a HAR object"), ("entries", "the HAR log object")];

/// The object at `PATH[depth]`, or the entries themselves past the end of the path.
struct ToEntries<'a, 's, 'f> {
    state: &'a mut State<'s, 'f>,
    entry_start: EntryStart,
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for ToEntries<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        if self.depth == PATH.len() {
            return Entries(self.state, self.entry_start).deserialize(d);
        }
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ToEntries<'_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(PATH[self.depth].1)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<Key>()? {
            if key.0 == PATH[self.depth].0 {
                let inner =
                    ToEntries { state: &mut *self.state, entry_start: self.entry_start.clone(), depth: self.depth + 1 };
                map.next_value_seed(inner)?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

/// A member name, compared once and dropped.
struct Key(String);

impl<'de> serde::Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Key)
    }
}

struct Entries<'a, 's, 'f>(&'a mut State<'s, 'f>, EntryStart);

impl<'de> DeserializeSeed<'de> for Entries<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Entries<'_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("the HAR entries array")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let state = self.0;
        state.entries_seen = true;
        loop {
            self.1.set(true);
            let mut entry = Entry::default();
            if seq.next_element_seed(EntrySeed(&mut entry))?.is_none() {
                return Ok(());
            }
            // The strings too long to hold ended before the entry did: they are the entry's.
            for (token, count) in state.long.borrow_mut().take() {
                entry.add(1, &token, count);
            }
            let request =
                Request { method: entry.method.unwrap_or_default(), url: redact(&entry.url.unwrap_or_default()) };
            let i = state.entry;
            let source = || format!("{}:entry-{}", state.name, i + 1);
            for (order, (pass, token, count)) in entry.tokens.iter().enumerate() {
                for _ in 0..*count {
                    state.found.add_ranked(token, (*pass, i, order), source, Some(&request));
                }
            }
            state.entry += 1;
        }
    }
}

/// What one entry gave: its request line and its distinct tokens with their pass (0:
/// Authorization) and count (an entry repeating one token a million times holds it once).
#[derive(Default)]
struct Entry {
    method: Option<String>,
    url: Option<String>,
    tokens: Vec<(u8, String, usize)>,
    index: HashMap<(u8, String), usize>,
}

impl Entry {
    fn text(&mut self, pass: u8, text: &str) {
        for token in tokens(text.as_bytes()) {
            self.add(pass, token, 1);
        }
    }

    fn add(&mut self, pass: u8, token: &str, count: usize) {
        match self.index.get(&(pass, token.to_owned())) {
            Some(&i) => self.tokens[i].2 += count,
            None => {
                self.index.insert((pass, token.to_owned()), self.tokens.len());
                self.tokens.push((pass, token.to_owned(), count));
            }
        }
    }
}

struct EntrySeed<'e>(&'e mut Entry);

impl<'de> DeserializeSeed<'de> for EntrySeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for EntrySeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a HAR entry")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<Key>()? {
            if key.0 == "request" {
                map.next_value_seed(RequestSeed(&mut *self.0))?;
            } else {
                map.next_value_seed(Strings(&mut *self.0))?;
            }
        }
        Ok(())
    }
    // An entry that is not an object: its strings, as any value's.
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        Strings(self.0).visit_str(v)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        Strings(self.0).visit_seq(seq)
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

struct RequestSeed<'e>(&'e mut Entry);

impl<'de> DeserializeSeed<'de> for RequestSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for RequestSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a HAR request")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let entry = self.0;
        while let Some(key) = map.next_key::<Key>()? {
            match key.0.as_str() {
                "headers" => {
                    // Header objects are small: each is read whole, then searched.
                    let headers: serde_json::Value = map.next_value()?;
                    let Some(headers) = headers.as_array() else {
                        strings(&headers, &mut |s| entry.text(1, s));
                        continue;
                    };
                    for header in headers {
                        let authorization = header
                            .get("name")
                            .and_then(serde_json::Value::as_str)
                            .is_some_and(|n| n.eq_ignore_ascii_case("authorization"));
                        if authorization {
                            let value = header.get("value").and_then(serde_json::Value::as_str).unwrap_or("");
                            entry.text(0, value);
                        } else {
                            strings(header, &mut |s| entry.text(1, s));
                        }
                    }
                }
                "method" | "url" => {
                    let value: serde_json::Value = map.next_value()?;
                    strings(&value, &mut |s| entry.text(1, s));
                    if let serde_json::Value::String(text) = value {
                        *(if key.0 == "method" { &mut entry.method } else { &mut entry.url }) = Some(text);
                    }
                }
                _ => map.next_value_seed(Strings(&mut *entry))?,
            }
        }
        Ok(())
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        Strings(self.0).visit_str(v)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        Strings(self.0).visit_seq(seq)
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

/// Calls `each` with every string in `value`, depth first (member values, not names).
fn strings(value: &serde_json::Value, each: &mut impl FnMut(&str)) {
    match value {
        serde_json::Value::String(s) => each(s),
        serde_json::Value::Array(items) => items.iter().for_each(|v| strings(v, each)),
        serde_json::Value::Object(map) => map.values().for_each(|v| strings(v, each)),
        _ => {}
    }
}

/// Every string of any value, searched as it goes by (rank 1), nothing kept.
struct Strings<'e>(&'e mut Entry);

impl<'de> DeserializeSeed<'de> for Strings<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strings<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.0.text(1, v);
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Strings(&mut *self.0))?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_key::<IgnoredAny>()?.is_some() {
            map.next_value_seed(Strings(&mut *self.0))?;
        }
        Ok(())
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}
