//! Arbitrary input never panics and never passes: the library on arbitrary text and the input
//! reader on arbitrary bytes.

use mfacheck::Policy;
use mfacheck::input::{Item, read_stream};
use proptest::prelude::*;

fn policy() -> Policy {
    Policy::at(jiff::Timestamp::from_second(1_800_000_000).unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_text_never_panics(text in ".{0,400}") {
        let outcome = mfacheck::check_token("arg:1", &text, &policy());
        if outcome.error.is_some() {
            prop_assert!(!outcome.compliant);
        }
    }

    #[test]
    fn arbitrary_bytes_through_the_reader_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let mut n = 0;
        read_stream(&bytes[..], "in", &mut |item: Item| {
            n += 1;
            let _ = mfacheck::check_item(item, &policy());
            Ok(())
        }).unwrap();
        prop_assert!(n >= 1, "every stream yields at least one result");
    }

    #[test]
    fn three_arbitrary_segments_never_panic(a in "[A-Za-z0-9_=+/-]{0,60}", b in "[A-Za-z0-9_-]{0,200}", c in "[A-Za-z0-9_-]{0,40}") {
        let _ = mfacheck::check_token("arg:1", &format!("{a}.{b}.{c}"), &policy());
    }
}
