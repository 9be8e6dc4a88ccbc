//! The gate: a request's bearer token, and the answers of a Partner Center that refuses it.

use super::{Body, shown};
use anyhow::{Result, anyhow};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::ext::ReasonPhrase;
use hyper::header::{self, HeaderName, HeaderValue};
use hyper::http::Extensions;
use hyper::{HeaderMap, Response, StatusCode};
use jiff::Timestamp;
use mfacheck::Outcome;
use mfacheck::internal::judge::verdict::Response as Response401;

/// The token of an `Authorization: Bearer …` header, cleaned as `check` cleans a pasted one.
/// None without such a header (another scheme, or nothing after `Bearer`).
pub fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = value.trim_start().split_once(char::is_whitespace)?;
    if !scheme.eq_ignore_ascii_case("bearer") || rest.trim().is_empty() {
        return None;
    }
    Some(mfacheck::internal::input::clean(rest).to_owned())
}

/// A plain 401 for a request without a bearer token (RFC 6750 §3).
pub fn no_token() -> Response<Body> {
    let mut response = super::text(StatusCode::UNAUTHORIZED, "no bearer token: send Authorization: Bearer <token>");
    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

/// Writes the verdict's 401 as Partner Center does, byte for byte.
pub struct Refusal {
    /// Extensions that make hyper write the 401's header names in their documented case.
    case: Extensions,
}

impl Refusal {
    /// hyper writes header names in lower case unless a response carries a map of their original
    /// case, a type it does not export but records for each request it parses with
    /// `preserve_header_case`. So the 401's header names are sent once, as a request through
    /// hyper over an in-memory pipe, and the extensions it records are kept.
    pub async fn new() -> Result<Self> {
        let sample = Response401::mfa_required(Timestamp::UNIX_EPOCH);
        let mut request = String::from("GET / HTTP/1.1\r\nHost: x\r\n");
        for (name, value) in &sample.headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        // The sample's headers say its body is chunked: an empty one ends the request.
        request.push_str("\r\n0\r\n\r\n");
        let (mut client, server) = tokio::io::duplex(4096);
        let (tx, rx) = tokio::sync::oneshot::channel();
        let tx = std::sync::Mutex::new(Some(tx));
        let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
            if let Some(tx) = tx.lock().expect("not poisoned").take() {
                let _ = tx.send(req.extensions().clone());
            }
            async { Ok::<_, std::convert::Infallible>(Response::new(Empty::<Bytes>::new())) }
        });
        let connection = hyper::server::conn::http1::Builder::new()
            .preserve_header_case(true)
            .serve_connection(hyper_util::rt::TokioIo::new(server), service);
        let serving = tokio::spawn(connection);
        tokio::io::AsyncWriteExt::write_all(&mut client, request.as_bytes()).await?;
        let case = rx.await.map_err(|_| anyhow!("hyper did not parse the 401's headers"))?;
        drop(client);
        let _ = serving.await;
        Ok(Refusal { case })
    }

    /// The answer to a token that is not compliant: the verdict's 401 when it has one (the MFA
    /// rule), its status line and headers, then the empty chunked body. A token refused for
    /// another reason (not a JWT, another audience, a bad signature…) gets a plain
    /// `401 invalid_token` with the result object, so the app's developer sees why.
    pub fn refuse(&self, outcome: &Outcome, redact: bool) -> Response<Body> {
        match &outcome.response {
            Some(partner_center) => self.response(partner_center).unwrap_or_else(|e| {
                super::text(StatusCode::INTERNAL_SERVER_ERROR, &format!("cannot render the 401: {e}"))
            }),
            // The result object may name the user: `--redact` applies to the body as to the log.
            None => invalid_token(outcome, redact),
        }
    }

    /// The verdict's 401 as a hyper response, with an empty body.
    fn response(&self, refusal: &Response401) -> Result<Response<Body>> {
        let mut response = Response::new(Empty::<Bytes>::new().map_err(|never| match never {}).boxed());
        *response.extensions_mut() = self.case.clone();
        response.extensions_mut().insert(ReasonPhrase::try_from(Bytes::from_static(refusal.reason.as_bytes()))?);
        *response.status_mut() = StatusCode::from_u16(refusal.status)?;
        for (name, value) in &refusal.headers {
            response.headers_mut().append(HeaderName::try_from(*name)?, HeaderValue::try_from(value.as_ref())?);
        }
        Ok(response)
    }
}

/// A refusal for a reason other than MFA: the result object, masked under `--redact`.
fn invalid_token(outcome: &Outcome, redact: bool) -> Response<Body> {
    let mut response = super::json(StatusCode::UNAUTHORIZED, &shown(outcome, redact));
    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer error=\"invalid_token\""));
    response
}
