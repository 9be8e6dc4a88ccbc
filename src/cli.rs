//! The command line (SPEC §2): subcommands and the input, output and check options they share.

use crate::clock::parse_time;
use crate::report::Format;
use crate::verdict::DEFAULT_LEEWAY;
use crate::verify::DEFAULT_FETCH_TIMEOUT;
use clap::{Args, Parser, Subcommand, ValueEnum};
use jiff::Timestamp;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "mfacheck",
    version,
    about = "Tells offline whether an Entra ID access token satisfies Partner Center's MFA rule",
    long_about = "Tells offline whether an Entra ID access token is app-only or app+user, whether the \
                  sign-in behind it satisfies Partner Center's MFA rule (the exact element \"mfa\" in \
                  the amr claim), the 401 Partner Center answers when it does not, and what to change.\n\n\
                  Exit status: 0 every token compliant, 1 some token not compliant, 2 a usage error, \
                  an unreadable file or an input that is not a decodable JWT (2 wins over 1)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check tokens against Partner Center's MFA rule (the main job)
    Check(CheckArgs),
    /// Show the header and claims of tokens, without a verdict
    Decode(DecodeArgs),
}

#[derive(Debug, Args)]
pub struct InputArgs {
    /// A token, `-` for stdin, or `@PATH` for a file (one token per line; JSON objects are read
    /// for accessToken / access_token). With none, stdin is read.
    #[arg(value_name = "INPUT")]
    pub inputs: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Output format: text for people, json (one array) or ndjson (one object per line)
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Colour text output: auto (when stdout is a terminal and NO_COLOR is unset), always, never
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,

    /// Print nothing; the exit status tells the outcome
    #[arg(short, long)]
    pub quiet: bool,

    /// Mask personal data (upn, unique_name, preferred_username, email, name, given_name,
    /// family_name, ipaddr, oid, sub) as "redacted:" and a short digest, so the report can be shared
    #[arg(long)]
    pub redact: bool,
}

/// Signature verification, shared by `check` and `decode`.
#[derive(Debug, Args)]
#[command(next_help_heading = "Verification")]
pub struct VerifyArgs {
    /// Verify signatures with a JWKS: a file, or an https URL (plain http only on loopback), e.g.
    /// https://login.microsoftonline.com/common/discovery/v2.0/keys. The key is chosen by the
    /// header's kid (else x5t); anything but a verified signature makes the token non-compliant
    #[arg(long, value_name = "SOURCE")]
    pub jwks: Vec<String>,

    /// Verify signatures with a public key: a PEM file (an RSA, EC or Ed25519 public key, or an X.509
    /// certificate, not validated) or a JWK (JSON) file
    #[arg(long, value_name = "PATH")]
    pub key: Vec<PathBuf>,

    /// How long fetching a --jwks URL may take, in seconds
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_FETCH_TIMEOUT, value_parser = clap::value_parser!(u64).range(1..))]
    pub fetch_timeout: u64,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub input: InputArgs,

    #[command(flatten)]
    pub output: OutputArgs,

    /// Make an expired or not-yet-valid token, or one without exp, non-compliant
    #[arg(long)]
    pub require_valid_time: bool,

    /// Clock skew tolerated by --require-valid-time, in seconds
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_LEEWAY, value_parser = clap::value_parser!(i64).range(0..))]
    pub leeway: i64,

    /// The time to check against (unix seconds or RFC 3339); also the 401's Date line
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub now: Option<Timestamp>,

    /// Make a token whose iss is not ISS non-compliant (repeat to allow several)
    #[arg(long = "issuer", value_name = "ISS")]
    pub issuers: Vec<String>,

    /// Make a token whose aud is not AUD non-compliant (repeat to allow several), e.g.
    /// https://api.partnercenter.microsoft.com
    #[arg(long = "audience", value_name = "AUD")]
    pub audiences: Vec<String>,

    #[command(flatten)]
    pub verify: VerifyArgs,
}

#[derive(Debug, Args)]
pub struct DecodeArgs {
    #[command(flatten)]
    pub input: InputArgs,

    #[command(flatten)]
    pub output: OutputArgs,

    #[command(flatten)]
    pub verify: VerifyArgs,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
