//! The fast decoder: reads an ordinary token into the claim slots of [`crate::token::claims`]
//! without building a `serde_json::Value`, without decoding the signature and without allocating
//! (the decoded segments go into buffers the [`Decoder`] keeps; values are borrowed from them).
//! It decides nothing: what the slots mean is `Claims::new`'s, for both decoders.
//!
//! It takes only what it reads exactly like the general decoder: a well-formed token whose JSON
//! keeps to plain values (see `Json`). Anything else (every decode error, an escaped string, a
//! fraction, a nested object, an `amr` that is not a short array of strings, an `aud` array, more
//! than 64 members) makes it answer `None`, and the caller takes the general path, which says
//! precisely what is wrong. `tests/paths.rs` and the tests below compare the two paths.

use crate::input::MAX_LINE_BYTES;
use crate::token::claims::{Claim, Header, HeaderMember, List, Raw, Slots};

/// Reusable decoding buffers: one per thread.
#[derive(Default)]
pub struct Decoder {
    header: Vec<u8>,
    payload: Vec<u8>,
    /// The last header segment and what it said (`alg`, `kid`, a `nonce`): the tokens of one
    /// issuer share a header until its signing key rolls over, so most tokens skip decoding theirs.
    last_header: (String, String, Option<String>, bool),
}

impl Decoder {
    /// Decodes one cleaned token and hands its header and claim slots to `then`; `None` when this
    /// token needs the general decoder (see the module comment).
    pub fn decode<R>(&mut self, token: &str, then: impl FnOnce(Header<'_>, Slots<'_>) -> R) -> Option<R> {
        if token.len() > MAX_LINE_BYTES {
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
            let (alg, kid, nonce) = parse_header(&self.header)?;
            let Scalar::Str(alg) = alg else { return None };
            self.last_header = (head.to_owned(), alg.to_owned(), kid.text().map(str::to_owned), nonce.present());
        }
        self.payload.clear();
        decode_segment(body, &mut self.payload)?;
        let (_, alg, kid, nonce) = &self.last_header;
        let header = Header {
            alg,
            kid: kid.as_deref(),
            nonce: *nonce,
            signature_empty: signature.is_empty(),
            signature_len: crate::token::jws::decoded_len(signature),
        };
        let mut amr = [""; MAX_AMR];
        let slots = parse_claims(&self.payload, &mut amr)?;
        Some(then(header, slots))
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

/// A member value as the general decoder reads it: a string, an integer, or something else.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
enum Scalar<'de> {
    #[default]
    Absent,
    Str(&'de str),
    /// An integer of at most 18 digits (anything else defers).
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

/// The header members that are read (`alg`, `kid`, `nonce`), as the general decoder reads them.
fn parse_header(bytes: &[u8]) -> Option<(Scalar<'_>, Scalar<'_>, Scalar<'_>)> {
    let (mut alg, mut kid, mut nonce) = (Scalar::Absent, Scalar::Absent, Scalar::Absent);
    let mut members = Members::new();
    Json::new(bytes)?.object(|name, json| match HeaderMember::of(name) {
        Some(HeaderMember::Alg) => fill(&mut alg, json, true),
        Some(HeaderMember::Kid) => fill(&mut kid, json, true),
        Some(HeaderMember::Nonce) => fill(&mut nonce, json, true),
        // An extension header: the general decoder refuses it, with its error.
        Some(HeaderMember::Crit | HeaderMember::B64) => None,
        None => skip(&mut members, name, json),
    })?;
    Some((alg, kid, nonce))
}

/// Every claim slot the table declares, filled from the payload; `amr`'s elements go to `amr`.
fn parse_claims<'de>(bytes: &'de [u8], amr: &'de mut [&'de str; MAX_AMR]) -> Option<Slots<'de>> {
    let mut slots = Slots::default();
    // Claims in the table find a duplicate in their own slot; the others are remembered here.
    let mut members = Members::new();
    let mut amr_len = None;
    Json::new(bytes)?.object(|name, json| {
        let Some(slot) = Claim::of(name) else { return skip(&mut members, name, json) };
        if slots.get(slot).present() || (slot == Claim::Amr && amr_len.is_some()) {
            return None; // a duplicate: the general decoder words the error
        }
        let value = match slot {
            Claim::Amr => {
                // An array of strings; anything else is the general decoder's.
                if json.peek()? != b'[' {
                    return None;
                }
                let mut len = 0;
                json.array(0, &mut |element| match element {
                    Scalar::Str(method) if len < MAX_AMR => {
                        amr[len] = method;
                        len += 1;
                        Some(())
                    }
                    _ => None,
                })?;
                amr_len = Some(len);
                return Some(());
            }
            // An array `aud` is read for its elements by the general decoder.
            Claim::Aud => json.scalar(false)?,
            _ => json.scalar(true)?,
        };
        slots.set(slot, value.into());
        Some(())
    })?;
    if let Some(len) = amr_len {
        slots.set(Claim::Amr, Raw::Strings(List::Borrowed(&amr[..len])));
    }
    Some(slots)
}

impl<'de> From<Scalar<'de>> for Raw<'de> {
    fn from(scalar: Scalar<'de>) -> Self {
        match scalar {
            Scalar::Absent => Raw::Absent,
            Scalar::Str(text) => Raw::Str(text),
            Scalar::Num(n) => Raw::Int(n),
            Scalar::Other => Raw::Other(None),
        }
    }
}

/// Reads a member into its slot. A second member of that name is a duplicate: the general path's.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::Corpus;
    use crate::judge::{Policy, judge};
    use crate::report::json::write_outcome;
    use crate::sample::encode_raw;
    use crate::token::claims::Claims;
    use crate::token::signature::Verification;
    use jiff::Timestamp;

    fn policy() -> Policy {
        Policy::at(Timestamp::from_second(1_780_000_000).unwrap())
    }

    /// The fast path's JSON for `token`, or None when it defers to the general path. One decoder
    /// per thread, as in a batch, so that what it keeps from token to token is tested too.
    fn fast(token: &str, policy: &Policy) -> Option<String> {
        thread_local! {
            static DECODER: std::cell::RefCell<Decoder> = std::cell::RefCell::new(Decoder::default());
        }
        DECODER.with_borrow_mut(|decoder| {
            decoder.decode(token, |header, slots| {
                let claims = Claims::new(slots);
                let outcome = judge("arg:1".into(), &header, &claims, Verification::not_checked(), policy);
                let json = serde_json::to_string(&outcome).unwrap();
                let mut fast = Vec::new();
                write_outcome(&mut fast, &outcome).unwrap();
                assert_eq!(String::from_utf8(fast).unwrap(), json, "write_outcome differs from serde_json");
                json
            })
        })
    }

    fn slow(token: &str, policy: &Policy) -> String {
        serde_json::to_string(&crate::judge::check_token("arg:1", token, policy)).unwrap()
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
}
