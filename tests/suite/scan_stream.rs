//! `scan` writes each distinct token when first found (a stream's results
//! appear while it is still open), through the one line reader (lone-CR line ends), and `-j N`
//! gives the same output, in first-found order, as one thread.

use serde_json::Value;

use crate::support::fed::Fed;
use crate::support::fixture;

const NOW: &str = "1780000000";

fn ndjson(text: &str) -> Vec<Value> {
    text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn a_stream_s_tokens_are_written_while_it_is_open() {
    let (mfa, pwd) = (fixture("mfa.jwt"), fixture("password-only.jwt"));
    let mut fed = Fed::spawn(&["scan", "--format", "ndjson", "--now", NOW, "-"]);
    fed.write(&format!("2026-01-01 INFO GET /v1/customers Authorization: Bearer {mfa}\n"));
    let first = fed.next("the first line, stdin still open");
    assert_eq!((first["source"].as_str(), first["count"].as_u64()), (Some("stdin:1"), Some(1)));
    fed.write(&format!("again {mfa}\r2026-01-01 INFO token={pwd}\n"));
    let second = fed.next("the new token, stdin still open");
    assert_eq!(second["source"], "stdin:3", "a lone CR ends a line");
    assert_eq!(second["mfa"], "missing");
    fed.close();
    let last = fed.next("the closing counts");
    assert_eq!(last, serde_json::json!({"repeats": [{"result": 1, "source": "stdin:1", "count": 2}]}));
    assert!(fed.ended(), "nothing after the counts");
    assert_eq!(fed.wait(), Some(1));
}

/// Several MiB (many chunks): token B first in a late chunk, A in the first and again late, C
/// on many lines. With 2 workers the output is one thread's: first-found order, the line each
/// token is first on, and the counts in all.
#[test]
fn workers_write_what_one_thread_writes() {
    let (a, b, c) = (fixture("mfa.jwt"), fixture("password-only.jwt"), fixture("v2-mfa.jwt"));
    let filler = "2026-01-01T00:00:00Z INFO GET /v1/invoices 200 12ms upstream=10.0.0.1:443 ua=curl/8\n";
    let mut log = String::new();
    let mut expected_lines = Vec::new();
    let mut line = 0;
    let mut push = |log: &mut String, text: String| {
        line += 1;
        log.push_str(&text);
        line
    };
    expected_lines.push(push(&mut log, format!("Authorization: Bearer {a}\n")));
    for i in 0..120_000 {
        push(&mut log, filler.to_owned());
        if i == 70_000 {
            expected_lines.push(push(&mut log, format!("token={b}&x=1\n")));
        }
        if i % 10_000 == 9_999 {
            push(&mut log, format!("cookie: s={c}; t={a}\n"));
        }
    }
    let c_line = log.lines().position(|l| l.contains(&c)).unwrap() + 1;
    assert!(log.len() > 8 << 20, "{} bytes", log.len());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gateway.log");
    std::fs::write(&path, &log).unwrap();
    let mut outputs = Vec::new();
    for threads in ["1", "2"] {
        let out = assert_cmd::Command::cargo_bin("mfacheck")
            .unwrap()
            .args(["scan", "--format", "ndjson", "--now", NOW, "-j", threads])
            .arg(&path)
            .output()
            .unwrap();
        outputs.push(String::from_utf8(out.stdout).unwrap());
    }
    assert_eq!(outputs[0], outputs[1], "-j 2 writes what -j 1 writes");
    let results = ndjson(&outputs[1]);
    let name = path.display().to_string();
    let sources: Vec<&str> = results.iter().filter_map(|r| r["source"].as_str()).collect();
    let want =
        [format!("{name}:{}", expected_lines[0]), format!("{name}:{c_line}"), format!("{name}:{}", expected_lines[1])];
    assert_eq!(sources, want);
    let repeats = &results.last().unwrap()["repeats"];
    assert_eq!(repeats[0]["count"], 13, "{repeats}");
    assert_eq!(repeats[1]["count"], 12, "{repeats}");
}

/// About 6 MiB over a dozen chunks of the line reader: the fixtures' tokens on lines of varied
/// lengths (so that some straddle where a chunk would end, and two `\r\n` are cut where the first
/// two reads end), in three regions with `\n`, `\r\n` and lone `\r` line ends, among
/// tokens folded or cut over two lines. Both engines write the same bytes, and every whole
/// token is reported at the line this test counted itself, with the count it counted.
#[test]
fn workers_agree_at_chunk_boundaries_with_crlf_and_folded_tokens() {
    let chunk = mfacheck::internal::input::lines::CHUNK_BYTES;
    let whole = |t: &str| {
        let segments: Vec<&str> = t.split('.').collect();
        segments.len() == 3
            && segments[..2].iter().all(|s| s.starts_with("eyJ"))
            && t.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    };
    let mut tokens: Vec<String> = std::fs::read_dir(crate::support::root().join("fixtures"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "jwt"))
        .map(|path| std::fs::read_to_string(path).unwrap().trim().to_owned())
        .filter(|t| whole(t))
        .collect();
    tokens.sort();
    assert!(tokens.len() > 10, "{} fixture tokens", tokens.len());

    let mut seed = 7u64;
    let mut random = move |below: usize| {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (seed >> 33) as usize % below
    };
    let size = 12 * chunk;
    let (mut log, mut line) = (Vec::<u8>::new(), 0);
    let mut first: std::collections::HashMap<String, (usize, usize)> = Default::default();
    // Where the first two reads end: the first (64 KiB, the HAR sniff's buffer) ends the first
    // chunk after its last whole line, the second fills a chunk from there.
    let (mut edge, mut cuts) = (Some(1 << 16), 0);
    while log.len() < size {
        let end: &[u8] = [b"\n".as_slice(), b"\r\n", b"\r"][log.len() * 3 / size];
        let token = &tokens[random(tokens.len())];
        let bearer = format!("2026-01-01T00:00:00Z INFO GET /v1/customers Authorization: Bearer {token}");
        if let Some(at) = edge
            && log.len() + 30_000 > at
        {
            // The `\r` of this line's `\r\n` is the read's last byte: the line goes to the next chunk.
            let pad = at - 1 - bearer.len() - log.len() - 1;
            log.extend_from_slice(format!("{}\n", "p".repeat(pad)).as_bytes());
            let next_chunk = log.len();
            log.extend_from_slice(format!("{bearer}\r\n").as_bytes());
            assert_eq!(&log[at - 1..at + 1], b"\r\n");
            cuts += 1;
            edge = (cuts == 1).then_some(next_chunk + chunk);
            line += 2;
            first.entry(token.clone()).or_insert((line, 0)).1 += 1;
            continue;
        }
        match random(8) {
            0 | 1 => {
                log.extend_from_slice(bearer.as_bytes());
                log.extend_from_slice(end);
                line += 1;
                first.entry(token.clone()).or_insert((line, 0)).1 += 1;
            }
            2 => {
                // Folded, or cut: its pieces are not this token (a piece may be a token of its own).
                let at = 1 + random(token.len() - 1);
                log.extend_from_slice(format!("token={}", &token[..at]).as_bytes());
                log.extend_from_slice(end);
                log.extend_from_slice(format!("{} status=401", &token[at..]).as_bytes());
                log.extend_from_slice(end);
                line += 2;
            }
            _ => {
                let filler = "GET /v1/invoices?$top=100 status=200 ".repeat(1 + random(600));
                log.extend_from_slice(filler.as_bytes());
                log.extend_from_slice(end);
                line += 1;
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gateway.log");
    std::fs::write(&path, &log).unwrap();
    let outputs: Vec<String> = ["1", "2"]
        .map(|threads| {
            let out = crate::support::mfacheck()
                .args(["scan", "--format", "ndjson", "--now", NOW, "-j", threads])
                .arg(&path)
                .output()
                .unwrap();
            String::from_utf8(out.stdout).unwrap()
        })
        .into();
    assert!(outputs[0] == outputs[1], "-j 2 writes what -j 1 writes");

    let results = ndjson(&outputs[0]);
    let (repeats, results) = results.split_last().unwrap();
    let name = path.display().to_string();
    let lines: Vec<usize> =
        results.iter().map(|r| r["source"].as_str().unwrap().rsplit(':').next().unwrap().parse().unwrap()).collect();
    assert!(lines.is_sorted(), "results in the order first found: {lines:?}");
    for (token, (line, count)) in &first {
        let at = results.iter().position(|r| r["source"] == format!("{name}:{line}")).unwrap_or_else(|| {
            panic!("no result at line {line} for {}…", &token[..12]);
        });
        let repeated = repeats["repeats"].as_array().unwrap().iter().find(|r| r["result"] == at + 1);
        let total = repeated.map_or(&results[at]["count"], |r| &r["count"]);
        assert_eq!(total.as_u64(), Some(*count as u64), "count of the token first at line {line}");
    }
}
