use anyhow::Result;
use clap::Parser;
use mfacheck::batch;
use mfacheck::cli::{CheckArgs, Cli, ColorChoice, Command, OutputArgs, VerifyArgs};
use mfacheck::error::mask_tokens;
use mfacheck::exit_status::ExitStatus;
use mfacheck::input::{self, InputSpec};
use mfacheck::report::Printer;
use mfacheck::verdict::Policy;
use mfacheck::verify::{self, Keys};
use std::io::{self, BufWriter, IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

fn main() -> ExitCode {
    match run() {
        Ok(status) => status.into(),
        Err(err) => {
            eprintln!("mfacheck: {}", mask_tokens(&format!("{err:#}")));
            ExitStatus::Error.into()
        }
    }
}

fn run() -> Result<ExitStatus> {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // Help and version go out as clap prints them; a usage error repeats the argument it
        // refuses, which may be a pasted token (`mfacheck TOKEN`), so it is masked.
        Err(err) if !err.use_stderr() => err.exit(),
        Err(err) => {
            eprint!("{}", mask_tokens(&err.render().to_string()));
            return Ok(ExitStatus::Error);
        }
    };
    match cli.command {
        Command::Check(args) => {
            let policy = policy(&args)?;
            let specs = prepare(&args.input.inputs, &args.output);
            let mut printer = printer(&args.output, policy.now.as_second());
            if args.explain {
                return Ok(batch::check_explained(&specs, &policy, &mut printer)?);
            }
            Ok(batch::check(&specs, &policy, &mut printer)?)
        }
        Command::Decode(args) => {
            let keys = keys(&args.verify)?;
            let specs = prepare(&args.input.inputs, &args.output);
            let mut printer = printer(&args.output, jiff::Timestamp::now().as_second()).with_explain(args.explain);
            Ok(batch::decode(&specs, keys.as_deref(), &mut printer)?)
        }
        Command::Scan(scan) => {
            let args = &scan.check;
            set_color(&args.output);
            let policy = policy(args)?;
            let mut printer = printer(&args.output, policy.now.as_second());
            let sources = mfacheck::scan::sources(&args.input.inputs);
            let reads_stdin = sources.contains(&mfacheck::scan::Source::Stdin);
            hint_stdin(&args.output, reads_stdin, "text to scan from stdin");
            let (status, summary) = batch::scan(&sources, &policy, &mut printer, args.explain)?;
            if scan.summary {
                eprintln!("mfacheck scan: {summary}");
            }
            Ok(status)
        }
        #[cfg(feature = "serve")]
        Command::Serve(args) => mfacheck::serve::run(&args, policy(&args.check)?),
        Command::Sample(args) => emit((mfacheck::sample::from_args(&args)? + "\n").as_bytes()),
        Command::Completions(args) => {
            let mut script = Vec::new();
            mfacheck::docs::completions(args.shell, &mut script);
            emit(&script)
        }
        Command::Man(args) => {
            let mut page = Vec::new();
            mfacheck::docs::man_page(args.subcommand.as_deref(), &mut page)?;
            emit(&page)
        }
    }
}

/// What `check` (and `scan`, which takes the same options) checks beyond the MFA rule.
fn policy(args: &CheckArgs) -> Result<Policy> {
    let mut policy = Policy::at(args.now.unwrap_or_else(jiff::Timestamp::now));
    policy.require_valid_time = args.require_valid_time;
    policy.leeway = args.leeway;
    policy.issuers = args.issuers.clone();
    policy.audiences = args.audiences.clone();
    policy.keys = keys(&args.verify)?;
    Ok(policy)
}

/// Resolves the inputs and the colour choice, and hints when stdin is a terminal nobody piped to.
fn prepare(inputs: &[String], output: &OutputArgs) -> Vec<InputSpec> {
    set_color(output);
    let specs = input::specs(inputs);
    hint_stdin(output, specs.contains(&InputSpec::Stdin), "tokens from stdin, one per line");
    specs
}

/// A one-line hint before waiting on a terminal nobody piped to.
fn hint_stdin(output: &OutputArgs, reads_stdin: bool, what: &str) {
    if !output.quiet && reads_stdin && io::stdin().is_terminal() {
        eprintln!("mfacheck: reading {what} (paste, then Ctrl-D; see --help)");
    }
}

/// Writes a generated document to stdout; a reader that went away (`| head`) is no error.
fn emit(bytes: &[u8]) -> Result<ExitStatus> {
    match io::stdout().lock().write_all(bytes) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(ExitStatus::Compliant),
    }
}

fn set_color(output: &OutputArgs) {
    let color = match output.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    };
    colored::control::set_override(color);
}

fn printer(output: &OutputArgs, now: i64) -> Printer<BufWriter<io::StdoutLock<'static>>> {
    Printer::new(BufWriter::with_capacity(1 << 16, io::stdout().lock()), output.format, output.quiet, now)
        .redacting(output.redact)
}

/// The keys of --jwks and --key, loaded (and fetched) once before any token is read.
fn keys(args: &VerifyArgs) -> Result<Option<Arc<Keys>>> {
    verify::load(&args.jwks, &args.key, Duration::from_secs(args.fetch_timeout))
}
