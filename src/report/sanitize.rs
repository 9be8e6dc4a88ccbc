//! The one sanitiser of every text output (`check`, `decode`, `scan`, `--explain`, messages on
//! stderr): claims, headers, sources and messages may be a forged token's, so every character that
//! can move the cursor or reorder text is shown escaped (`\u{202e}`): C0 and C1 controls, DEL,
//! the bidirectional marks, embeddings, overrides and isolates (U+200E, U+200F, U+202A–U+202E,
//! U+2066–U+2069), the Arabic letter mark U+061C, and the line and paragraph separators U+2028,
//! U+2029. A forged token can then neither fake a line of the report nor hide one.

use std::borrow::Cow;

/// Whether `c` is shown escaped.
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}'
        )
}

/// `text` with every unsafe character escaped; borrowed when there is none.
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if is_unsafe(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A message for stderr: escaped, with tokens cut to their preview and URL credentials masked.
pub fn message(text: &str) -> String {
    printable(&crate::error::mask_credentials(&crate::error::mask_tokens(text))).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_moves_the_cursor_or_reorders_text() {
        for c in [
            '\u{1b}', '\n', '\r', '\u{7f}', '\u{85}', '\u{9b}', '\u{61c}', '\u{200e}', '\u{202e}', '\u{2066}',
            '\u{2069}', '\u{2028}', '\u{2029}',
        ] {
            let shown = printable(&format!("a{c}b")).into_owned();
            assert!(!shown.contains(c), "{c:?}");
            assert_eq!(shown, format!("a{}b", c.escape_unicode()));
        }
        assert!(matches!(printable("plain ü — text"), Cow::Borrowed(_)));
    }
}
