//! SPEC §3: `scan` is bounded on every input — a HAR with one huge string, a
//! binary stream that never ends — reads FIFOs, `/dev/stdin` and `<(…)` given as plain paths as
//! the files they are, and reports a malformed token with `check`'s error, never a verdict on a
//! valid-looking prefix.

use serde_json::Value;
use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{binary, fixture};

const NOW: &str = "1780000000";

fn ndjson(text: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(text).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// Waits for `child` at most `limit`, killing it when it runs longer; its exit code, stdout and
/// peak RSS in KiB. The peak is the child's VmHWM polled while it runs, never `wait4`'s
/// `ru_maxrss`: Linux carries the spawning process's high-water mark across exec, so in a test
/// process that other tests have grown, `ru_maxrss` measures the test, not the child.
fn finish(mut child: Child, limit: Duration) -> (Option<i32>, Vec<u8>, u64) {
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut stdout, &mut out).unwrap();
        out
    });
    let started = Instant::now();
    let pid = child.id() as libc::pid_t;
    let mut peak = 0;
    loop {
        let mut status = 0;
        // SAFETY: waitpid on our own child with a valid out-pointer.
        peak = peak.max(vm_hwm_kib(pid));
        let done = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if done == pid {
            let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
            return (code, reader.join().unwrap(), peak);
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A running process's peak resident set in KiB (0 once it has exited).
fn vm_hwm_kib(pid: libc::pid_t) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let line = status.lines().find(|l| l.starts_with("VmHWM:"));
    line.and_then(|l| l.split_whitespace().nth(1)?.parse().ok()).unwrap_or(0)
}

#[test]
fn scan_stops_at_once_on_a_binary_stream() {
    for device in ["/dev/zero", "/dev/urandom"] {
        for args in [vec![device], vec!["-"]] {
            let stdin = if args == ["-"] { Stdio::from(std::fs::File::open(device).unwrap()) } else { Stdio::null() };
            let child = Command::new(binary())
                .args(["scan", "--format", "ndjson", "--now", NOW])
                .args(&args)
                .stdin(stdin)
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let (code, out, _) = finish(child, Duration::from_secs(10));
            let results = ndjson(&out);
            assert_eq!(code, Some(2), "{device} {args:?}");
            assert_eq!(results.len(), 1, "{device} {args:?}: {results:?}");
            assert_eq!(results[0]["error"]["code"], "binary", "{device} {args:?}: {results:?}");
        }
    }
}

/// Writes `text` into the FIFO at `path` from a thread; unblocks it if nobody ever opened it.
struct Writer(std::thread::JoinHandle<()>, std::path::PathBuf);

impl Writer {
    fn start(path: &Path, text: String) -> Writer {
        let at = path.to_owned();
        Writer(std::thread::spawn(move || std::fs::write(at, text).unwrap()), path.to_owned())
    }

    fn join(self) {
        if !self.0.is_finished() {
            // Opened by nobody: a reader of our own lets the writer end.
            let _ = std::fs::read(&self.1);
        }
        self.0.join().unwrap();
    }
}

#[test]
fn fifos_dev_stdin_and_process_substitution_are_read_as_files() {
    let token = fixture("mfa.jwt");
    let dir = tempfile::tempdir().unwrap();
    for command in ["check", "scan"] {
        let fifo = dir.path().join(format!("{command}.fifo"));
        let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(made.success());
        let writer = Writer::start(&fifo, format!("Authorization: Bearer {token}\n"));
        let child = Command::new(binary())
            .args([command, "--format", "ndjson", "--now", NOW])
            .arg(&fifo)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let (code, out, _) = finish(child, Duration::from_secs(10));
        writer.join();
        let results = ndjson(&out);
        assert_eq!(results.len(), 1, "{command} FIFO: {results:?}");
        assert_eq!((code, &results[0]["compliant"]), (Some(0), &Value::Bool(true)), "{command} FIFO: {results:?}");

        // /dev/stdin given as a path: stdin is a pipe here.
        let mut child = Command::new(binary())
            .args([command, "--format", "ndjson", "--now", NOW, "/dev/stdin"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(format!("{token}\n").as_bytes()).unwrap();
        let (code, out, _) = finish(child, Duration::from_secs(10));
        let results = ndjson(&out);
        assert_eq!((code, results.len()), (Some(0), 1), "{command} /dev/stdin: {results:?}");
        assert_eq!(results[0]["compliant"], true, "{command} /dev/stdin: {results:?}");

        // <(cmd), as bash hands it: /dev/fd/N, a pipe.
        let script = format!("exec \"$0\" {command} --format ndjson --now {NOW} <(cat fixtures/mfa.jwt)");
        let child = Command::new("bash")
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(["-c", &script])
            .arg(binary())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let (code, out, _) = finish(child, Duration::from_secs(10));
        let results = ndjson(&out);
        assert_eq!((code, results.len()), (Some(0), 1), "{command} <(…): {results:?}");
        assert_eq!(results[0]["compliant"], true, "{command} <(…): {results:?}");
    }
}

#[test]
fn a_malformed_token_found_by_scan_gets_checks_error() {
    let token = fixture("mfa.jwt");
    let malformed = [format!("{token}.c2ln"), format!("{token}+x"), format!("{token}=="), format!("{token}.a.b.c")];
    for bad in malformed {
        let check = assert_cmd::Command::cargo_bin("mfacheck")
            .unwrap()
            .args(["check", "--format", "ndjson", "--now", NOW, &bad])
            .output()
            .unwrap();
        let expected = ndjson(&check.stdout)[0]["error"].clone();
        assert!(expected.is_object(), "check refuses {bad:.20}…");
        let scan = assert_cmd::Command::cargo_bin("mfacheck")
            .unwrap()
            .args(["scan", "--format", "ndjson", "--now", NOW])
            .write_stdin(format!("GET /x HTTP/1.1\nAuthorization: Bearer {bad} trailing\n"))
            .output()
            .unwrap();
        let results = ndjson(&scan.stdout);
        assert_eq!(results.len(), 1, "{results:?}");
        assert_eq!(results[0]["error"]["code"], expected["code"], "{:?}", &bad[bad.len() - 8..]);
        assert_eq!(results[0]["error"]["message"], expected["message"]);
        assert_eq!(scan.status.code(), Some(2));
    }
    // A URL path after the signature is still a path, and a sentence's full stop still ends it.
    let scan = assert_cmd::Command::cargo_bin("mfacheck")
        .unwrap()
        .args(["scan", "--format", "ndjson", "--now", NOW])
        .write_stdin(format!("GET /x/{token}/more\nsaw {token}. Then\n"))
        .output()
        .unwrap();
    let results = ndjson(&scan.stdout);
    assert_eq!(
        (results.len(), &results[0]["compliant"], results[0]["count"].as_u64()),
        (1, &Value::Bool(true), Some(2))
    );
}

/// One 200 MB `content.text` (holding a token in its middle) between two entries with tokens:
/// all three found, and the peak RSS stays under the 64 MiB every other input keeps to.
#[test]
fn a_huge_har_string_is_never_held_whole() {
    let tokens: Vec<String> =
        ["mfa.jwt", "password-only.jwt", "seed.jwt", "v2-mfa.jwt"].iter().map(|f| fixture(f)).collect();
    let mut child = Command::new(binary())
        .args(["scan", "--format", "ndjson", "--now", NOW, "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let errors = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap());
    let feed = tokens.clone();
    let writer = std::thread::spawn(move || {
        let entry = |i: usize, t: &str| {
            format!(
                r#"{{"request": {{"method": "GET", "url": "https://api/{i}", "headers": [{{"name": "Authorization", "value": "Bearer {t}"}}]}}}}"#
            )
        };
        let mut head = format!(r#"{{"log": {{"entries": [{}, "#, entry(1, &feed[0]));
        head.push_str(r#"{"request": {"method": "GET", "url": "https://api/2", "headers": []}, "response": {"content": {"text": "<html>"#);
        stdin.write_all(head.as_bytes()).unwrap();
        // Text with escapes (as a page's is), a token after an escaped line break in its middle.
        let block = "<p class=\\\"x\\\">lorem ipsum \\u00e9t\\u00e9 dolor</p>\\n".repeat(1 << 10);
        let half = 100_000_000 / block.len();
        for i in 0..2 * half {
            if i == half {
                stdin.write_all(format!("\\n{}\\n", feed[1]).as_bytes()).unwrap();
            }
            stdin.write_all(block.as_bytes()).unwrap();
        }
        let tail = format!(
            r#"</html>"}}}}}}, {}, {{"response": {{"content": {{"text": "x={}"}}}}}}]}}}}"#,
            entry(3, &feed[2]),
            feed[3]
        );
        stdin.write_all(tail.as_bytes()).unwrap();
    });
    let (code, out, peak_kib) = finish(child, Duration::from_secs(120));
    writer.join().unwrap();
    let errors = errors.join().unwrap();
    let results = ndjson(&out);
    let found: Vec<&str> = results.iter().map(|r| r["source"].as_str().unwrap()).collect();
    assert_eq!(found, ["stdin:entry-1", "stdin:entry-3", "stdin:entry-2", "stdin:entry-4"], "{errors}");
    assert_eq!(results[2]["mfa"], "missing", "the token inside the long string is password-only's");
    assert!(errors.is_empty(), "{errors}");
    assert_eq!(code, Some(1));
    eprintln!("peak RSS {} MiB", peak_kib >> 10);
    assert!(peak_kib > 0, "the child's peak RSS was never read");
    assert!(peak_kib < 64 << 10, "peak RSS {} MiB", peak_kib >> 10);
}
