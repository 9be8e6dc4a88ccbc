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

use super::scan::{Findings, Request, redact, tokens};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::cell::Cell;
use std::fmt;
use std::io::{self, BufRead, Read};
use std::rc::Rc;

/// The rank of a sighting within a HAR: (pass, entry, order) as the whole-document reading
/// would have met it.
pub type Rank = (u8, usize, usize);

/// Set by the reader of entries when an entry begins: the [`Tee`] then starts its record afresh.
type EntryStart = Rc<Cell<bool>>;

/// Bytes the [`Tee`] reads from its reader at once.
const BLOCK: usize = 64 << 10;

/// The reader serde_json reads from, one byte per call (its `IoRead` takes bytes one at a time),
/// so a call must cost next to nothing: it hands out bytes of a block read at once, and keeps the
/// bytes of the current entry (searched as text if the entry turns out truncated) by copying
/// them once per block, not once per byte. (A byte at a time from a `BufReader` through a tee
/// that recorded each byte read a HAR at 72 MB/s.)
pub struct Tee<R> {
    inner: R,
    block: Box<[u8]>,
    /// Bytes handed out of `block`, and bytes in it.
    pos: usize,
    len: usize,
    /// Where the current entry starts in `block`; its bytes of earlier blocks are in `record`.
    mark: usize,
    record: Vec<u8>,
    entry_start: EntryStart,
}

impl<R: Read> Tee<R> {
    fn new(inner: R, entry_start: EntryStart) -> Self {
        Tee {
            inner,
            block: vec![0; BLOCK].into_boxed_slice(),
            pos: 0,
            len: 0,
            mark: 0,
            record: Vec::new(),
            entry_start,
        }
    }

    fn start_entry_if_asked(&mut self) {
        if self.entry_start.replace(false) {
            self.record.clear();
            self.mark = self.pos;
        }
    }

    /// The bytes of the entry being read when the reading stopped, and the rest of the stream
    /// (from the bytes read ahead of where it stopped).
    pub fn into_rest(mut self) -> (Vec<u8>, io::Chain<io::Cursor<Vec<u8>>, R>) {
        self.start_entry_if_asked();
        self.record.extend_from_slice(&self.block[self.mark..self.pos]);
        let ahead = self.block[self.pos..self.len].to_vec();
        (self.record, io::Cursor::new(ahead).chain(self.inner))
    }
}

impl<R: Read> Read for Tee<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.start_entry_if_asked();
        // serde_json's case, without a call to `memcpy` for one byte.
        if let ([byte], Some(&next)) = (&mut *buf, self.block[..self.len].get(self.pos)) {
            *byte = next;
            self.pos += 1;
            return Ok(1);
        }
        if self.pos == self.len {
            self.record.extend_from_slice(&self.block[self.mark..self.len]);
            (self.pos, self.len, self.mark) = (0, 0, 0);
            self.len = loop {
                match self.inner.read(&mut self.block) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    other => break other?,
                }
            };
        }
        let n = buf.len().min(self.len - self.pos);
        buf[..n].copy_from_slice(&self.block[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
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
    let mut tee = Tee::new(reader, entry_start.clone());
    let mut state = State { name, found, entries_seen: false, entry: 0 };
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
            let request =
                Request { method: entry.method.unwrap_or_default(), url: redact(&entry.url.unwrap_or_default()) };
            let i = state.entry;
            let source = || format!("{}:entry-{}", state.name, i + 1);
            for (order, (pass, token)) in entry.tokens.iter().enumerate() {
                state.found.add_ranked(token, (*pass, i, order), source, Some(&request));
            }
            state.entry += 1;
        }
    }
}

/// What one entry gave: its request line and its tokens with their pass (0: Authorization).
#[derive(Default)]
struct Entry {
    method: Option<String>,
    url: Option<String>,
    tokens: Vec<(u8, String)>,
}

impl Entry {
    fn text(&mut self, pass: u8, text: &str) {
        for token in tokens(text.as_bytes()) {
            self.tokens.push((pass, token.to_owned()));
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
