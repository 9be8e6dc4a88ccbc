//! JSON renderings: `json` is one array (pretty, streamed item by item), `ndjson` one compact
//! object per line.

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
    let text = serde_json::to_string_pretty(item)?;
    out.write_all(text.replace('\n', "\n  ").as_bytes())
}

pub fn array_end<W: Write>(out: &mut W, empty: bool) -> io::Result<()> {
    out.write_all(if empty { b"[]\n" } else { b"\n]\n" })
}
