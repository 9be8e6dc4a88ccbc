//! The one HTTP client policy of mfacheck (key fetches and `redeem`'s token endpoint): https
//! anywhere, plain http only on loopback (tests), rustls on aws-lc, one global timeout, no
//! redirect followed, no proxy from the environment for a loopback request, bodies read within a
//! limit. Without the `fetch` feature there is no client at all.

#[cfg(feature = "fetch")]
use anyhow::Context;
use anyhow::{Result, bail};

/// The host of an http(s) URL may be reached: https anywhere, plain http only on loopback.
/// `Ok(true)`: a loopback http URL.
#[cfg(feature = "fetch")]
pub fn check_url(url: &str, option: &str) -> Result<bool> {
    let uri: ureq::http::Uri = url.parse().with_context(|| format!("{option} {url}: not a valid URL"))?;
    let host = uri.host().unwrap_or_default();
    match uri.scheme_str() {
        Some("https") => Ok(false),
        Some("http") if is_loopback(host) => Ok(true),
        Some("http") => bail!(
            "{option} {url}: plain http is refused except on loopback hosts (127.0.0.0/8, localhost, ::1); use https"
        ),
        _ => bail!("{option} {url}: only https URLs (or a file path) are accepted"),
    }
}

/// Without the `fetch` feature no URL is reached.
#[cfg(not(feature = "fetch"))]
pub fn check_url(url: &str, option: &str) -> Result<bool> {
    bail!("{option} {url}: this mfacheck was built without the `fetch` feature, so it makes no network request")
}

pub fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// An agent for `url` (checked with [`check_url`]), answering within `timeout`. With
/// `statuses_as_errors` false, a 4xx/5xx answer is a response to read (a token endpoint explains
/// its refusals in the body).
#[cfg(feature = "fetch")]
pub fn agent(url: &str, option: &str, timeout: std::time::Duration, statuses_as_errors: bool) -> Result<ureq::Agent> {
    let loopback = check_url(url, option)?;
    // rustls on aws-lc, the crypto that verifies signatures: ring is not built.
    let tls = ureq::tls::TlsConfig::builder()
        .unversioned_rustls_crypto_provider(std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .build();
    let mut config = ureq::Agent::config_builder()
        .tls_config(tls)
        .timeout_global(Some(timeout))
        .https_only(!loopback)
        .http_status_as_error(statuses_as_errors)
        // A redirect is never followed: an answer comes from the URL given, or not at all.
        .max_redirects(0)
        .user_agent(concat!("mfacheck/", env!("CARGO_PKG_VERSION")));
    if loopback {
        // A proxy from the environment may not take a loopback request elsewhere.
        config = config.proxy(None);
    }
    Ok(config.build().into())
}

/// What went wrong reaching `url`, in one line naming it.
#[cfg(feature = "fetch")]
pub fn failure(e: ureq::Error, option: &str, url: &str, timeout: std::time::Duration, limit: u64) -> anyhow::Error {
    match e {
        ureq::Error::Timeout(_) => anyhow::anyhow!("{option} {url}: no answer within {} s", timeout.as_secs_f64()),
        ureq::Error::StatusCode(code) => anyhow::anyhow!("{option} {url}: the server answered HTTP {code}"),
        ureq::Error::BodyExceedsLimit(_) => anyhow::anyhow!("{option} {url}: larger than {limit} bytes"),
        ureq::Error::HostNotFound => anyhow::anyhow!("{option} {url}: cannot fetch: the host name does not resolve"),
        // getaddrinfo's failure reaches ureq as an untyped I/O error.
        ureq::Error::Io(io) if io.to_string().contains("failed to lookup address") => {
            anyhow::anyhow!("{option} {url}: cannot fetch: the host name does not resolve")
        }
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            anyhow::anyhow!("{option} {url}: cannot fetch: connection refused (nothing listens there)")
        }
        other => anyhow::anyhow!("{option} {url}: cannot fetch: {other}"),
    }
}

/// A redirect answer is refused, naming (shortened) where it pointed.
#[cfg(feature = "fetch")]
pub fn refuse_redirect(response: &ureq::http::Response<ureq::Body>, option: &str, url: &str) -> Result<()> {
    if response.status().is_redirection() {
        let to = response.headers().get("location").and_then(|l| l.to_str().ok()).unwrap_or("nowhere");
        bail!(
            "{option} {url}: the server answered HTTP {} redirecting to {} (redirects are not followed: give the \
             final URL)",
            response.status().as_u16(),
            crate::token::signature::short(to)
        );
    }
    Ok(())
}

/// The body of `response`, at most `limit` bytes.
#[cfg(feature = "fetch")]
pub fn read_body(
    response: &mut ureq::http::Response<ureq::Body>,
    option: &str,
    url: &str,
    timeout: std::time::Duration,
    limit: u64,
) -> Result<Vec<u8>> {
    response.body_mut().with_config().limit(limit).read_to_vec().map_err(|e| failure(e, option, url, timeout, limit))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(feature = "fetch")]
    fn urls() {
        assert!(!check_url("https://login.microsoftonline.com/common/discovery/v2.0/keys", "--jwks").unwrap());
        for ok in ["http://127.0.0.1:8080/k", "http://127.1.2.3/k", "http://localhost/k", "http://[::1]:9/k"] {
            assert!(check_url(ok, "--jwks").unwrap(), "{ok}");
        }
        for refused in ["http://example.com/keys", "http://10.0.0.1/k", "ftp://127.0.0.1/k"] {
            assert!(check_url(refused, "--jwks").is_err(), "{refused}");
        }
        let err = check_url("http://example.com/keys", "--jwks").unwrap_err().to_string();
        assert!(err.contains("plain http is refused"), "{err}");
    }
}
