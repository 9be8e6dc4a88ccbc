//! The integration tests: one crate, one module per feature, run through the built binary (or a
//! real client against `serve` on loopback). Shared helpers live in `support`.

mod support;

mod check;
mod cli;
mod decode;
mod docs;
mod drift;
mod engines;
mod fixtures;
mod fuzz_regressions;
mod hardening;
mod key_discovery;
mod key_sets;
mod properties;
mod redact;
mod redeem;
mod scan_bounds;
mod scan_stream;
mod serve;
mod serve_browser;
mod serve_hardening;
mod shape;
mod signins;
mod snapshots;
mod terminal;
mod token_kinds;
mod verification_decides;
mod verify;
mod workflows;
