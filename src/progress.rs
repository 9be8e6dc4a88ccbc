//! The progress line of a long run (SPEC §2): tokens, tokens/s and counts by verdict on stderr,
//! shown once a run has lasted a second and cleared at the end. The binary decides when there is
//! one at all (stderr a terminal, results not on that terminal, not `--quiet`); updates come from
//! the printer with each chunk written (and every few thousand results), so a run pays nothing
//! per token. It lives in the binary: the library draws nothing on a terminal.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use mfacheck::internal::report::{self, Tally};
use std::time::{Duration, Instant};

/// A run shorter than this shows no progress line.
pub const DELAY: Duration = Duration::from_secs(1);

pub struct Progress {
    bar: ProgressBar,
    start: Instant,
}

impl Progress {
    /// A progress line drawn on stderr.
    pub fn stderr() -> Self {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg}").unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        Progress { bar, start: Instant::now() }
    }
}

impl report::Progress for Progress {
    fn update(&self, tally: &Tally) {
        let elapsed = self.start.elapsed();
        if elapsed < DELAY {
            return;
        }
        let rate = tally.total as f64 / elapsed.as_secs_f64();
        self.bar.set_message(format!(
            "{} tokens, {rate:.0}/s: {} compliant, {} not compliant, {} {}",
            tally.total,
            tally.compliant,
            tally.non_compliant,
            tally.errors,
            if tally.errors == 1 { "error" } else { "errors" }
        ));
        self.bar.tick();
    }

    /// Clears the line.
    fn finish(self: Box<Self>) {
        self.bar.finish_and_clear();
    }
}
