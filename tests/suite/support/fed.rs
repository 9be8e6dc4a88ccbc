//! The built binary run as a pipeline stage: fed a little at a time (does a result come out
//! while stdin is still open?), or with its reader gone (`| head -1`).

use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread::JoinHandle;
use std::time::Duration;

/// How long a result that should already be out may take to arrive.
const WAIT: Duration = Duration::from_secs(10);

/// `mfacheck ARGS` with its stdin held open and its stdout read line by line as it comes.
pub struct Fed {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    reader: Option<JoinHandle<()>>,
}

impl Fed {
    pub fn spawn(args: &[&str]) -> Fed {
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("mfacheck"))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let (tx, lines) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in stdout.lines() {
                tx.send(line.unwrap()).unwrap();
            }
        });
        Fed { child, stdin, lines, reader: Some(reader) }
    }

    /// Writes `text` and flushes it, stdin staying open.
    pub fn write(&mut self, text: &str) {
        let stdin = self.stdin.as_mut().expect("stdin is still open");
        stdin.write_all(text.as_bytes()).unwrap();
        stdin.flush().unwrap();
    }

    /// The next output line as JSON; `what` names it when it does not come.
    pub fn next(&self, what: &str) -> Value {
        let line = self.lines.recv_timeout(WAIT).unwrap_or_else(|_| panic!("no result for {what}"));
        serde_json::from_str(&line).unwrap()
    }

    /// No more output comes.
    pub fn ended(&self) -> bool {
        self.lines.recv_timeout(WAIT).is_err()
    }

    /// Ends stdin.
    pub fn close(&mut self) {
        self.stdin = None;
    }

    /// Ends stdin, reads the output to its end and returns the exit status.
    pub fn wait(mut self) -> Option<i32> {
        self.close();
        self.reader.take().unwrap().join().unwrap();
        self.child.wait().unwrap().code()
    }
}

/// `mfacheck ARGS` given `input` on stdin, its stdout closed at once (`| head -1` gone).
pub fn closed_stdout(args: &[&str], input: String) -> Output {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("mfacheck"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}
