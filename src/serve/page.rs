//! The paste page (`GET /_mfacheck/`) and its check endpoint (`POST /_mfacheck/check`). The page
//! is one file with its style and script inline, allowed by hash in a Content-Security-Policy
//! that forbids everything else, so it cannot load or send anything but to this server.

use super::Body;
use super::connections::Inbound;
use bytes::Bytes;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use mfacheck::Outcome;
use mfacheck::internal::judge::Explained;
use mfacheck::internal::judge::policy::Policy;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::LazyLock;

/// Where the page lives; every path under it is the page's, never forwarded.
pub const PATH: &str = "/_mfacheck/";
const CHECK: &str = "/_mfacheck/check";
/// A pasted token (or an `az` JSON answer holding one) is far below this.
const MAX_PASTE: usize = 64 * 1024;

const HTML: &str = include_str!("page.html");

/// The page's Content-Security-Policy: its one style and one script by hash, requests only to
/// this server, no frames, forms, plugins, fonts or remote images.
static CSP: LazyLock<HeaderValue> = LazyLock::new(|| {
    let hash = |open: &str, close: &str| {
        let start = HTML.find(open).expect("the page has the element") + open.len();
        let end = start + HTML[start..].find(close).expect("the element is closed");
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &HTML.as_bytes()[start..end]);
        format!("'sha256-{}'", base64::Engine::encode(&base64::engine::general_purpose::STANDARD, digest))
    };
    let policy = format!(
        "default-src 'none'; script-src {}; style-src {}; connect-src 'self'; img-src data:; \
         base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        hash("<script>", "</script>"),
        hash("<style>", "</style>")
    );
    HeaderValue::try_from(policy).expect("a header value")
});

pub fn owns(path: &str) -> bool {
    path == "/_mfacheck" || path.starts_with(PATH)
}

/// What the page posts to its check endpoint: the pasted text, as typed.
#[derive(serde::Deserialize)]
struct Paste {
    text: String,
}

/// The page, or a pasted token checked; the result goes in the log as any other request's. Only
/// for requests that name this server as a browser on this machine does (`served` is the
/// address the request came in on).
pub async fn handle(
    req: Request<Inbound>,
    policy: &Policy,
    redact: bool,
    served: SocketAddr,
) -> (Response<Body>, Option<Outcome<'static>>) {
    if !super::screen::local_host(req.uri(), req.headers(), served) {
        let message = "the paste page answers only requests for this machine's own address (localhost or 127.0.0.1)";
        return (super::text(StatusCode::MISDIRECTED_REQUEST, message), None);
    }
    match (req.method(), req.uri().path()) {
        (&Method::GET | &Method::HEAD, PATH) => (page(), None),
        (&Method::GET | &Method::HEAD, "/_mfacheck") => {
            let mut response = super::text(StatusCode::MOVED_PERMANENTLY, PATH);
            response.headers_mut().insert(header::LOCATION, HeaderValue::from_static(PATH));
            (response, None)
        }
        (&Method::POST, CHECK) if !super::screen::json_body(req.headers()) => {
            (super::text(StatusCode::UNSUPPORTED_MEDIA_TYPE, "post the pasted text as application/json"), None)
        }
        (&Method::POST, CHECK) => match Limited::new(req.into_body(), MAX_PASTE).collect().await {
            Ok(body) => match serde_json::from_slice::<Paste>(&body.to_bytes()) {
                Ok(paste) => {
                    let (value, outcome) = check(&paste.text, policy, redact);
                    (secure(super::json(StatusCode::OK, &value)), outcome)
                }
                Err(e) => (super::text(StatusCode::BAD_REQUEST, &format!("expected {{\"text\": \"…\"}}: {e}")), None),
            },
            Err(e) if e.is::<LengthLimitError>() => {
                (super::text(StatusCode::PAYLOAD_TOO_LARGE, &format!("cannot read the pasted text: {e}")), None)
            }
            Err(e) => (super::text(StatusCode::BAD_REQUEST, &format!("cannot read the pasted text: {e}")), None),
        },
        (_, PATH | CHECK) => (super::text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed"), None),
        _ => (super::text(StatusCode::NOT_FOUND, "no such page"), None),
    }
}

fn page() -> Response<Body> {
    let mut response = Response::new(super::full(Bytes::from_static(HTML.as_bytes())));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    headers.insert(header::CONTENT_SECURITY_POLICY, CSP.clone());
    secure(response)
}

/// What no answer of the page's should allow: caching a verdict, sniffing, leaking the URL.
fn secure(mut response: Response<Body>) -> Response<Body> {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

/// At most this many results in one answer (a paste of 64 KiB of short lines would be thousands).
const MAX_RESULTS: usize = 100;

/// What `check --explain` shows for the pasted text, read as `check` reads a file (one token a
/// line, folded tokens joined, JSON wrappers read): a result per token, each with its verdict line
/// and facts as the CLI words them, the decoded header and claims with their one-line meanings,
/// and the command's own text; the 2026 enforcement note once. The first result goes in the log.
fn check(pasted: &str, policy: &Policy, redact: bool) -> (Value, Option<Outcome<'static>>) {
    let mut items = Vec::new();
    // Reading memory cannot fail.
    let _ = mfacheck::input::read_stream(pasted.as_bytes(), "page", &mut |item| {
        items.push(item);
        Ok(())
    });
    // Nothing pasted is no token to show, not an `empty` error.
    if pasted.trim().is_empty() {
        items.clear();
    }
    let omitted = items.len().saturating_sub(MAX_RESULTS);
    let now = policy.now();
    let mut first = None;
    let mut refused = false;
    let results: Vec<Value> = items
        .into_iter()
        .take(MAX_RESULTS)
        .map(|item| {
            let explained = mfacheck::internal::judge::explained(item, policy);
            let value = explained_value(&explained, now, redact);
            let outcome = explained.outcome;
            refused |= outcome.response.is_some();
            first.get_or_insert(outcome);
            value
        })
        .collect();
    let mut note = Vec::new();
    if refused {
        let _ = mfacheck::report::text::enforcement(&mut note, None);
    }
    let note = String::from_utf8_lossy(&note).trim().to_owned();
    let value = json!({
        "results": results,
        "omitted": omitted,
        "note": (!note.is_empty()).then_some(note),
    });
    (value, first)
}

/// One token's part of the answer.
fn explained_value(explained: &Explained, now: i64, redact: bool) -> Value {
    use mfacheck::report::text;
    let outcome = &explained.outcome;
    let shown = if redact { mfacheck::report::redact::outcome(outcome) } else { outcome.clone() };
    let mut header = explained.header.clone();
    let mut claims = explained.claims.clone();
    if redact {
        header.iter_mut().chain(claims.iter_mut()).for_each(mfacheck::internal::report::redact::claims);
    }
    let lines =
        claims.as_ref().map(|claims| mfacheck::internal::judge::explain::claims(claims, now)).unwrap_or_default();
    let mut rendered = Vec::new();
    // Writing to memory cannot fail; a page shows no terminal colours.
    let plain = text::Paint::default();
    let _ = text::outcome(&mut rendered, &shown, now, true, None, plain);
    if !lines.is_empty() {
        let _ = text::explanation(&mut rendered, &lines, "    ", None, plain);
    }
    let fields: Vec<Value> = text::fields(&shown, now, text::Paint::default())
        .into_iter()
        .map(|(label, value)| json!([label, text::printable(&value)]))
        .collect();
    let claims: Vec<Value> =
        lines.iter().map(|l| json!({"name": l.name, "value": l.value, "meaning": l.meaning})).collect();
    json!({
        "headline": text::headline(&shown, now),
        "fields": fields,
        "result": super::shown(outcome, redact),
        "header": header,
        "claims": claims,
        "text": String::from_utf8_lossy(&rendered),
    })
}
