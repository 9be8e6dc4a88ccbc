//! The request log: one NDJSON line per request on stdout, written by one thread so that request
//! handlers never wait on stdout. A line is written at most [`GATHER`] after it was logged (a
//! `tail` or a test sees it as it happens), and the lines of a busy millisecond in one write.

use super::Action;
use hyper::{Method, StatusCode};
use jiff::Timestamp;
use mfacheck::Outcome;
use serde::Serialize;
use std::io::Write;
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

/// Lines queued before handlers wait for stdout: bounded, so a stalled reader cannot grow memory.
const QUEUE: usize = 4096;

/// After a line arrives, the writer sleeps this long and then writes all that is queued. Waking
/// it for each line, and a write per line, were a third of a loaded server's CPU (at 50,000
/// requests/s), and context switches that showed in its tail latency.
const GATHER: std::time::Duration = std::time::Duration::from_millis(1);

pub struct Log {
    sender: Mutex<Option<SyncSender<Vec<u8>>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
}

/// One log line. The path is logged without its query, which can carry codes and secrets; the
/// token is never logged, only the result object (whose messages quote at most 12 characters).
#[derive(Serialize)]
struct Entry<'a> {
    time: String,
    method: &'a str,
    path: &'a str,
    status: u16,
    action: &'static str,
    result: Option<super::Shown<'a>>,
}

impl Log {
    /// A log on stdout, or none (`--quiet`).
    pub fn start(enabled: bool) -> Self {
        if !enabled {
            return Log { sender: Mutex::new(None), writer: Mutex::new(None) };
        }
        let (sender, receiver) = sync_channel(QUEUE);
        let writer = std::thread::spawn(move || write_lines(receiver));
        Log { sender: Mutex::new(Some(sender)), writer: Mutex::new(Some(writer)) }
    }

    #[allow(clippy::too_many_arguments)]
    pub fn request(
        &self,
        at: Timestamp,
        method: &Method,
        path: &str,
        status: StatusCode,
        action: Action,
        outcome: Option<&Outcome>,
        redact: bool,
    ) {
        let Some(sender) = self.sender.lock().expect("not poisoned").clone() else { return };
        let entry = Entry {
            time: format!("{at:.3}"),
            method: method.as_str(),
            path,
            status: status.as_u16(),
            action: match action {
                Action::Answered => "answered",
                Action::Forwarded => "forwarded",
                Action::Page => "page",
            },
            result: outcome.map(|o| super::shown(o, redact)),
        };
        let mut line = serde_json::to_vec(&entry).expect("a log line serializes");
        line.push(b'\n');
        let _ = sender.send(line);
    }

    /// Writes what is queued and stops the writer (at shutdown).
    pub fn finish(&self) {
        self.sender.lock().expect("not poisoned").take();
        if let Some(writer) = self.writer.lock().expect("not poisoned").take() {
            let _ = writer.join();
        }
    }
}

fn write_lines(receiver: Receiver<Vec<u8>>) {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    while let Ok(line) = receiver.recv() {
        let mut ok = out.write_all(&line).is_ok();
        // Asleep, not waiting on the channel: the lines logged meanwhile wake nobody.
        std::thread::sleep(GATHER);
        while let Ok(line) = receiver.try_recv() {
            ok &= out.write_all(&line).is_ok();
        }
        // A reader that went away (`| head`) stops the log, not the server.
        if !ok || out.flush().is_err() {
            break;
        }
    }
    // Keep draining so that handlers never block on a log nobody reads.
    while receiver.recv().is_ok() {}
}
