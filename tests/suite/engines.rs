//! Large inputs through the built binary: results of the chunked, multi-threaded batch equal the
//! one-at-a-time results, in input order, with the merged exit status; and the input limits.

use assert_cmd::Command;
use mfacheck::Policy;
use mfacheck::internal::corpus::Corpus;
use mfacheck::internal::input;
use mfacheck::internal::report::{Format, Printer};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;

const NOW: &str = "2026-06-01T00:00:00Z";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// Thousands of generated tokens with every fixture token and bad input mixed in, blank lines,
/// a line that is not UTF-8, and (near the end) a JSON wrapper, which switches reading to line by
/// line for the rest.
fn mix() -> Vec<u8> {
    let mut lines: Vec<Vec<u8>> = Vec::new();
    let mut corpus = Corpus::new(42, None);
    let mut specials: Vec<Vec<u8>> = Vec::new();
    for dir in [fixtures(), fixtures().join("bad")] {
        let mut paths: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
        paths.sort();
        for path in paths {
            if path.extension().is_some_and(|e| e == "jwt" || e == "txt") {
                let content = std::fs::read(&path).unwrap();
                specials.push(content.strip_suffix(b"\n").unwrap_or(&content).to_vec());
            }
        }
    }
    specials.extend([
        b"".to_vec(),
        b"   ".to_vec(),
        b"\xff\xfe not UTF-8".to_vec(),
        b"Bearer not-a-token".to_vec(),
        b"\"eyJhbGciOiJub25lIn0.e30.\",".to_vec(),
    ]);
    for i in 0..4000 {
        if i % 97 == 5 {
            lines.push(specials[(i / 97) % specials.len()].clone());
        } else {
            lines.push(corpus.next_token().into_bytes());
        }
    }
    lines.extend(specials.iter().cloned());
    // The hard inputs: folded tokens (which make the rest of the stream serial, as a JSON
    // wrapper does), a curl command and an HTTP header block.
    let folded = corpus.next_token().into_bytes();
    for width in [76, 64] {
        lines.extend(folded.chunks(width).map(<[u8]>::to_vec));
        lines.push(b"Host: api.partnercenter.microsoft.com".to_vec());
    }
    lines.push(
        b"curl -H 'Authorization: Bearer eyJ0eXAi' https://api.partnercenter.microsoft.com/v1/customers".to_vec(),
    );
    lines.extend((0..600).map(|_| corpus.next_token().into_bytes()));
    lines.push(br#"{"token_type":"Bearer","access_token":"eyJhbGciOiJub25lIn0.e30."}"#.to_vec());
    lines.extend((0..200).map(|_| corpus.next_token().into_bytes()));
    lines.push(corpus.next_token().into_bytes()); // the last line has no newline
    let text = lines.join(&b"\n"[..]);
    assert!(text.len() > 4 << 20, "large enough for several chunks");
    text
}

/// What the slow path gives, one item after another in this thread: the reference.
fn one_at_a_time(input: &[u8], name: &str, format: Format) -> (Vec<u8>, u8) {
    let now = mfacheck::internal::clock::parse_time(NOW).unwrap();
    let policy = Policy::at(now);
    let mut printer = Printer::new(Vec::new(), format, false, now.as_second());
    input::read_stream(input, name, &mut |item| printer.outcome(&mfacheck::internal::judge::check_item(item, &policy)))
        .unwrap();
    printer.finish().unwrap();
    let status = printer.tally().status() as u8;
    (printer.into_parts().0, status)
}

fn run(args: &[&str], stdin: Option<Vec<u8>>) -> (Vec<u8>, i32) {
    let mut cmd = Command::cargo_bin("mfacheck").unwrap();
    cmd.args(["check", "--now", NOW, "--color", "never"]).args(args);
    if let Some(stdin) = stdin {
        cmd.write_stdin(stdin);
    }
    let out = cmd.output().unwrap();
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    (out.stdout, out.status.code().unwrap())
}

#[test]
fn batch_equals_one_at_a_time_in_every_format() {
    let text = mix();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mix.txt");
    std::fs::write(&path, &text).unwrap();
    let file_arg = format!("@{}", path.display());
    for (format, name) in [(Format::Ndjson, "ndjson"), (Format::Json, "json"), (Format::Text, "text")] {
        let (expected, status) = one_at_a_time(&text, &path.display().to_string(), format);
        assert_eq!(status, 2, "the mix has bad lines");
        let (got, code) = run(&["--format", name, &file_arg], None);
        assert_eq!(code, i32::from(status));
        assert!(got == expected, "{name} from a file differs from one at a time");
        if format == Format::Ndjson {
            let (expected, _) = one_at_a_time(&text, "stdin", format);
            let (got, code) = run(&["--format", name, "-"], Some(text.clone()));
            assert_eq!(code, 2);
            assert!(got == expected, "ndjson from stdin differs from one at a time");
            let lines = got.split(|&b| b == b'\n').filter(|l| !l.is_empty()).count();
            assert!(lines > 4000, "{lines} results");
        }
    }
    let (_, code) = run(&["--quiet", &file_arg], None);
    assert_eq!(code, 2);
}

/// A folded token at every place around the first chunk boundaries: parallel, serial and one at
/// a time agree, and it is one result.
#[test]
fn a_folded_token_across_chunk_boundaries_is_one_result() {
    let mut corpus = Corpus::new(11, None);
    let folded = corpus.token(mfacheck::internal::corpus::Shape::Mfa).into_bytes();
    let lines_per_fold = folded.len().div_ceil(76);
    for at in (mfacheck::internal::input::lines::CHUNK_LINES - lines_per_fold
        ..=mfacheck::internal::input::lines::CHUNK_LINES + 1)
        .step_by(3)
    {
        let mut lines: Vec<Vec<u8>> = (0..at).map(|_| corpus.next_token().into_bytes()).collect();
        lines.extend(folded.chunks(76).map(<[u8]>::to_vec));
        lines.extend((0..700).map(|_| corpus.next_token().into_bytes()));
        let text = lines.join(&b"\n"[..]);
        let (expected, status) = one_at_a_time(&text, "stdin", Format::Ndjson);
        let folded_source = format!("\"source\":\"stdin:{}-{}\"", at + 1, at + lines_per_fold);
        assert!(String::from_utf8_lossy(&expected).contains(&folded_source), "{folded_source}");
        for threads in ["2", "1"] {
            let (got, code) = run(&["--format", "ndjson", "-j", threads, "-"], Some(text.clone()));
            assert_eq!(code, i32::from(status), "at {at}, -j {threads}");
            assert!(got == expected, "at {at}, -j {threads}: differs from one at a time");
        }
    }
}

#[test]
fn each_result_equals_the_token_checked_alone() {
    let text = mix();
    let (batch, _) = run(&["--format", "ndjson", "-"], Some(text.clone()));
    let results: Vec<serde_json::Value> =
        batch.split(|&b| b == b'\n').filter(|l| !l.is_empty()).map(|l| serde_json::from_slice(l).unwrap()).collect();
    let lines: Vec<&[u8]> = text.split(|&b| b == b'\n').collect();
    let mut checked = 0;
    for result in results.iter().step_by(61).take(80) {
        let source = result["source"].as_str().unwrap();
        let Some(line_no) = source.strip_prefix("stdin:").and_then(|n| n.parse::<usize>().ok()) else { continue };
        let Ok(line) = std::str::from_utf8(lines[line_no - 1]) else { continue };
        if line.trim().starts_with('{') || line.trim().is_empty() {
            continue;
        }
        let (alone, _) = run(&["--format", "ndjson", line], None);
        let mut alone: serde_json::Value = serde_json::from_slice(&alone).unwrap();
        alone["source"] = source.into();
        assert_eq!(&alone, result, "{source}");
        checked += 1;
    }
    assert!(checked > 50, "{checked}");
}

#[test]
fn exit_status_merges_across_chunks() {
    let mut corpus = Corpus::new(9, None);
    let compliant: Vec<String> = (0..400).map(|_| corpus.token(mfacheck::internal::corpus::Shape::Mfa)).collect();
    let (_, code) = run(&["--quiet", "-"], Some(compliant.join("\n").into_bytes()));
    assert_eq!(code, 0);
    let mut one_missing = compliant.clone();
    one_missing.insert(333, corpus.token(mfacheck::internal::corpus::Shape::PasswordOnly));
    let (_, code) = run(&["--quiet", "-"], Some(one_missing.join("\n").into_bytes()));
    assert_eq!(code, 1);
    one_missing.insert(350, "not a token".into());
    let (_, code) = run(&["--quiet", "-"], Some(one_missing.join("\n").into_bytes()));
    assert_eq!(code, 2);
}

#[test]
fn a_large_stream_of_blank_lines_is_one_empty_error() {
    let (out, code) = run(&["--format", "ndjson", "-"], Some(vec![b'\n'; 600_000]));
    assert_eq!(code, 2);
    let out = String::from_utf8(out).unwrap();
    assert_eq!(out.lines().count(), 1);
    assert!(out.contains(r#""source":"stdin""#) && out.contains(r#""code":"empty""#), "{out}");
}

/// Feeds `lines` (generated as they are written) to `check --format ndjson -` through a pipe.
fn pipe(mut write: impl FnMut(&mut dyn Write) + Send + 'static) -> (Vec<serde_json::Value>, i32) {
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("mfacheck"))
        .args(["check", "--format", "ndjson", "--now", NOW, "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || write(&mut stdin));
    let mut out = Vec::new();
    child.stdout.take().unwrap().read_to_end(&mut out).unwrap();
    feeder.join().unwrap();
    let code = child.wait().unwrap().code().unwrap();
    let results = out.split(|&b| b == b'\n').filter(|l| !l.is_empty()).map(|l| serde_json::from_slice(l).unwrap());
    (results.collect(), code)
}

fn error_code(result: &serde_json::Value) -> &str {
    result["error"]["code"].as_str().unwrap_or("none")
}

#[test]
fn a_100_mb_line_is_too_large_and_reading_goes_on() {
    let token = Corpus::new(5, None).token(mfacheck::internal::corpus::Shape::Mfa);
    let tail = token.clone();
    let (results, code) = pipe(move |out| {
        out.write_all(format!("{token}\n").as_bytes()).unwrap();
        out.write_all(b"eyJ").unwrap();
        let block = vec![b'A'; 1 << 20];
        for _ in 0..100 {
            out.write_all(&block).unwrap();
        }
        out.write_all(format!("\n\n{tail}").as_bytes()).unwrap();
    });
    assert_eq!(code, 2);
    let summary: Vec<(&str, &str)> = results.iter().map(|r| (r["source"].as_str().unwrap(), error_code(r))).collect();
    assert_eq!(summary, [("stdin:1", "none"), ("stdin:2", "too-large"), ("stdin:4", "none")]);
    assert_eq!(results[2]["mfa"], "satisfied");
}

#[test]
fn a_long_line_is_too_large_when_read_line_by_line_too() {
    // A JSON wrapper first: the whole stream is read line by line.
    let (results, code) = pipe(|out| {
        out.write_all(b"{\"accessToken\": \"eyJhbGciOiJub25lIn0.e30.\"}\n").unwrap();
        out.write_all(&vec![b'x'; 3 << 20]).unwrap();
        out.write_all(b"\nnot-a-token\n").unwrap();
    });
    assert_eq!(code, 2);
    let codes: Vec<&str> = results.iter().map(error_code).collect();
    assert_eq!(codes, ["none", "too-large", "not-a-jwt"]);
    assert_eq!(results[1]["source"], "stdin:2");
}

#[test]
fn huge_arrays_and_objects_finish() {
    use mfacheck::internal::sample::encode_raw;
    let none = br#"{"alg":"none"}"#;
    let many = |n: usize| (0..n).map(|i| format!("\"m{i}\"")).collect::<Vec<_>>().join(",");
    // Within the limit: judged (no hang, no quadratic duplicate check).
    let amr = format!(r#"{{"scp":"x","amr":[{}]}}"#, many(60_000));
    let wide = format!(
        r#"{{"scp":"x","amr":["mfa"],"x":{{{}}}}}"#,
        (0..40_000).map(|i| format!("\"k{i}\":1")).collect::<Vec<_>>().join(",")
    );
    // Over it: too large, whatever the shape.
    let huge = format!(r#"{{"amr":[{}]}}"#, many(200_000));
    let tokens = [
        encode_raw(none, amr.as_bytes(), ""),
        encode_raw(none, wide.as_bytes(), ""),
        encode_raw(none, huge.as_bytes(), ""),
    ];
    let (results, code) = pipe(move |out| {
        for token in &tokens {
            out.write_all(format!("{token}\n").as_bytes()).unwrap();
        }
    });
    assert_eq!(code, 2);
    assert_eq!(results.len(), 3);
    assert_eq!((error_code(&results[0]), results[0]["mfa"].as_str()), ("none", Some("missing")));
    assert_eq!((error_code(&results[1]), results[1]["mfa"].as_str()), ("none", Some("satisfied")));
    assert_eq!(error_code(&results[2]), "too-large");
}

#[test]
fn deep_nesting_is_an_error() {
    let path = fixtures().join("bad/deep-nesting.txt");
    let (out, code) = run(&["--format", "ndjson", &format!("@{}", path.display())], None);
    assert_eq!(code, 2);
    assert!(String::from_utf8(out).unwrap().contains(r#""code":"too-deep""#));
}

/// The chunked batch must not bypass `--redact` or signature verification.
#[test]
fn large_batches_honour_redaction_and_verification() {
    let read = |name: &str| std::fs::read_to_string(fixtures().join(name)).unwrap().trim().to_owned();
    let (good, forged) = (read("mfa.jwt"), read("attack/tampered.jwt"));
    let lines: Vec<&str> = (0..1500).map(|i| if i % 10 == 3 { forged.as_str() } else { good.as_str() }).collect();
    let text = (lines.join("\n") + "\n").into_bytes();
    assert!(text.len() > 1 << 20, "large enough for the chunked path");

    let (out, code) = run(&["--format", "ndjson", "--redact", "-"], Some(text.clone()));
    assert_eq!(code, 0, "without keys the forgery passes");
    let out = String::from_utf8(out).unwrap();
    assert_eq!(out.lines().count(), 1500);
    assert!(!out.contains("Isaiah.Williams"), "a personal value escaped --redact in a large batch");
    assert!(out.lines().all(|l| l.contains("\"user\":\"redacted:")));

    let jwks = fixtures().join("keys/jwks.json");
    let (out, code) = run(&["--format", "ndjson", "--jwks", jwks.to_str().unwrap(), "-"], Some(text));
    assert_eq!(code, 1, "the forgeries fail verification");
    let signatures: Vec<String> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["signature"].as_str().unwrap().to_owned())
        .collect();
    let expected: Vec<&str> = (0..1500).map(|i| if i % 10 == 3 { "invalid" } else { "verified" }).collect();
    assert_eq!(signatures, expected);
}
