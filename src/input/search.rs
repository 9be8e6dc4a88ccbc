//! The token search in text, without regular expressions, in one pass: a token starts at `eyJ`
//! (base64url of `{"`) that does not continue a base64url run, and is three base64url segments
//! whose second also starts with `eyJ` (a JWS; the signature may be empty), or five (a JWE,
//! reported as encrypted). `scan` searches text with it, the HAR reader a capture's strings, and
//! `serve`'s log a request's path.

use super::sightings::Index;
use crate::error::preview;

/// Byte classes of the token search, one table lookup a byte: base64url…
const URL: u8 = 1;
/// …or the standard alphabet and padding too (`+`, `/`, `=`): documentation samples carry them.
/// They are not valid JWS, but reported (with `check`'s error, which says so) rather than dropped.
const LOOSE: u8 = 2;

const CLASS: [u8; 256] = {
    let mut table = [0; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = if c.is_ascii_alphanumeric() || c == b'-' || c == b'_' {
            URL | LOOSE
        } else if c == b'+' || c == b'/' || c == b'=' {
            LOOSE
        } else {
            0
        };
        b += 1;
    }
    table
};

fn is_base64url(b: u8) -> bool {
    CLASS[usize::from(b)] & URL != 0
}

fn is_base64_loose(b: u8) -> bool {
    CLASS[usize::from(b)] & LOOSE != 0
}

/// The end of the run of `class` bytes that starts at `from`: eight bytes a step while all eight
/// are in it (a token is mostly long runs; the step has no branch per byte).
fn run_end(text: &[u8], from: usize, class: u8) -> usize {
    let mut i = from;
    while let Some(block) = text.get(i..i + 8) {
        if block.iter().fold(class, |all, &b| all & CLASS[usize::from(b)]) == 0 {
            break;
        }
        i += 8;
    }
    while i < text.len() && CLASS[usize::from(text[i])] & class != 0 {
        i += 1;
    }
    i
}

/// "eyJ" (base64url of `{"`), searched with SIMD by a searcher built once.
static START: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
    std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"eyJ"));

/// Every JWT in `text`, in order. Linear: a candidate's bytes are read once (twice when it goes
/// on in the standard alphabet), and the search goes on after a token or a failed candidate's
/// `eyJ`.
pub fn tokens(text: &[u8]) -> Vec<&str> {
    let mut found = Vec::new();
    let mut i = 0;
    while let Some(offset) = find_start(&text[i..]) {
        let start = i + offset;
        match token_end(text, start) {
            Some(end) => {
                // Tokens are ASCII by construction.
                found.push(std::str::from_utf8(&text[start..end]).expect("base64url is ASCII"));
                i = end;
            }
            None => i = start + 3,
        }
    }
    found
}

/// The next `eyJ` that does not continue a base64url run.
fn find_start(text: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(at) = START.find(&text[from..]) {
        let at = from + at;
        if at == 0 || !is_base64url(text[at - 1]) {
            return Some(at);
        }
        from = at + 3;
    }
    None
}

/// The end of the token that starts at `start` (at `eyJ`), or `None` when it is not one. A
/// candidate whose header or payload has `=`, `+` or `/` (a re-encoded documentation sample), or
/// whose signature has `+` or `=`, is taken whole (so it gets `check`'s error, never a verdict on
/// its base64url prefix); `/` alone after a signature is text after it (a URL path).
fn token_end(text: &[u8], start: usize) -> Option<usize> {
    let strict = Segments::walk(text, start, URL);
    // The base64url run stops at a byte that is neither base64url nor a dot: when that byte is
    // not of the standard alphabet either, the loose run stops there too, and is the same.
    let stop = strict.end(strict.count - 1);
    if text.get(stop).copied().is_some_and(is_base64_loose) {
        let loose = Segments::walk(text, start, LOOSE);
        // `stop` is the loose run's first byte outside base64url (other than dots).
        if let Some(end) = loose.token_end(text)
            && (stop < loose.end(1) || text[loose.end(1)..end].iter().any(|&b| matches!(b, b'+' | b'=')))
        {
            return Some(end);
        }
    }
    strict.token_end(text)
}

/// The dot-separated runs of a candidate: where the first five and the last two end, all that
/// its shape needs, without allocating.
struct Segments {
    count: usize,
    first: [usize; 5],
    last: [usize; 2],
}

impl Segments {
    fn walk(text: &[u8], start: usize, class: u8) -> Self {
        let mut segments = Segments { count: 0, first: [0; 5], last: [0; 2] };
        let mut from = start;
        loop {
            let end = run_end(text, from, class);
            if let Some(slot) = segments.first.get_mut(segments.count) {
                *slot = end;
            }
            segments.last = [segments.last[1], end];
            segments.count += 1;
            if text.get(end) != Some(&b'.') {
                return segments;
            }
            from = end + 1;
        }
    }

    /// Where segment `k` ends: one of the first five or the last two.
    fn end(&self, k: usize) -> usize {
        if k < self.first.len() { self.first[k] } else { self.last[k + 2 - self.count] }
    }

    /// A JWS has 3 segments, a JWE 5 (the second may be empty); a JWS-looking run of 4 or more is
    /// taken whole, as malformed. One trailing empty segment is a full stop, not part of it.
    fn token_end(&self, text: &[u8]) -> Option<usize> {
        let segment = |k: usize| &text[self.end(k - 1) + 1..self.end(k)];
        if self.count == 5 && (2..5).all(|k| !segment(k).is_empty()) {
            return Some(self.end(4));
        }
        let mut count = self.count;
        if count > 3 && segment(count - 1).is_empty() {
            count -= 1;
        }
        (count >= 3 && segment(1).starts_with(b"eyJ")).then(|| self.end(count - 1))
    }
}

/// A HAR string longer than this is searched in pieces of this size (a token cut between two
/// pieces is kept whole), so memory stays bounded whatever the input.
const MAX_SCAN_LINE: usize = 1 << 20;

/// Where a long text can be cut without cutting a token: after its last byte no token has (all
/// of it when there is none, a run too long to be a token).
fn safe_cut(text: &[u8]) -> usize {
    match text.iter().rposition(|&b| !is_base64_loose(b) && b != b'.') {
        Some(i) if i > 0 => i + 1,
        _ => text.len(),
    }
}

/// The tokens of a text handed over piece by piece (a HAR string too long to hold), searched in
/// a window of at most about [`MAX_SCAN_LINE`] bytes: each distinct token with its count, in the
/// order first found. Memory grows with distinct tokens only.
#[derive(Debug, Default)]
pub(crate) struct TextSearch {
    window: Vec<u8>,
    found: Vec<(String, usize)>,
    index: Index<String>,
}

impl TextSearch {
    pub(crate) fn push(&mut self, bytes: &[u8]) {
        self.window.extend_from_slice(bytes);
        if self.window.len() >= MAX_SCAN_LINE {
            let cut = safe_cut(&self.window);
            self.search(cut);
            self.window.drain(..cut);
        }
    }

    fn search(&mut self, end: usize) {
        for token in tokens(&self.window[..end]) {
            match self.index.get(token) {
                Some(&i) => self.found[i].1 += 1,
                None => {
                    self.index.insert(token.to_owned(), self.found.len());
                    self.found.push((token.to_owned(), 1));
                }
            }
        }
    }

    /// Ends the text (a token may end where it ends).
    pub(crate) fn end_text(&mut self) {
        self.search(self.window.len());
        self.window.clear();
    }

    /// What was found (in texts ended), forgotten here.
    pub(crate) fn take(&mut self) -> Vec<(String, usize)> {
        self.index.clear();
        std::mem::take(&mut self.found)
    }

    pub(crate) fn clear(&mut self) {
        self.window.clear();
        self.take();
    }
}

/// A URL can carry a token (`?access_token=…`): it is shown cut, as messages show tokens.
pub(crate) fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut done = 0;
    for token in tokens(text.as_bytes()) {
        // `token` is a slice of `text`: its offset is where it starts.
        let start = token.as_ptr() as usize - text.as_ptr() as usize;
        out.push_str(&text[done..start]);
        out.push_str(&preview(token));
        done = start + token.len();
    }
    out.push_str(&text[done..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const JWS: &str = "eyJhbGciOiJub25lIn0.eyJhbXIiOlsicHdkIl19.c2ln";

    #[test]
    fn finds_tokens_in_text() {
        let line = format!("> Authorization: Bearer {JWS}\r\n");
        assert_eq!(tokens(line.as_bytes()), [JWS]);
        let json = format!("{{\"access_token\":\"{JWS}\",\"id\":\"x{JWS}\"}}");
        assert_eq!(tokens(json.as_bytes()), [JWS], "a token inside a base64url run is not a token");
        let sentence = format!("token={JWS}. Then cookie=a;b={JWS};");
        assert_eq!(tokens(sentence.as_bytes()), [JWS, JWS]);
    }

    #[test]
    fn unsigned_tokens_keep_their_trailing_dot() {
        assert_eq!(tokens(b"x eyJhbGciOiJub25lIn0.eyJhIjoxfQ. y"), ["eyJhbGciOiJub25lIn0.eyJhIjoxfQ."]);
    }

    #[test]
    fn jwe_has_five_segments_with_an_optional_key() {
        assert_eq!(tokens(b"eyJhbGciOiJkaXIifQ..aXY.Y3Q.dGFn,"), ["eyJhbGciOiJkaXIifQ..aXY.Y3Q.dGFn"]);
    }

    #[test]
    fn docs_samples_are_candidates() {
        let padded = b"token: eyJhbGciOiJub25lIn0=.eyJhIjoxfQ==.c2ln rest";
        assert_eq!(tokens(padded), ["eyJhbGciOiJub25lIn0=.eyJhIjoxfQ==.c2ln"]);
        let path = b"GET /x/eyJhbGciOiJub25lIn0.eyJhIjoxfQ.c2ln/more";
        assert_eq!(tokens(path), ["eyJhbGciOiJub25lIn0.eyJhIjoxfQ.c2ln"]);
    }

    #[test]
    fn malformed_candidates_are_taken_whole() {
        assert_eq!(tokens(format!("x {JWS}.dGFn y").as_bytes()), [format!("{JWS}.dGFn")]);
        assert_eq!(tokens(format!("x {JWS}.a.b.c. y").as_bytes()), [format!("{JWS}.a.b.c")]);
        assert_eq!(tokens(format!("x {JWS}+x= y").as_bytes()), [format!("{JWS}+x=")]);
        assert_eq!(tokens(format!("x {JWS}== y").as_bytes()), [format!("{JWS}==")]);
        // A full stop, a URL path and a query go on being text after the token.
        assert_eq!(tokens(format!("saw {JWS}. Then /x/{JWS}/y ?t={JWS}&u=a+b").as_bytes()), [JWS, JWS, JWS]);
    }

    #[test]
    fn near_misses_are_not_tokens() {
        assert!(tokens(b"eyJmb28iOjF9. a sentence").is_empty());
        assert!(tokens(b"eyJmb28iOjF9.json.gz").is_empty(), "the payload must be a JSON object too");
        assert!(tokens(b"eyJ").is_empty());
        assert!(tokens(b"eyJ.eyJ").is_empty());
        assert!(tokens("é eyJ.é".as_bytes()).is_empty());
    }

    /// The search as first written (byte by byte, a vector of segment ends per candidate): the
    /// table-driven one must find exactly what it finds.
    mod reference {
        fn is_base64url(b: u8) -> bool {
            b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
        }

        fn is_base64_loose(b: u8) -> bool {
            is_base64url(b) || matches!(b, b'+' | b'/' | b'=')
        }

        fn run_end(text: &[u8], from: usize, alphabet: fn(u8) -> bool) -> usize {
            from + text[from..].iter().take_while(|&&b| alphabet(b)).count()
        }

        pub fn tokens(text: &[u8]) -> Vec<&str> {
            let mut found = Vec::new();
            let mut i = 0;
            while let Some(offset) = find_start(&text[i..]) {
                let start = i + offset;
                match token_end(text, start) {
                    Some(end) => {
                        found.push(std::str::from_utf8(&text[start..end]).unwrap());
                        i = end;
                    }
                    None => i = start + 3,
                }
            }
            found
        }

        fn find_start(text: &[u8]) -> Option<usize> {
            let mut from = 0;
            while let Some(at) = memchr::memmem::find(&text[from..], b"eyJ") {
                let at = from + at;
                if at == 0 || !is_base64url(text[at - 1]) {
                    return Some(at);
                }
                from = at + 3;
            }
            None
        }

        fn token_end(text: &[u8], start: usize) -> Option<usize> {
            if let Some(end) = token_end_in(text, start, is_base64_loose) {
                let mut segments = text[start..end].split(|&b| b == b'.');
                let head_and_payload = segments.next().into_iter().chain(segments.next());
                if head_and_payload.flatten().any(|&b| !is_base64url(b)) {
                    return Some(end);
                }
                if segments.flatten().any(|&b| matches!(b, b'+' | b'=')) {
                    return Some(end);
                }
            }
            token_end_in(text, start, is_base64url)
        }

        fn token_end_in(text: &[u8], start: usize, alphabet: fn(u8) -> bool) -> Option<usize> {
            let mut ends = vec![run_end(text, start, alphabet)];
            loop {
                let last = *ends.last().unwrap();
                if text.get(last) != Some(&b'.') {
                    break;
                }
                ends.push(run_end(text, last + 1, alphabet));
            }
            let segment = |k: usize| &text[ends[k - 1] + 1..ends[k]];
            if ends.len() == 5 && (2..5).all(|k| !segment(k).is_empty()) {
                return Some(ends[4]);
            }
            let mut count = ends.len();
            if count > 3 && segment(count - 1).is_empty() {
                count -= 1;
            }
            (count >= 3 && segment(1).starts_with(b"eyJ")).then(|| ends[count - 1])
        }
    }

    proptest::proptest! {
        /// Text made of the pieces a token's shape turns on (its start, dots, both alphabets,
        /// separators), in any order and length.
        #[test]
        fn the_search_finds_what_the_first_one_found(pieces in proptest::collection::vec(
            proptest::sample::select(vec!["eyJ", "eyJhbGciOiJub25lIn0", ".", ".", "..", "a", "Zm9v", "AbCdEfGh12345678", "-_", "+", "/", "=", "==", " ", "\n", "x", "\u{e9}"]),
            0..60,
        )) {
            let text: String = pieces.concat();
            proptest::prop_assert_eq!(tokens(text.as_bytes()), reference::tokens(text.as_bytes()), "{:?}", text);
        }

        #[test]
        fn the_search_agrees_on_any_bytes(text in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
            proptest::prop_assert_eq!(tokens(&text), reference::tokens(&text));
        }
        #[test]
        fn any_bytes_scan_without_panic_and_yield_only_token_shapes(text in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
            for token in tokens(&text) {
                proptest::prop_assert!(token.starts_with("eyJ"));
                proptest::prop_assert!(token.bytes().all(|b| is_base64_loose(b) || b == b'.'));
                proptest::prop_assert!(token.matches('.').count() >= 2);
            }
        }

        #[test]
        fn a_token_between_separators_is_found(before in "[ -~&&[^A-Za-z0-9_-]]{0,3}[ -~]{0,20}[ =:\"'(,;]", after in "([ \"'&;,)\r\n][ -~]{0,20}|\\. [ -~]{0,20})?") {
            let text = format!("{before}{JWS}{after}");
            let found = tokens(text.as_bytes());
            proptest::prop_assert!(found.contains(&JWS), "{text:?} gave {found:?}");
        }
    }
}
