//! Forwarding to `--upstream`: method, path, query, headers and body go on as they came, the
//! body streamed (never held whole), and the upstream's answer comes back as it gave it, reason
//! phrase and header case included.

use super::Body;
use super::connections::{ClientBodyError, Inbound};
use anyhow::{Context, Result, bail};
use http_body_util::BodyExt;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Request, Response, StatusCode, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::time::Duration;

/// Idle connections kept to the upstream: each holds a descriptor (counted in
/// [`super::connections`]' reserve).
pub const IDLE_POOL: usize = 16;

pub struct Upstream {
    client: Client<HttpConnector, Inbound>,
    /// `http://host:port`, what the Host header and every forwarded URL start with.
    authority: hyper::http::uri::Authority,
    /// The URL's path without its trailing slash ("" for none), put before every request's path.
    base_path: String,
    /// How long connecting and waiting for the upstream's response headers may take.
    timeout: Duration,
}

/// Connection headers name the hop, not the message (RFC 9110 §7.6.1): never forwarded. hyper
/// frames each side's body itself, from the body and its content-length or transfer-encoding.
const HOP_BY_HOP: [&str; 7] =
    ["connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "upgrade"];

impl Upstream {
    pub fn new(url: &str, timeout: Duration) -> Result<Self> {
        // Messages name the URL with any credentials masked: they must not reach a terminal or log.
        let shown = mfacheck::internal::error::mask_credentials(url);
        let uri: Uri = url.parse().with_context(|| format!("--upstream {shown}: not a URL"))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some(other) => bail!("--upstream {shown}: only http:// upstreams are supported, not {other}://"),
            None => bail!("--upstream {shown}: give a URL such as http://127.0.0.1:8080"),
        }
        let authority = uri.authority().cloned().with_context(|| format!("--upstream {shown}: no host"))?;
        // They would go out as part of every Host header, and back in every 502.
        if authority.as_str().contains('@') {
            bail!(
                "--upstream {shown}: credentials in the URL are refused; the gate forwards each request's own Authorization"
            );
        }
        if uri.query().is_some() {
            bail!("--upstream {shown}: a base URL takes no query");
        }
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(timeout));
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new())
            // The answer goes back as the upstream wrote it: header names in their case.
            .http1_preserve_header_case(true)
            .pool_max_idle_per_host(IDLE_POOL)
            .build(connector);
        Ok(Upstream { client, authority, base_path: uri.path().trim_end_matches('/').to_owned(), timeout })
    }

    /// The upstream's answer to `req`, or 502 with a one-line reason when there is none in time.
    pub async fn forward(&self, req: Request<Inbound>) -> Response<Body> {
        let (mut parts, body) = req.into_parts();
        let path_and_query = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        let uri = format!("http://{}{}{}", self.authority, self.base_path, path_and_query);
        parts.uri = match uri.parse() {
            Ok(uri) => uri,
            Err(e) => return super::text(StatusCode::BAD_GATEWAY, &format!("mfacheck serve: bad upstream URL: {e}")),
        };
        strip_hop_by_hop(&mut parts.headers);
        // The upstream serves its own host name (virtual hosting), as a reverse proxy says it.
        if let Ok(host) = HeaderValue::from_str(self.authority.as_str()) {
            parts.headers.insert(header::HOST, host);
        }
        // What the client negotiated with this server is not the upstream's business.
        parts.extensions = Default::default();
        let request = Request::from_parts(parts, body);
        match tokio::time::timeout(self.timeout, self.client.request(request)).await {
            Ok(Ok(response)) => {
                let (mut parts, body) = response.into_parts();
                strip_hop_by_hop(&mut parts.headers);
                Response::from_parts(parts, body.boxed())
            }
            // The client's body broke (a bad chunk size): the client's fault, not the upstream's.
            Ok(Err(e)) if caused_by_client(&e) => super::text(StatusCode::BAD_REQUEST, &one_line(&e)),
            Ok(Err(e)) => bad_gateway(&format!("upstream {} failed: {}", self.authority, one_line(&e))),
            Err(_) => {
                bad_gateway(&format!("upstream {} gave no answer within {}s", self.authority, self.timeout.as_secs()))
            }
        }
    }
}

fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<String> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|name| name.trim().to_ascii_lowercase())
        .filter(|name| !name.is_empty())
        .collect();
    for name in HOP_BY_HOP.iter().copied().chain(named.iter().map(String::as_str)) {
        // The framing headers stay even if Connection names them: hyper needs them.
        if name != "content-length" && name != "transfer-encoding" {
            headers.remove(name);
        }
    }
}

fn caused_by_client(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(error) = cause {
        if error.is::<ClientBodyError>() {
            return true;
        }
        cause = error.source();
    }
    false
}

/// An error and its causes on one line ("connection refused" is in the source, not the top).
fn one_line(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text.replace(['\r', '\n'], " ")
}

fn bad_gateway(reason: &str) -> Response<Body> {
    super::text(StatusCode::BAD_GATEWAY, &format!("mfacheck serve: {reason}"))
}
