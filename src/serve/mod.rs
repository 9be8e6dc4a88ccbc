//! `mfacheck serve` (SPEC §4): an HTTP server that applies `check`'s rule to the bearer token of
//! every request. It decides nothing about tokens itself: each verdict is [`Checker::check`]'s (the
//! per-token function of every engine), each 401 is the text of the verdict's `response`, each
//! explanation is [`mfacheck::internal::judge::explain`]'s.
//!
//! - [`screen`]: what a request must be before it is judged, forwarded or shown the page;
//! - [`gate`]: the bearer token of a request, the verdict, and Partner Center's 401 as bytes;
//! - [`proxy`]: forwarding to `--upstream`, bodies streamed both ways;
//! - [`page`]: the paste page at `/_mfacheck/` and its check endpoint;
//! - [`connections`]: the connection cap and the whole-request deadline;
//! - [`log`]: one line per request on stdout (NDJSON, or text for a person).

mod connections;
mod gate;
mod log;
mod page;
mod proxy;
mod screen;

use crate::cli::{LogFormat, ServeArgs};
use anyhow::{Context, Result};
use bytes::Bytes;
use connections::{Conn, Connections, Inbound, Outbound};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use jiff::Timestamp;
use mfacheck::Outcome;
use mfacheck::internal::exit_status::ExitStatus;
use mfacheck::internal::judge::Checker;
use mfacheck::internal::judge::policy::Policy;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// The body of every response: bytes made here, or an upstream's body passed through.
pub(crate) type Body = BoxBody<Bytes, hyper::Error>;

/// Request headers above this size are refused with 431 (SPEC §4).
const MAX_HEADER_BYTES: usize = 64 * 1024;

/// How long in-flight requests may take to finish after SIGINT/SIGTERM.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// What every request handler shares.
struct State {
    policy: Policy,
    /// `--now` fixes the clock; otherwise each request is judged at its own time (the 401's Date).
    fixed_now: bool,
    redact: bool,
    upstream: Option<proxy::Upstream>,
    report_only: bool,
    refusal: gate::Refusal,
    log: log::Log,
}

/// Runs the server until SIGINT or SIGTERM, then lets in-flight requests finish.
pub fn run(args: &ServeArgs, policy: Policy) -> Result<ExitStatus> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(serve(args, policy))?;
    Ok(ExitStatus::Compliant)
}

async fn serve(args: &ServeArgs, policy: Policy) -> Result<()> {
    let upstream = match &args.upstream {
        Some(url) => Some(proxy::Upstream::new(url, Duration::from_secs(args.upstream_timeout))?),
        None => None,
    };
    let listener = TcpListener::bind(args.listen).await.with_context(|| format!("cannot listen on {}", args.listen))?;
    let local = listener.local_addr()?;
    let state = Arc::new(State {
        policy,
        fixed_now: args.policy.now.is_some(),
        redact: args.redact,
        upstream,
        report_only: args.report_only,
        refusal: gate::Refusal::new().await?,
        log: log::Log::start(!args.quiet, log_format(args.log_format)),
    });
    // Signals are caught from before the first line: whoever reads it may stop the server at once.
    let stop = shutdown_signal()?;
    // The first line on stderr, so that a script or test that asked for port 0 learns the port
    // (the address is what comes before the first slash), and a person where to paste.
    eprintln!(
        "mfacheck serve: listening on http://{local}/ — paste a token at http://{}{}",
        page_host(local),
        page::PATH
    );
    if let Some(who) = beyond_loopback(local) {
        eprintln!(
            "mfacheck serve: warning: {who} can send requests through this gate and use its paste page \
             (listen on 127.0.0.1 to keep it to this machine)"
        );
    }
    let connections = Connections::new(state.upstream.is_some(), Duration::from_secs(args.request_timeout));
    tokio::spawn(connections.clone().reap());

    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(args.header_timeout))
        .max_header_size(MAX_HEADER_BYTES)
        // hyper's default of 100 headers would refuse a legitimate request below 64 KiB.
        .max_headers(1000);
    let graceful = GracefulShutdown::new();
    let mut stop = std::pin::pin!(stop);
    // Accepts that failed: the first is said at once, the count at shutdown (not a line per retry).
    let mut failed_accepts = 0u64;
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        if failed_accepts == 0 {
                            eprintln!("mfacheck serve: accept failed: {e} (closing the longest-waiting connection)");
                        }
                        failed_accepts += 1;
                        // Out of file descriptors, say: free one, and wait a little rather than spin.
                        connections.close_oldest();
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let served = stream.local_addr().unwrap_or(local);
                let (conn, closed) = connections.admit();
                let conn = Arc::new(conn);
                let state = state.clone();
                let service = service_fn(move |req| handle(state.clone(), conn.clone(), served, req));
                let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
                tokio::spawn(async move {
                    // A client that goes away or times out is no error of the server's; one closed
                    // to admit another, or past its deadline, is dropped here (and its socket closed).
                    tokio::select! {
                        _ = connection => {}
                        Ok(()) = closed => {}
                    }
                });
            }
            () = &mut stop => break,
        }
    }
    drop(listener);
    if failed_accepts > 1 {
        eprintln!("mfacheck serve: {failed_accepts} accepts failed in all");
    }
    eprintln!("mfacheck serve: stopping, finishing requests in flight");
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown()).await.is_err() {
        eprintln!("mfacheck serve: requests still in flight after {}s, stopping anyway", SHUTDOWN_GRACE.as_secs());
    }
    state.log.finish();
    Ok(())
}

/// SIGINT or SIGTERM, their handlers installed now (a future installs nothing until polled).
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let (mut term, mut interrupt) = (signal(SignalKind::terminate())?, signal(SignalKind::interrupt())?);
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = term.recv() => {}
        }
    })
}

/// What the server did with a request, for the log.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Action {
    /// Answered here: 401 for a missing or not compliant token, 200 with the result object.
    Answered,
    /// Sent on to the upstream.
    Forwarded,
    /// The paste page or its check endpoint.
    Page,
}

/// `--log-format`, else text for a person when stdout is a terminal and NDJSON for programs.
fn log_format(asked: Option<LogFormat>) -> LogFormat {
    use std::io::IsTerminal;
    asked.unwrap_or(if std::io::stdout().is_terminal() { LogFormat::Text } else { LogFormat::Ndjson })
}

/// Where a browser on this machine reaches the page: the address listened on, or loopback when
/// that is every address (the page answers only names of this machine).
fn page_host(local: SocketAddr) -> SocketAddr {
    match local.ip() {
        std::net::IpAddr::V4(ip) if ip.is_unspecified() => SocketAddr::from(([127, 0, 0, 1], local.port())),
        std::net::IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, local.port()))
        }
        _ => local,
    }
}

/// Who besides this machine can reach a server listening on `addr`, if anyone.
fn beyond_loopback(addr: SocketAddr) -> Option<String> {
    let ip = addr.ip().to_canonical();
    if ip.is_loopback() {
        None
    } else if ip.is_unspecified() {
        Some(format!("listening on every address of this machine: any host that can reach it on port {}", addr.port()))
    } else {
        Some(format!("listening on {addr}: any host that can reach {ip}"))
    }
}

/// Marks the connection's request whole when its body has arrived and idle when its answer is
/// written (for [`connections`]), around [`respond`].
async fn handle(
    state: Arc<State>,
    conn: Arc<Conn>,
    served: SocketAddr,
    req: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let (body_mark, answer_mark) = conn.request(hyper::body::Body::is_end_stream(req.body()));
    let req = req.map(|body| Inbound::new(body, body_mark));
    let response = respond(&state, served, req).await;
    Ok(response.map(|body| Outbound::wrap(body, answer_mark)))
}

async fn respond(state: &State, served: SocketAddr, req: Request<Inbound>) -> Response<Body> {
    let at = Timestamp::now();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let record = |status, action, would_status, reason, outcome| log::Record {
        at,
        method: &method,
        path: &path,
        status,
        action,
        would_status,
        reason,
        outcome,
    };
    if let Some(response) = screen::refusal(&method, req.uri(), req.headers()) {
        state.log.request(record(response.status(), Action::Answered, None, None, None), state.redact);
        return response;
    }
    if page::owns(&path) {
        let (response, outcome) = page::handle(req, &state.policy_at(at), state.redact, served).await;
        state.log.request(record(response.status(), Action::Page, None, None, outcome.as_ref()), state.redact);
        return response;
    }
    let token = gate::bearer(req.headers());
    if state.upstream.is_none() && path == "/" && method == Method::GET && token.is_none() {
        let response = redirect(page::PATH);
        state.log.request(record(response.status(), Action::Answered, None, None, None), state.redact);
        return response;
    }
    let outcome = token.map(|token| check("request", &token, &state.policy_at(at)));
    let reason = outcome.is_none().then_some("no bearer token");
    let compliant = outcome.as_ref().is_some_and(|o| o.compliant);
    let (response, action, would_status) = match &state.upstream {
        Some(upstream) if compliant || state.report_only => {
            // The answer it would have got, made as it would have been, for its status.
            let would_status = (!compliant).then(|| state.answer(outcome.as_ref()).status());
            (upstream.forward(req).await, Action::Forwarded, would_status)
        }
        _ => (state.answer(outcome.as_ref()), Action::Answered, None),
    };
    state.log.request(record(response.status(), action, would_status, reason, outcome.as_ref()), state.redact);
    response
}

/// The per-token function of every engine (the fast decoder when it can read the token), one per
/// runtime thread; the result is detached from the decoder's buffers to live across the forward.
fn check(source: &str, token: &str, policy: &Policy) -> Outcome<'static> {
    thread_local! {
        static CHECKER: std::cell::RefCell<Checker> = std::cell::RefCell::new(Checker::new());
    }
    CHECKER.with_borrow_mut(|checker| checker.check(source, token, policy, |outcome| outcome.clone().into_owned()))
}

impl State {
    /// The gate's own answer: 401 without a token or with one that is not compliant, else 200
    /// with the result object.
    fn answer(&self, outcome: Option<&Outcome>) -> Response<Body> {
        match outcome {
            None => gate::no_token(),
            Some(outcome) if !outcome.compliant => self.refusal.refuse(outcome, self.redact),
            Some(outcome) => json(StatusCode::OK, &shown(outcome, self.redact)),
        }
    }

    /// The policy of `check`, its clock set to `at` (to the second: the 401's Date) unless `--now`
    /// fixed it.
    fn policy_at(&self, at: Timestamp) -> std::borrow::Cow<'_, Policy> {
        if self.fixed_now {
            return std::borrow::Cow::Borrowed(&self.policy);
        }
        let at = Timestamp::from_second(at.as_second()).expect("the current time is in range");
        std::borrow::Cow::Owned(self.policy.with_time(at))
    }
}

/// The result object as `check --format json` prints it (masked under `--redact`), borrowed
/// when nothing is masked: it is serialized once per request, straight into the answer or the log.
#[derive(serde::Serialize)]
#[serde(untagged)]
pub(crate) enum Shown<'a> {
    Plain(&'a Outcome<'a>),
    Masked(Box<Outcome<'a>>),
}

pub(crate) fn shown<'a>(outcome: &'a Outcome<'a>, redact: bool) -> Shown<'a> {
    if redact {
        Shown::Masked(Box::new(mfacheck::internal::report::redact::outcome(outcome)))
    } else {
        Shown::Plain(outcome)
    }
}

pub(crate) fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).map_err(|never| match never {}).boxed()
}

pub(crate) fn json(status: StatusCode, value: &impl serde::Serialize) -> Response<Body> {
    let mut body = serde_json::to_vec(value).expect("JSON serializes");
    body.push(b'\n');
    let mut response = Response::new(full(body));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

pub(crate) fn text(status: StatusCode, message: &str) -> Response<Body> {
    let mut response = Response::new(full(format!("{message}\n")));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    response
}

fn redirect(location: &'static str) -> Response<Body> {
    let mut response = text(StatusCode::FOUND, location);
    response.headers_mut().insert(header::LOCATION, HeaderValue::from_static(location));
    response
}
