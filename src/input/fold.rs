//! Tokens folded over lines, as mail, terminals, editors and `fold -w N` wrap them: a first line
//! of token characters that starts as a JWT header does but is not a whole token, then lines of
//! the same width, then a last line of any width. Any width is accepted (64 and 76 are common,
//! but a terminal's 80, 100 or 120, or a single break where a paste was split, happen too).

/// The shortest first line taken for the start of a fold: shorter ones are too short to be the
/// start of a token someone wrapped.
const MIN_WIDTH: usize = 16;

/// Characters of a JWS or JWE in compact form.
fn is_token_text(text: &str) -> bool {
    text.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Whether `text` holds at least two dots: the three segments of a whole JWS (or more, a JWE).
/// Found with `memchr`, which stops at the second: this runs on every line the reader cuts.
fn has_two_dots(text: &str) -> bool {
    let bytes = text.as_bytes();
    memchr::memchr(b'.', bytes).is_some_and(|first| memchr::memchr(b'.', &bytes[first + 1..]).is_some())
}

/// A line that may be the first of a folded token: token characters only, starting as a JWT
/// header does, and not a whole token by itself (fewer than two dots).
pub fn starts_fold(text: &str) -> bool {
    text.len() >= MIN_WIDTH && text.starts_with("eyJ") && !has_two_dots(text) && is_token_text(text)
}

/// Whether `text` goes on a fold gathered so far as `joined`: token characters, and not a whole
/// token of its own (the next line of a list of tokens).
pub fn continues_fold(joined: &str, text: &str) -> bool {
    let next_token = text.starts_with("eyJ") && (has_two_dots(joined) || has_two_dots(text));
    !text.is_empty() && is_token_text(text) && !next_token
}

/// Whether a fold of `width` goes on after a line of `len`: only a line of the full width can be
/// followed by more of the same token.
pub fn goes_on(width: usize, len: usize) -> bool {
    len == width
}

/// Joins a token folded over the lines of `text` (one argument), when it is one: two or more
/// lines, the first starting a fold and the others going on it, all but the last of its width.
pub fn unfold(text: &str) -> Option<String> {
    let mut lines = text.lines().map(str::trim);
    let first = lines.next()?;
    if !starts_fold(first) {
        return None;
    }
    let (width, mut joined, mut ended) = (first.len(), first.to_owned(), false);
    for line in lines {
        if ended || !continues_fold(&joined, line) {
            return None;
        }
        ended = !goes_on(width, line.len());
        joined.push_str(line);
    }
    (joined.len() > width).then_some(joined)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fold_starts_on_part_of_a_token() {
        assert!(starts_fold(&format!("eyJ{}", "a".repeat(61))));
        assert!(starts_fold(&format!("eyJ{}.{}", "a".repeat(40), "b".repeat(37))));
        assert!(!starts_fold("eyJhbGciOi.x.y"), "a whole token");
        assert!(!starts_fold("eyJabc"), "too short to have been wrapped");
        assert!(!starts_fold(&format!("eyJ{} x", "a".repeat(40))), "not token text");
        assert!(!starts_fold(&format!("abc{}", "a".repeat(40))), "not a JWT's start");
    }

    #[test]
    fn any_width_unfolds() {
        let token = format!("eyJ{}.{}.{}", "h".repeat(80), "p".repeat(900), "s".repeat(342));
        for width in [16, 64, 76, 80, 100, 120, 700] {
            let folded: Vec<String> =
                token.as_bytes().chunks(width).map(|c| String::from_utf8(c.to_vec()).unwrap()).collect();
            assert_eq!(unfold(&folded.join("\n")).as_deref(), Some(&*token), "width {width}");
        }
        // One break, the rest longer than the first line.
        let (a, b) = token.split_at(100);
        assert_eq!(unfold(&format!("{a}\n{b}")).as_deref(), Some(&*token));
        // Two lines of other widths after the first: not a fold.
        assert_eq!(unfold(&format!("{a}\n{}\n{}", &b[..50], &b[50..])), None);
        // Two whole tokens are two tokens.
        assert_eq!(unfold(&format!("{token}\n{token}")), None);
    }
}
