//! Writes N realistic v1.0 Entra ID access tokens, one per line, for benchmarks
//! (see `mfacheck::internal::corpus`): a mix of app-only, MFA and password-only tokens of about 1.4 KB.
//!
//!     cargo run --release --example tokens -- 1000000 > /tmp/tokens.txt
//!     cargo run --release --example tokens -- 1000 --seed 7 --signed > /tmp/signed.txt
//!
//! `--signed` signs each token with `fixtures/keys/test-rsa.pem` (slow: about 1 ms a token), and
//! `--key PEM` with another private key (P-256: ES256, Ed25519: EdDSA; `benches/verify.sh`);
//! otherwise the signature segment is RS256-shaped random bytes, which `check` never decodes.

use anyhow::{Context, Result, bail};
use mfacheck::internal::corpus::Corpus;
use mfacheck::internal::sample::Signer;
use std::io::{BufWriter, Write};
use std::path::Path;

fn main() -> Result<()> {
    let mut count = None;
    let mut seed = 1u64;
    let mut signed = false;
    let mut key = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/keys/test-rsa.pem");
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seed" => seed = args.next().context("--seed needs a number")?.parse()?,
            "--signed" => signed = true,
            "--key" => {
                key = args.next().context("--key needs a PEM file")?.into();
                signed = true;
            }
            n => count = Some(n.parse::<u64>().with_context(|| format!("{n:?} is not a count"))?),
        }
    }
    let Some(count) = count else { bail!("usage: tokens N [--seed S] [--signed] [--key PEM]") };
    let signer = if signed {
        Some(Signer::from_pem(&std::fs::read(&key).with_context(|| format!("{}", key.display()))?)?)
    } else {
        None
    };
    let mut corpus = Corpus::new(seed, signer.as_ref());
    let mut out = BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    for _ in 0..count {
        out.write_all(corpus.next_token().as_bytes())?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}
