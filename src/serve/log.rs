//! The request log: one line per request on stdout — NDJSON for programs, or a short line of
//! text for a person watching a terminal (`--log-format`) — written by one thread so that request
//! handlers never wait on stdout. A line is written at most [`GATHER`] after it was logged (a
//! `tail` or a test sees it as it happens), and the lines of a busy millisecond in one write.
//! When stdout's reader stalls (`serve | sleep 120`), lines beyond the queue are dropped and
//! counted, never waited for: serving goes on, and the count is told at shutdown.

use super::Action;
use crate::cli::LogFormat;
use hyper::{Method, StatusCode};
use jiff::Timestamp;
use mfacheck::Outcome;
use serde::Serialize;
use std::borrow::Cow;
use std::io::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, mpsc};
use std::time::Duration;

/// Lines queued for stdout: bounded, so a stalled reader cannot grow memory (beyond it, lines
/// are dropped).
const QUEUE: usize = 4096;

/// How long shutdown waits for the queued lines to be written to a reader that may have stalled.
const DRAIN: Duration = Duration::from_secs(2);

/// After a line arrives, the writer sleeps this long and then writes all that is queued. Waking
/// it for each line, and a write per line, were a third of a loaded server's CPU (at 50,000
/// requests/s), and context switches that showed in its tail latency.
const GATHER: std::time::Duration = std::time::Duration::from_millis(1);

pub struct Log {
    format: LogFormat,
    sender: Mutex<Option<SyncSender<Vec<u8>>>>,
    /// Told when the writer has written all it will.
    done: Mutex<Option<mpsc::Receiver<()>>>,
    counts: Arc<Counts>,
}

#[derive(Default)]
struct Counts {
    /// Lines handed to the writer.
    queued: AtomicU64,
    /// Lines the queue had no room for.
    refused: AtomicU64,
    /// Lines written to stdout.
    written: AtomicU64,
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
    /// Under `--report-only`, the status a request that was forwarded would have got.
    #[serde(skip_serializing_if = "Option::is_none")]
    would_status: Option<u16>,
    /// Why there is no result (`no bearer token`).
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'static str>,
    result: Option<super::Shown<'a>>,
}

/// What the server did with one request, to be logged.
pub struct Record<'a> {
    pub at: Timestamp,
    pub method: &'a Method,
    pub path: &'a str,
    pub status: StatusCode,
    pub action: Action,
    /// The status a refused request would have got, when `--report-only` forwarded it.
    pub would_status: Option<StatusCode>,
    pub reason: Option<&'static str>,
    pub outcome: Option<&'a Outcome<'a>>,
}

impl Log {
    /// A log on stdout, or none (`--quiet`).
    pub fn start(enabled: bool, format: LogFormat) -> Self {
        let counts = Arc::new(Counts::default());
        if !enabled {
            return Log { format, sender: Mutex::new(None), done: Mutex::new(None), counts };
        }
        let (sender, receiver) = sync_channel(QUEUE);
        let (done_tx, done) = mpsc::channel();
        let writing = counts.clone();
        std::thread::spawn(move || {
            write_lines(receiver, &writing.written);
            let _ = done_tx.send(());
        });
        Log { format, sender: Mutex::new(Some(sender)), done: Mutex::new(Some(done)), counts }
    }

    pub fn request(&self, record: Record, redact: bool) {
        let Some(sender) = self.sender.lock().expect("not poisoned").clone() else { return };
        let path = without_tokens(record.path);
        let mut line = match self.format {
            LogFormat::Ndjson => {
                let entry = Entry {
                    time: format!("{:.3}", record.at),
                    method: record.method.as_str(),
                    path: &path,
                    status: record.status.as_u16(),
                    action: match record.action {
                        Action::Answered => "answered",
                        Action::Forwarded => "forwarded",
                        Action::Page => "page",
                    },
                    would_status: record.would_status.map(|s| s.as_u16()),
                    reason: record.reason,
                    result: record.outcome.map(|o| super::shown(o, redact)),
                };
                serde_json::to_vec(&entry).expect("a log line serializes")
            }
            LogFormat::Text => text_line(&record, &path, redact).into_bytes(),
        };
        line.push(b'\n');
        match sender.try_send(line) {
            Ok(()) => &self.counts.queued,
            // Full: the reader stalled. Disconnected: the writer stopped (`| head` went away).
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => &self.counts.refused,
        }
        .fetch_add(1, Ordering::Relaxed);
    }

    /// Writes what is queued, waiting at most [`DRAIN`] for a stalled reader, and says on stderr
    /// how many lines were dropped (at shutdown).
    pub fn finish(&self) {
        self.sender.lock().expect("not poisoned").take();
        if let Some(done) = self.done.lock().expect("not poisoned").take() {
            // A writer stuck on a full pipe is left behind: the process is about to end.
            let _ = done.recv_timeout(DRAIN);
        }
        let counts = &self.counts;
        let unwritten = counts.queued.load(Ordering::Relaxed).saturating_sub(counts.written.load(Ordering::Relaxed));
        let dropped = counts.refused.load(Ordering::Relaxed) + unwritten;
        if dropped > 0 {
            eprintln!("mfacheck serve: {dropped} log lines dropped: stdout was not read as fast as requests came");
        }
    }
}

/// `12:00:01 GET /v1/customers 401 MFA missing app 23ec45a3… user alice@contoso.com`: the
/// verdict in the CLI's words, the app and user shortened so that a line fits a terminal.
fn text_line(record: &Record, path: &str, redact: bool) -> String {
    use mfacheck::report::text::{brief, printable};
    let mut line = format!(
        "{} {} {} {}",
        mfacheck::clock::time_of_day(record.at),
        record.method,
        printable(path),
        record.status.as_u16()
    );
    if let Some(would) = record.would_status {
        line.push_str(&format!(" (would be {})", would.as_u16()));
    }
    let Some(outcome) = record.outcome else {
        if let Some(reason) = record.reason {
            line.push_str(&format!(" {reason}"));
        }
        return line;
    };
    let outcome = match redact {
        true => std::borrow::Cow::Owned(mfacheck::report::redact::outcome(outcome)),
        false => std::borrow::Cow::Borrowed(outcome),
    };
    line.push_str(&format!(" {}", brief(&outcome)));
    if let Some(token) = &outcome.token {
        if let Some(app) = &token.app_id {
            line.push_str(&format!(" app {}", printable(&shorten(app, 8))));
        }
        if let Some(user) = &token.user {
            line.push_str(&format!(" user {}", printable(&shorten(user, 32))));
        }
    }
    line
}

/// The first `n` characters of `text`, and `…` when there were more.
fn shorten(text: &str, n: usize) -> String {
    match text.char_indices().nth(n) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

/// `path` with every token in it cut to its preview, as a token in a header is never logged.
/// Looked for also after percent-decoding (`eyJ%68…`), which is then the path logged.
fn without_tokens(path: &str) -> Cow<'_, str> {
    let decoded = match path.contains('%') {
        true => Cow::Owned(String::from_utf8_lossy(&super::screen::percent_decode(path.as_bytes())).into_owned()),
        false => Cow::Borrowed(path),
    };
    let tokens = mfacheck::internal::input::search::tokens(decoded.as_bytes());
    if tokens.is_empty() {
        return Cow::Borrowed(path);
    }
    let mut out = String::with_capacity(decoded.len());
    let mut rest = &*decoded;
    for token in tokens {
        let at = rest.find(token).expect("found in this text, in order");
        out.push_str(&rest[..at]);
        out.push_str(&mfacheck::internal::error::preview(token));
        rest = &rest[at + token.len()..];
    }
    out.push_str(rest);
    Cow::Owned(out)
}

fn write_lines(receiver: Receiver<Vec<u8>>, written: &AtomicU64) {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    while let Ok(line) = receiver.recv() {
        let mut ok = out.write_all(&line).is_ok();
        let mut lines = 1;
        // Asleep, not waiting on the channel: the lines logged meanwhile wake nobody.
        std::thread::sleep(GATHER);
        while let Ok(line) = receiver.try_recv() {
            ok &= out.write_all(&line).is_ok();
            lines += 1;
        }
        // A reader that went away (`| head`) stops the log, not the server.
        if !ok || out.flush().is_err() {
            break;
        }
        written.fetch_add(lines, Ordering::Relaxed);
    }
}
