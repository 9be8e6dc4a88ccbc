//! The `mfacheck` binary: parses the command line ([`cli`]) and hands each subcommand to the
//! library's engines (`mfacheck::internal::run`), which print results and give the exit status.

mod cli;
mod docs;
mod progress;
#[cfg(feature = "serve")]
mod serve;

use anyhow::{Context, Result};
use clap::Parser;
use cli::{CheckArgs, Cli, ColorChoice, Command, OutputArgs, PolicyArgs, RedeemArgs, SampleArgs, VerifyArgs};
use mfacheck::Policy;
use mfacheck::internal::error::mask_tokens;
use mfacheck::internal::exit_status::ExitStatus;
use mfacheck::internal::input::scan::{self, Source};
use mfacheck::internal::input::{self, InputSpec};
use mfacheck::internal::report::{Format, Printer, Summary, sanitize};
use mfacheck::internal::run;
use mfacheck::internal::sample::{Signer, Template, Ver, issued_at, mint, parse_expiry};
use mfacheck::internal::token::keys::microsoft::MicrosoftKeys;
use mfacheck::internal::token::keys::{self, Keys};
use std::io::{self, BufWriter, IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

fn main() -> ExitCode {
    match run() {
        Ok(status) => status.into(),
        Err(err) => {
            eprintln!("mfacheck: {}", sanitize::message(&format!("{err:#}")));
            ExitStatus::Error.into()
        }
    }
}

fn run() -> Result<ExitStatus> {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // Help and version go out as clap prints them; a usage error repeats the argument it
        // refuses, which may be a pasted token (`mfacheck TOKEN`), so it is masked.
        Err(err) if !err.use_stderr() => {
            // clap's own exit ignores a failed write (`--help > /dev/full`): write it here.
            let text = err.render().to_string();
            let mut out = io::stdout().lock();
            return match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
                Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(e.into()),
                _ => Ok(ExitStatus::Compliant),
            };
        }
        // One message style for every error: `mfacheck: …`, as ours are.
        Err(err) => {
            if let Some(hint) = cli::usage_hint(&err) {
                eprintln!("mfacheck: {}", mask_tokens(&hint));
                return Ok(ExitStatus::Error);
            }
            let text = err.render().to_string();
            eprint!("{}", mask_tokens(&format!("mfacheck: {}", text.strip_prefix("error: ").unwrap_or(&text))));
            return Ok(ExitStatus::Error);
        }
    };
    match cli.command {
        Command::Check(args) => {
            let policy = policy(&args.policy, false)?;
            let specs = prepare(&args.input.inputs, &args.output);
            let mut printer = printer(&args.output, args.format.into(), policy.now())
                .suite("mfacheck check")
                .summarizing(args.summary)
                .with_progress(progress(&args.output));
            let status = if args.explain {
                run::check_explained(&specs, &policy, &mut printer)?
            } else {
                run::check(&specs, &policy, threads(&args), &mut printer)?
            };
            print_summary(printer.summary());
            Ok(status.merge(missing_keys(policy.keys())))
        }
        Command::Decode(args) => {
            let keys = keys(&args.verify, false)?;
            let specs = prepare(&args.input.inputs, &args.output);
            let now = args.now.unwrap_or_else(jiff::Timestamp::now).as_second();
            let mut printer = printer(&args.output, args.format.into(), now).with_explain(args.explain);
            let status = run::decode(&specs, keys.as_deref(), &mut printer)?;
            Ok(status.merge(missing_keys(keys.as_deref())))
        }
        Command::Scan(scan) => {
            let args = &scan.check;
            let policy = policy(&args.policy, false)?;
            let mut printer = printer(&args.output, args.format.into(), policy.now())
                .suite("mfacheck scan")
                .summarizing(args.summary)
                .with_progress(progress(&args.output));
            let sources = scan::sources(&args.input.inputs);
            hint_stdin(&args.output, sources.contains(&Source::Stdin), "text to scan from stdin");
            let (status, summary) = run::scan(&sources, &policy, threads(args), &mut printer, args.explain)?;
            if args.summary {
                eprintln!("mfacheck scan: {summary}");
            }
            print_summary(printer.summary());
            Ok(status.merge(missing_keys(policy.keys())))
        }
        Command::Signins(args) => {
            let out = BufWriter::with_capacity(1 << 16, io::stdout().lock());
            let resource = mfacheck::internal::judge::signin::Resource::parse(&args.resource);
            let printer = mfacheck::internal::report::signins::SigninPrinter::new(
                out,
                args.format.into(),
                args.output.quiet,
                args.output.redact,
                args.summary,
            )
            .wrapping(terminal_width());
            hint_stdin(
                &args.output,
                args.paths.is_empty() || args.paths.iter().any(|p| p == "-"),
                "a sign-in log export from stdin",
            );
            Ok(run::signins::run(&args.paths, &resource, args.input_format.map(Into::into), printer)?)
        }
        #[cfg(feature = "serve")]
        Command::Serve(args) => serve::run(&args, policy(&args.policy, false)?),
        Command::Redeem(args) => redeem(&args),
        Command::Sample(args) => emit((sample(&args)? + "\n").as_bytes()),
        Command::Completions(args) => {
            let mut script = Vec::new();
            docs::completions(args.shell, &mut script);
            emit(&script)
        }
        Command::Man(args) => {
            let mut page = Vec::new();
            docs::man_page(args.subcommand.as_deref(), &mut page)?;
            emit(&page)
        }
    }
}

/// What `check`, `scan`, `serve` and `redeem` check beyond the MFA rule; `microsoft_keys`:
/// verify with Microsoft's keys unless others are given (`redeem`, as `check --verify`).
fn policy(args: &PolicyArgs, microsoft_keys: bool) -> Result<Policy> {
    let now = args.now.unwrap_or_else(jiff::Timestamp::now);
    let mut policy = Policy::builder()
        .now(now.as_second())
        .require_valid_time(args.require_valid_time)
        .leeway(args.leeway)
        .issuers(args.issuers.clone())
        .audiences(args.audiences.clone())
        .maybe_keys(keys(&args.verify, args.partner_center || microsoft_keys)?);
    if args.partner_center {
        // Partner Center's own checks: its audience (either spelling matches) and the token's
        // lifetime; the keys are Microsoft's unless others were given.
        policy = policy
            .partner_center(true)
            .require_valid_time(true)
            .audiences(vec![mfacheck::internal::token::audience::PARTNER_CENTER_URI.to_owned()]);
    }
    let policy = policy.build();
    Ok(policy)
}

/// `mfacheck redeem` (SPEC §6): the grant, its access token checked as `check --verify` would.
fn redeem(args: &RedeemArgs) -> Result<ExitStatus> {
    use mfacheck::internal::redeem::{Credential, Request, assertion::Certificate, endpoint, stored};
    if !args.refused.is_empty() {
        // The argument is neither used nor repeated: it may be the refresh token itself.
        anyhow::bail!(
            "redeem takes no token on the command line (the argument is not shown: command lines are visible to \
             other users and kept in shell history); give the refresh token with --refresh-token-file PATH or on stdin"
        );
    }
    if cfg!(not(feature = "fetch")) {
        anyhow::bail!(
            "redeem: this mfacheck was built without the `fetch` feature (no network access), so it cannot \
             redeem a refresh token; build it with the default features"
        );
    }
    let token_endpoint = endpoint::token_endpoint(&args.authority, &args.tenant)?;
    let scope = endpoint::scope(&args.resource)?;
    let write_back = args.write_back.then_some(args.refresh_token_file.as_deref()).flatten();
    if let Some(path) = write_back {
        stored::check_writable(path)?;
    }
    let credential = match (&args.client_secret_file, &args.certificate_file) {
        (Some(path), _) => Credential::Secret(stored::read_file(path, "--client-secret-file")?),
        (None, Some(path)) => {
            let pem = stored::read_file(path, "--certificate-file")?;
            let name = mfacheck::internal::error::path_name(path);
            Credential::Certificate(Certificate::from_pem(&pem).with_context(|| format!("--certificate-file {name}"))?)
        }
        (None, None) => Credential::Public,
    };
    let (refresh_token, source) = match &args.refresh_token_file {
        Some(path) => (stored::read_file(path, "--refresh-token-file")?, mfacheck::internal::error::path_name(path)),
        None => {
            hint_stdin(&args.output, true, "the refresh token from stdin");
            (stored::read(io::stdin().lock(), "the refresh token on stdin")?, "stdin".to_owned())
        }
    };
    let policy = policy(&args.policy, true)?;
    let request = Request {
        token_endpoint,
        tenant: args.tenant.clone(),
        client_id: args.client_id.clone(),
        scope,
        credential,
        refresh_token,
    };
    let mut printer = printer(&args.output, args.format.into(), policy.now()).suite("mfacheck redeem");
    let timeout = Duration::from_secs(args.policy.verify.fetch_timeout);
    let status = run::redeem::run(&request, &policy, &source, timeout, write_back, args.explain, &mut printer)?;
    Ok(status.merge(missing_keys(policy.keys())))
}

/// `-j N`, else one worker per core.
fn threads(args: &CheckArgs) -> usize {
    args.threads.map(usize::from).or_else(|| std::thread::available_parallelism().ok().map(|n| n.get())).unwrap_or(1)
}

/// Resolves the inputs, and hints when stdin is a terminal nobody piped to.
fn prepare(inputs: &[std::ffi::OsString], output: &OutputArgs) -> Vec<InputSpec> {
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

/// `--color`: auto colours stdout when it is a terminal that says it shows colour (TERM set and
/// not `dumb`) and NO_COLOR is unset or empty. Written out rather than anstream's choice, which
/// colours a dumb terminal when CI or CLICOLOR is set.
fn color(output: &OutputArgs) -> bool {
    match output.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            let set = |name| std::env::var_os(name).is_some_and(|v| !v.is_empty());
            let dumb = std::env::var_os("TERM").is_none_or(|term| term.is_empty() || term == "dumb");
            io::stdout().is_terminal() && !dumb && !set("NO_COLOR")
        }
    }
}

/// On a terminal, findings wrap to its width; piped, each stays on one line (for grep).
fn terminal_width() -> Option<usize> {
    io::stdout()
        .is_terminal()
        .then(|| terminal_size::terminal_size_of(io::stdout()).map(|(w, _)| usize::from(w.0)))
        .flatten()
}

fn printer(output: &OutputArgs, format: Format, now: i64) -> Printer<BufWriter<io::StdoutLock<'static>>> {
    let width = terminal_width();
    Printer::new(BufWriter::with_capacity(1 << 16, io::stdout().lock()), format, output.quiet, now)
        .redacting(output.redact)
        .wrapping(width)
        .colored(color(output))
}

/// A progress line on stderr for a long run: when stderr is a terminal that does not also show
/// the results (they would scroll it away), and not under --quiet.
fn progress(output: &OutputArgs) -> Option<Box<dyn mfacheck::internal::report::Progress>> {
    let shown = !output.quiet && io::stderr().is_terminal() && !io::stdout().is_terminal();
    shown.then(|| Box::new(progress::Progress::stderr()) as _)
}

/// `--summary`: the per-application table on stderr, asked for, so even under --quiet (its
/// ndjson line is the printer's).
fn print_summary(summary: Option<&Summary>) {
    if let Some(summary) = summary {
        let _ = summary.text(&mut io::stderr().lock());
    }
}

/// The keys of --jwks and --key, loaded (and fetched) once before any token is read; with
/// --verify (or --partner-center without other keys), Microsoft's, found per issuer as tokens come.
fn keys(args: &VerifyArgs, partner_center: bool) -> Result<Option<Arc<Keys>>> {
    let timeout = Duration::from_secs(args.fetch_timeout);
    if args.verify || (partner_center && args.jwks.is_empty() && args.key.is_empty()) {
        return Ok(Some(Arc::new(Keys::microsoft(MicrosoftKeys::new(args.offline, timeout)?))));
    }
    keys::load(&args.jwks, &args.key, timeout, args.offline)
}

/// --verify: Microsoft's keys that could not be had make the run an error (exit 2), as an
/// unreadable file does: each is named once on stderr (the tokens concerned carry a finding).
fn missing_keys(keys: Option<&Keys>) -> ExitStatus {
    let missing = keys.map(Keys::missing).unwrap_or_default();
    for what in &missing {
        eprintln!("mfacheck: {}", sanitize::message(what));
    }
    if missing.is_empty() { ExitStatus::Compliant } else { ExitStatus::Error }
}

/// `mfacheck sample`: the token its options describe.
fn sample(args: &SampleArgs) -> Result<String> {
    let now = args.now.unwrap_or_else(jiff::Timestamp::now);
    let exp = parse_expiry(&args.exp, now).map_err(anyhow::Error::msg)?;
    let template = Template {
        app_only: args.app_only,
        ver: if args.ver == "2.0" { Ver::V2 } else { Ver::V1 },
        amr: args.amr.split(',').map(str::trim).filter(|m| !m.is_empty()).map(str::to_owned).collect(),
        aud: args.aud.clone(),
        tid: args.tid.clone(),
        iat: issued_at(now.as_second(), exp),
        exp,
        claims: args.claims.clone(),
    };
    let signer = match &args.key {
        Some(path) => {
            let name = mfacheck::internal::error::path_name(path);
            let pem = keys::read_key_file(path).with_context(|| format!("--key {name}"))?;
            Some(Signer::from_pem(&pem).with_context(|| format!("--key {name}"))?)
        }
        None => None,
    };
    mint(&template, signer.as_ref(), args.kid.as_deref())
}
