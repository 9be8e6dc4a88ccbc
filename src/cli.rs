//! The command line (SPEC §2): subcommands and the input, output and check options they share.

use clap::{Args, Parser, Subcommand, ValueEnum};
use jiff::Timestamp;
use mfacheck::internal::clock::{parse_non_negative, parse_time, parse_timeout};
use mfacheck::internal::input::parse_input;
use mfacheck::internal::judge::policy::DEFAULT_LEEWAY;
use mfacheck::internal::report::Format;
use mfacheck::internal::token::keys::DEFAULT_FETCH_TIMEOUT;
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

/// What a newcomer meant, for two usage errors clap cannot guess: a token or a file given without
/// a subcommand (`mfacheck TOKEN`), and a format spelled as a flag (`--json`).
pub fn usage_hint(err: &clap::Error) -> Option<String> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let value = |kind| match err.get(kind) {
        Some(ContextValue::String(text)) => Some(text.clone()),
        _ => None,
    };
    match err.kind() {
        ErrorKind::InvalidSubcommand => {
            let arg = value(ContextKind::InvalidSubcommand)?;
            let what = if arg.starts_with("eyJ") || arg.len() > 64 { "TOKEN" } else { "FILE" };
            Some(format!("{arg:?} is not a command; to check it, run `mfacheck check {what}` (see `mfacheck --help`)"))
        }
        ErrorKind::UnknownArgument => {
            let arg = value(ContextKind::InvalidArg)?;
            let format = arg.strip_prefix("--")?;
            let known = ["text", "json", "ndjson", "junit", "github"];
            known.contains(&format).then(|| format!("unexpected argument '{arg}': did you mean `--format {format}`?"))
        }
        _ => None,
    }
}

/// One layout for every subcommand's help: usage, what it does, options, then examples.
const LAYOUT: &str = "{usage-heading} {usage}\n\n{about-with-newline}\n{all-args}{after-help}";

const CHECK_EXAMPLES: &str = "\
Examples:
  mfacheck check fixtures/password-only.jwt          a token file (or @PATH); globs work: fixtures/*.jwt
  az account get-access-token --resource https://api.partnercenter.microsoft.com | mfacheck check
                                                     the JSON wrapper is read for accessToken
  az account get-access-token --resource https://api.partnercenter.microsoft.com | mfacheck check --partner-center
                                                     would Partner Center accept it? (its keys, audience, times)
  mfacheck check --format ndjson --summary < tokens.txt
  mfacheck check --format junit @tokens.txt > mfa.xml    for CI test reports
  mfacheck check --require-valid-time --leeway 5m --audience https://api.partnercenter.microsoft.com TOKEN";

const DECODE_EXAMPLES: &str = "\
Examples:
  mfacheck decode fixtures/mfa.jwt
  mfacheck decode --explain --now 2026-01-01T00:00:00Z @token.txt
  pbpaste | mfacheck decode --format json";

const SCAN_EXAMPLES: &str = "\
Examples:
  mfacheck scan capture.har                          tokens in a browser's HAR export
  curl -v https://api.partnercenter.microsoft.com/v1/customers 2>&1 | mfacheck scan
  tail -f gateway.log | mfacheck scan --format ndjson    results as tokens appear
  mfacheck scan --summary --redact logs/*.log        Partner Center's MFA adoption report, per app";

const SAMPLE_EXAMPLES: &str = "\
Examples:
  mfacheck sample --amr pwd                          an app+user token without MFA
  mfacheck sample --app-only --now 2026-01-01T00:00:00Z --exp 1h
  mfacheck sample --exp -3d --key fixtures/keys/test-rsa.pem --kid test";

#[cfg(feature = "serve")]
const SERVE_EXAMPLES: &str = "\
Examples:
  mfacheck serve                                     gate on 127.0.0.1:8400, page at /_mfacheck/
  mfacheck serve --upstream http://127.0.0.1:3000 --report-only";

const REDEEM_EXAMPLES: &str = "\
Examples:
  mfacheck redeem --tenant contoso.onmicrosoft.com --client-id APP_ID --client-secret-file secret.txt \\
      --refresh-token-file rt.txt                    will the stored token get MFA tokens from Partner Center?
  vault read -field=rt kv/pc | mfacheck redeem --tenant TENANT --client-id APP_ID --certificate-file app.pem
  mfacheck redeem --tenant TENANT --client-id APP_ID --refresh-token-file rt.txt --write-back --format json

Authorities: https://login.microsoftonline.com (default), https://login.microsoftonline.us (US
Government), https://login.partner.microsoftonline.cn (China, 21Vianet); any other https URL.";

const COMPLETIONS_EXAMPLES: &str = "\
Examples:
  mfacheck completions bash > ~/.local/share/bash-completion/completions/mfacheck
  mfacheck completions zsh > \"${fpath[1]}/_mfacheck\"
  mfacheck completions fish > ~/.config/fish/completions/mfacheck.fish";

const MAN_EXAMPLES: &str = "\
Examples:
  mfacheck man > mfacheck.1 && man ./mfacheck.1
  mfacheck man check | man -l -";

#[derive(Debug, Subcommand)]
#[command(help_template = LAYOUT)]
pub enum Command {
    /// Check tokens against Partner Center's MFA rule (the main job)
    #[command(help_template = LAYOUT, after_help = CHECK_EXAMPLES)]
    Check(CheckArgs),
    /// Show the header and claims of tokens, without a verdict
    #[command(help_template = LAYOUT, after_help = DECODE_EXAMPLES)]
    Decode(DecodeArgs),
    // Workflows around the check.
    /// Find every JWT in HAR captures, curl -v output, logs or JSON, and check each
    ///
    /// Text is searched line by line for `eyJ…` tokens (JWS, and JWE reported as encrypted);
    /// `source` is PATH:LINE. A HAR file (devtools' "Save all as HAR") is read as JSON: each
    /// request's Authorization header first, then every other string of its entries; `source` is
    /// PATH:entry-N and `request` holds the entry's method and URL. Each distinct token is
    /// checked once, where first found, with `count` the times it was found. Results, formats and
    /// exit status are those of `check`; finding no token at all is an `empty` error (exit 2).
    #[command(help_template = LAYOUT, after_help = SCAN_EXAMPLES)]
    Scan(ScanArgs),
    /// Judge Entra ID sign-in log exports: who Partner Center will refuse, and why
    ///
    /// Reads JSON exports (Microsoft Graph signIn pages or arrays, Azure Monitor / Event Hub
    /// records, Log Analytics and admin center JSON; one record per line or pretty-printed). Each
    /// sign-in to the resource asked for gets `mfa`: not-applicable, required, satisfied, missing
    /// or unknown, with the fields that decided. Exit 1 when any is missing or required, 2 for an
    /// input that is not a sign-in log.
    #[command(help_template = LAYOUT)]
    Signins(SigninsArgs),
    /// Redeem a stored refresh token as a partner integration does, and check the token it gets
    ///
    /// Posts the refresh_token grant to {authority}/{tenant}/oauth2/v2.0/token with the scope
    /// https://api.partnercenter.microsoft.com/user_impersonation offline_access (or --resource's),
    /// then checks the access token exactly as `check --verify` does (Microsoft's keys unless
    /// --jwks/--key), adding `redeem` to the result. A refusal is an `error` with Entra's AADSTS code
    /// and the fix. The refresh token is read from --refresh-token-file or stdin, never from the
    /// command line; nothing is stored unless --write-back. Exit status as `check`.
    #[command(help_template = LAYOUT, after_help = REDEEM_EXAMPLES)]
    Redeem(RedeemArgs),
    /// Mint a sample token (unsigned, or signed with a PEM key) for fixtures and tests
    ///
    /// Prints one token on stdout: Microsoft's sample app+user claims (or an app-only token with
    /// --app-only), changed by the options. Without --key the token is unsigned but well formed:
    /// header {"typ":"JWT","alg":"none"} and an empty signature, which `check` accepts with an
    /// `unsigned` warning. With --key, RSA keys sign RS256 and P-256 keys ES256. Use --now and
    /// --exp for reproducible output (fixtures/ is made this way).
    #[command(help_template = LAYOUT, after_help = SAMPLE_EXAMPLES)]
    Sample(SampleArgs),
    /// Run a local Partner Center MFA gate: refuse, proxy or report each request by its token
    ///
    /// Every request's bearer token is checked as `check` would: a token that is not compliant
    /// gets Partner Center's 401, byte for byte; a compliant one gets 200 with the result object,
    /// or is forwarded to --upstream. Each request is logged as one NDJSON line on stdout. A page
    /// at /_mfacheck/ explains a pasted token (it never leaves the machine).
    #[cfg(feature = "serve")]
    #[command(help_template = LAYOUT, after_help = SERVE_EXAMPLES)]
    Serve(ServeArgs),
    /// Print a shell completion script
    #[command(help_template = LAYOUT, after_help = COMPLETIONS_EXAMPLES)]
    Completions(CompletionsArgs),
    /// Print the man page (roff): mfacheck(1), or mfacheck-SUBCOMMAND(1)
    #[command(help_template = LAYOUT, after_help = MAN_EXAMPLES)]
    Man(ManArgs),
}

#[derive(Debug, Args)]
pub struct InputArgs {
    /// A token, a file (PATH or `@PATH`: one token per line, folded lines joined; JSON objects are
    /// read for accessToken / access_token), or `-` for stdin. With none, stdin is read.
    #[arg(value_name = "INPUT", value_hint = clap::ValueHint::AnyPath,
          value_parser = clap::builder::TypedValueParser::try_map(clap::builder::OsStringValueParser::new(), parse_input))]
    pub inputs: Vec<std::ffi::OsString>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// The output formats of `check` and `scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    Text,
    Json,
    Ndjson,
    /// JUnit XML: one testcase per token
    Junit,
    /// GitHub Actions workflow commands
    Github,
}

/// The sign-in export formats of `signins --input-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SigninFormat {
    Graph,
    Monitor,
    LogAnalytics,
    Portal,
}

impl From<SigninFormat> for mfacheck::internal::input::signins::Export {
    fn from(format: SigninFormat) -> Self {
        use mfacheck::internal::input::signins::Export;
        match format {
            SigninFormat::Graph => Export::Graph,
            SigninFormat::Monitor => Export::Monitor,
            SigninFormat::LogAnalytics => Export::LogAnalytics,
            SigninFormat::Portal => Export::Portal,
        }
    }
}

/// The output formats of `decode`, which gives no verdict for CI formats to report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DecodeFormat {
    Text,
    Json,
    Ndjson,
}

impl From<CheckFormat> for Format {
    fn from(format: CheckFormat) -> Format {
        match format {
            CheckFormat::Text => Format::Text,
            CheckFormat::Json => Format::Json,
            CheckFormat::Ndjson => Format::Ndjson,
            CheckFormat::Junit => Format::Junit,
            CheckFormat::Github => Format::Github,
        }
    }
}

impl From<DecodeFormat> for Format {
    fn from(format: DecodeFormat) -> Format {
        match format {
            DecodeFormat::Text => Format::Text,
            DecodeFormat::Json => Format::Json,
            DecodeFormat::Ndjson => Format::Ndjson,
        }
    }
}

/// How results are shown, for every subcommand that prints them (the format is each one's own).
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Colour text output: auto (when stdout is a terminal, NO_COLOR is unset and TERM is not
    /// dumb), always, never
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,

    /// Print nothing; the exit status tells the outcome
    #[arg(short, long)]
    pub quiet: bool,

    /// Mask personal and identifying claims (names, sign-in names, emails, object and device ids,
    /// SIDs, IP address) and secret URL parameters, each as "redacted:" and a digest keyed for
    /// this run, so the report can be shared
    #[arg(long)]
    pub redact: bool,
}

/// Signature verification, shared by `check` and `decode`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Verify signatures with a JWKS: a file, or an https URL (plain http only on loopback), e.g.
    /// https://login.microsoftonline.com/common/discovery/v2.0/keys. The key is chosen by the
    /// header's kid (else x5t); anything but a verified signature makes the token not compliant
    #[arg(long, value_name = "SOURCE", help_heading = "Verification")]
    pub jwks: Vec<String>,

    /// Verify signatures with a public key: a PEM file (an RSA, EC or Ed25519 public key, or an X.509
    /// certificate, not validated) or a JWK (JSON) file
    #[arg(long, value_name = "PATH", help_heading = "Verification")]
    pub key: Vec<PathBuf>,

    /// Verify signatures with Microsoft's published keys for each token's issuer (Entra ID on
    /// login.microsoftonline.com, sts.windows.net, and the national clouds' login hosts), cached
    /// for 24 hours; never from a host the token names (jku, x5u)
    #[arg(long, help_heading = "Verification", conflicts_with_all = ["jwks", "key"])]
    pub verify: bool,

    /// Never fetch keys: --verify uses its cache alone and says what is missing (exit 2), and a
    /// --jwks URL is refused
    #[arg(long, help_heading = "Verification")]
    pub offline: bool,

    /// How long fetching a --jwks URL or Microsoft's keys (or, for redeem, the token request) may take: seconds, or 10s, 1m
    #[arg(long, value_name = "DURATION", default_value_t = DEFAULT_FETCH_TIMEOUT, help_heading = "Verification",
          value_parser = parse_timeout)]
    pub fetch_timeout: u64,
}

/// What a verdict depends on beyond the MFA rule: shared by `check`, `scan` and `serve`.
#[derive(Debug, Args)]
pub struct PolicyArgs {
    /// Make an expired or not-yet-valid token, or one without exp, not compliant
    #[arg(long)]
    pub require_valid_time: bool,

    /// Clock skew tolerated by --require-valid-time: seconds, or 30s, 5m
    #[arg(long, value_name = "DURATION", default_value_t = DEFAULT_LEEWAY, value_parser = parse_non_negative)]
    pub leeway: i64,

    /// The time to check against (unix seconds or RFC 3339); also the 401's Date line
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub now: Option<Timestamp>,

    /// Make a token whose iss is not ISS not compliant (repeat to allow several)
    #[arg(long = "issuer", value_name = "ISS")]
    pub issuers: Vec<String>,

    /// Make a token whose aud is not AUD not compliant (repeat to allow several), e.g.
    /// https://api.partnercenter.microsoft.com
    #[arg(long = "audience", value_name = "AUD")]
    pub audiences: Vec<String>,

    #[command(flatten)]
    pub verify: VerifyArgs,

    /// Judge as Partner Center would: compliant (exit 0) only when it would accept the token as a
    /// whole — its signature verified with Microsoft's keys (--verify; or --jwks/--key when given;
    /// --offline uses the cache), its audience Partner Center's, its validity times current
    /// (--leeway), and the MFA rule satisfied
    #[arg(long, conflicts_with = "audiences")]
    pub partner_center: bool,
}

#[derive(Debug, Args)]
pub struct SigninsArgs {
    /// Sign-in log exports (`-` or none: stdin)
    #[arg(value_name = "PATH")]
    pub paths: Vec<std::ffi::OsString>,

    /// The resource whose sign-ins are judged: partner-center, any, or an application id or
    /// display name; the others are counted and skipped
    #[arg(long, value_name = "RESOURCE", default_value = "partner-center", value_parser = parse_resource)]
    pub resource: String,

    /// The export format, when not detected from each file: graph (Microsoft Graph signIn
    /// JSON), monitor (Azure Monitor / Event Hub records), log-analytics (JSON or CSV) or portal
    /// (the Entra admin center's download)
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub input_format: Option<SigninFormat>,

    /// Output format: text, json (one array), ndjson (one object per line), junit or github
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,

    #[command(flatten)]
    pub output: OutputArgs,

    /// Print the table per application and user (sign-ins, satisfied, missing, required, last
    /// seen) to stderr
    #[arg(long)]
    pub summary: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// Output format: text for people, json (one array), ndjson (one object per line), junit
    /// (JUnit XML) or github (GitHub Actions annotations)
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,

    #[command(flatten)]
    pub output: OutputArgs,

    #[command(flatten)]
    pub policy: PolicyArgs,

    /// Text output: explain each claim in one line (amr values, appidacr, idp, wids roles, times)
    #[arg(long)]
    pub explain: bool,

    /// Worker threads for large inputs, 1 to 1024 (default: one per core)
    #[arg(short = 'j', long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,

    /// Print the per-application summary (Partner Center's MFA adoption report: app+user tokens
    /// by application id and day of iat, MFA-compliant of total; app-only totals) to stderr, and
    /// with --format ndjson also as a last line {"summary": …} on stdout
    #[arg(long)]
    pub summary: bool,
}

#[derive(Debug, Args)]
pub struct RedeemArgs {
    /// The tenant whose token endpoint is asked: its id (a GUID) or a domain name
    #[arg(long, value_name = "TENANT")]
    pub tenant: String,

    /// The application (client) id the refresh token was issued to
    #[arg(long, value_name = "APP_ID")]
    pub client_id: String,

    /// A file holding the application's client secret (never given on the command line)
    #[arg(long, value_name = "PATH", conflicts_with = "certificate_file")]
    pub client_secret_file: Option<PathBuf>,

    /// A PEM file holding the application's certificate and its RSA private key: authenticates
    /// with a signed client assertion. With neither this nor --client-secret-file: a public client
    #[arg(long, value_name = "PEM")]
    pub certificate_file: Option<PathBuf>,

    /// The file holding the refresh token (default: stdin)
    #[arg(long, value_name = "PATH")]
    pub refresh_token_file: Option<PathBuf>,

    /// What to ask a token for: partner-center, graph, or a resource URI (asked for URI/.default)
    #[arg(long, value_name = "RESOURCE", default_value = "partner-center")]
    pub resource: String,

    /// The Entra login host: https://login.microsoftonline.com, https://login.microsoftonline.us
    /// (US Government), https://login.partner.microsoftonline.cn (China); any other https URL
    #[arg(long, value_name = "URL", default_value = mfacheck::internal::redeem::endpoint::PUBLIC)]
    pub authority: String,

    /// Replace --refresh-token-file with the new refresh token Entra returns (atomically, mode
    /// 0600; a symbolic link there is refused)
    #[arg(long, requires = "refresh_token_file")]
    pub write_back: bool,

    /// Output format: text, json (one array), ndjson (one object per line), junit or github
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,

    #[command(flatten)]
    pub output: OutputArgs,

    #[command(flatten)]
    pub policy: PolicyArgs,

    /// Text output: explain each claim of the access token in one line
    #[arg(long)]
    pub explain: bool,

    /// Refused: a refresh token on the command line (other users see it, shells keep it)
    #[arg(hide = true, value_name = "REFUSED")]
    pub refused: Vec<std::ffi::OsString>,
}

#[derive(Debug, Args)]
pub struct DecodeArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// Output format: text for people, json (one array), ndjson (one object per line)
    #[arg(long, value_enum, default_value_t = DecodeFormat::Text)]
    pub format: DecodeFormat,

    #[command(flatten)]
    pub output: OutputArgs,

    #[command(flatten)]
    pub verify: VerifyArgs,

    /// The time to show "expires in" against (unix seconds or RFC 3339)
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub now: Option<Timestamp>,

    /// Text output: explain each claim in one line (amr values, appidacr, idp, wids roles, times)
    #[arg(long)]
    pub explain: bool,
}

// scan, sample, completions.

/// `scan` takes every option of `check`; its positional arguments are files to search, not tokens.
#[derive(Debug, Args)]
#[command(mut_arg("inputs", |arg| arg
    .value_name("PATH")
    .help("A file to search (a HAR capture, curl -v output, a log, JSON, any text), or `-` for stdin \
           (`@PATH` and `@-` as for check are accepted too). With none, stdin is read.")))]
pub struct ScanArgs {
    #[command(flatten)]
    pub check: CheckArgs,
}

/// How `serve` writes its request log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// One short line a request, for a person
    Text,
    /// One JSON object a request (time, method, path, status, action, result)
    Ndjson,
}

/// `serve` takes the options of `check` that decide a verdict, and of its output options those
/// that make sense for a log (--redact, --quiet); its own say where to listen and forward.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address to listen on; port 0 picks a free port (the first stderr line tells which)
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8400")]
    pub listen: std::net::SocketAddr,

    /// Forward compliant requests to this base URL (http://HOST[:PORT][/PATH]) and return its answers
    #[arg(long, value_name = "URL")]
    pub upstream: Option<String>,

    /// Forward every request, compliant or not, and only log the verdicts (and the status a
    /// refused request would have got)
    #[arg(long, requires = "upstream")]
    pub report_only: bool,

    /// The request log on stdout: text (one short line a request) or ndjson; default: text when
    /// stdout is a terminal, else ndjson
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub log_format: Option<LogFormat>,

    /// How long a client may take to send a request's headers, or stay idle between requests
    #[arg(long, value_name = "DURATION", default_value_t = 10, value_parser = parse_timeout)]
    pub header_timeout: u64,

    /// How long a client may take to send a whole request, headers and body (then it is closed)
    #[arg(long, value_name = "DURATION", default_value_t = 60, value_parser = parse_timeout)]
    pub request_timeout: u64,

    /// How long the upstream may take to connect and answer with its headers (then 502)
    #[arg(long, value_name = "DURATION", default_value_t = 60, value_parser = parse_timeout)]
    pub upstream_timeout: u64,

    /// Log nothing on stdout
    #[arg(short, long)]
    pub quiet: bool,

    /// Mask personal data in the log, the answers and the page (as check --redact does)
    #[arg(long)]
    pub redact: bool,

    #[command(flatten)]
    pub policy: PolicyArgs,
}

#[derive(Debug, Args)]
pub struct SampleArgs {
    /// An app-only (client credentials) token instead of app+user
    #[arg(long)]
    pub app_only: bool,

    /// The amr claim, comma-separated (app+user only; `--claim amr=null` drops the claim)
    #[arg(long, value_name = "LIST", default_value = "pwd,mfa")]
    pub amr: String,

    /// Token version: 1.0 (appid, upn, sts.windows.net issuer) or 2.0 (azp, preferred_username,
    /// login.microsoftonline.com/{tid}/v2.0 issuer)
    #[arg(long, value_name = "VER", default_value = "1.0", value_parser = ["1.0", "2.0"])]
    pub ver: String,

    /// The audience
    #[arg(long, value_name = "AUD", default_value = mfacheck::internal::sample::PARTNER_CENTER)]
    pub aud: String,

    /// The tenant id (also in iss and, for app-only, idp)
    #[arg(long, value_name = "GUID", default_value = mfacheck::internal::sample::SAMPLE_TENANT)]
    pub tid: String,

    /// Set a claim, last; VALUE is JSON when it parses (42, true, ["a","b"]; '"2"' for the
    /// string "2" that appidacr wants), else a string; `null` removes the claim. Repeatable.
    #[arg(long = "claim", value_name = "KEY=VALUE", value_parser = mfacheck::internal::sample::parse_claim)]
    pub claims: Vec<(String, serde_json::Value)>,

    /// Expiry: a duration from --now (1h, 90m, -3d for already expired) or an RFC 3339 time
    #[arg(long, value_name = "DURATION", default_value = "1h", allow_hyphen_values = true)]
    pub exp: String,

    /// The time of issue, iat and nbf (unix seconds or RFC 3339; default: now)
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub now: Option<Timestamp>,

    /// Sign with this PEM private key (RSA: RS256, P-256: ES256, Ed25519: EdDSA). Without it the token is
    /// unsigned: alg none and an empty signature
    #[arg(long, value_name = "PATH")]
    pub key: Option<std::path::PathBuf>,

    /// The kid header of a signed token
    #[arg(long, value_name = "KID", requires = "key")]
    pub kid: Option<String>,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// The subcommand whose page to print (default: the page of mfacheck itself)
    #[arg(value_parser = ["check", "decode", "scan", "serve", "redeem", "sample", "completions", "man"])]
    pub subcommand: Option<String>,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `signins --resource`: an empty value (an unset variable) would skip every sign-in.
fn parse_resource(text: &str) -> Result<String, String> {
    match text.trim() {
        "" => Err("partner-center, any, or an application id or display name; not empty".into()),
        resource => Ok(resource.to_owned()),
    }
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
