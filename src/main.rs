use anyhow::Result;
use clap::Parser;
use mfacheck::batch;
use mfacheck::cli::{Cli, ColorChoice, Command, OutputArgs, VerifyArgs};
use mfacheck::exit_status::ExitStatus;
use mfacheck::input::{self, InputSpec};
use mfacheck::report::Printer;
use mfacheck::verdict::Policy;
use mfacheck::verify::{self, Keys};
use std::io::{self, BufWriter, IsTerminal};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

fn main() -> ExitCode {
    match run() {
        Ok(status) => status.into(),
        Err(err) => {
            eprintln!("mfacheck: {err:#}");
            ExitStatus::Error.into()
        }
    }
}

fn run() -> Result<ExitStatus> {
    let cli = Cli::parse();
    match cli.command {
        Command::Check(args) => {
            let keys = keys(&args.verify)?;
            let specs = prepare(&args.input.inputs, &args.output);
            let mut policy = Policy::at(args.now.unwrap_or_else(jiff::Timestamp::now));
            policy.require_valid_time = args.require_valid_time;
            policy.leeway = args.leeway;
            policy.issuers = args.issuers;
            policy.audiences = args.audiences;
            policy.keys = keys;
            let mut printer = printer(&args.output, policy.now.as_second());
            Ok(batch::check(&specs, &policy, &mut printer)?)
        }
        Command::Decode(args) => {
            let keys = keys(&args.verify)?;
            let specs = prepare(&args.input.inputs, &args.output);
            let mut printer = printer(&args.output, jiff::Timestamp::now().as_second());
            Ok(batch::decode(&specs, keys.as_deref(), &mut printer)?)
        }
    }
}

/// Resolves the inputs and the colour choice, and hints when stdin is a terminal nobody piped to.
fn prepare(inputs: &[String], output: &OutputArgs) -> Vec<InputSpec> {
    let color = match output.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    };
    colored::control::set_override(color);
    let specs = input::specs(inputs);
    if !output.quiet && specs.contains(&InputSpec::Stdin) && io::stdin().is_terminal() {
        eprintln!("mfacheck: reading tokens from stdin, one per line (paste, then Ctrl-D; see --help)");
    }
    specs
}

fn printer(output: &OutputArgs, now: i64) -> Printer<BufWriter<io::StdoutLock<'static>>> {
    Printer::new(BufWriter::with_capacity(1 << 16, io::stdout().lock()), output.format, output.quiet, now)
        .redacting(output.redact)
}

/// The keys of --jwks and --key, loaded (and fetched) once before any token is read.
fn keys(args: &VerifyArgs) -> Result<Option<Arc<Keys>>> {
    verify::load(&args.jwks, &args.key, Duration::from_secs(args.fetch_timeout))
}
