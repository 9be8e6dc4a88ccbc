//! The command line (SPEC §2): subcommands and the input, output and check options they share.

use crate::clock::parse_time;
use crate::report::Format;
use crate::verdict::DEFAULT_LEEWAY;
use clap::{Args, Parser, Subcommand, ValueEnum};
use jiff::Timestamp;

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
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub input: InputArgs,

    #[command(flatten)]
    pub output: OutputArgs,

    /// Make an expired or not-yet-valid token non-compliant
    #[arg(long)]
    pub require_valid_time: bool,

    /// Clock skew tolerated by --require-valid-time, in seconds
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_LEEWAY, value_parser = clap::value_parser!(i64).range(0..))]
    pub leeway: i64,

    /// The time to check against (unix seconds or RFC 3339); also the 401's Date line
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub now: Option<Timestamp>,
}

#[derive(Debug, Args)]
pub struct DecodeArgs {
    #[command(flatten)]
    pub input: InputArgs,

    #[command(flatten)]
    pub output: OutputArgs,
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
