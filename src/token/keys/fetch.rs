//! Fetching a JWKS: https anywhere, plain http only on loopback, no redirect followed, within a
//! timeout and [`MAX_JWKS_BYTES`]; no request at all without the `fetch` feature.

#[cfg(feature = "fetch")]
use crate::token::signature::short;
#[cfg(feature = "fetch")]
use anyhow::Context;
use anyhow::{Result, bail};
use std::time::Duration;

/// A JWKS fetched from an URL is given up on past this size.
pub const MAX_JWKS_BYTES: u64 = 1 << 20;

/// How long fetching a JWKS may take, unless `--fetch-timeout` says otherwise.
pub const DEFAULT_FETCH_TIMEOUT: u64 = 10;

/// `scheme://…` is an URL (refused unless https, or http on loopback); anything else a path.
pub(super) fn is_url(source: &str) -> bool {
    source.split_once("://").is_some_and(|(scheme, _)| {
        !scheme.is_empty() && scheme.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
    })
}

/// The host of an http(s) URL may be reached: https anywhere, plain http only on loopback.
#[cfg(feature = "fetch")]
pub(crate) fn check_url(url: &str, option: &str) -> Result<bool> {
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

pub(crate) fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Fetches a JWKS over https (or http on loopback), within `timeout` and [`MAX_JWKS_BYTES`];
/// `option` names what asked for it, in messages.
#[cfg(feature = "fetch")]
pub(crate) fn fetch(url: &str, timeout: Duration, option: &str) -> Result<Vec<u8>> {
    let loopback = check_url(url, option)?;
    // rustls on aws-lc, the crypto that verifies signatures: ring is not built.
    let tls = ureq::tls::TlsConfig::builder()
        .unversioned_rustls_crypto_provider(std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .build();
    let mut config = ureq::Agent::config_builder()
        .tls_config(tls)
        .timeout_global(Some(timeout))
        .https_only(!loopback)
        .user_agent(concat!("mfacheck/", env!("CARGO_PKG_VERSION")));
    // A redirect is never followed: a key set comes from the URL given, or not at all.
    config = config.max_redirects(0);
    if loopback {
        // A proxy from the environment may not take a loopback request elsewhere.
        config = config.proxy(None);
    }
    let agent: ureq::Agent = config.build().into();
    let fail = |e: ureq::Error| match e {
        ureq::Error::Timeout(_) => anyhow::anyhow!("{option} {url}: no answer within {} s", timeout.as_secs_f64()),
        ureq::Error::StatusCode(code) => anyhow::anyhow!("{option} {url}: the server answered HTTP {code}"),
        ureq::Error::BodyExceedsLimit(_) => anyhow::anyhow!("{option} {url}: larger than {MAX_JWKS_BYTES} bytes"),
        other => anyhow::anyhow!("{option} {url}: cannot fetch: {other}"),
    };
    let mut response = agent.get(url).header("Accept", "application/json").call().map_err(fail)?;
    if response.status().is_redirection() {
        let to = response.headers().get("location").and_then(|l| l.to_str().ok()).unwrap_or("nowhere");
        bail!(
            "{option} {url}: the server answered HTTP {} redirecting to {} (redirects are not followed: give the \
             final URL)",
            response.status().as_u16(),
            short(to)
        );
    }
    response.body_mut().with_config().limit(MAX_JWKS_BYTES).read_to_vec().map_err(fail)
}

/// Built without the `fetch` feature: no network request is ever made.
#[cfg(not(feature = "fetch"))]
pub(crate) fn fetch(url: &str, _timeout: Duration, option: &str) -> Result<Vec<u8>> {
    bail!(
        "{option} {url}: this mfacheck was built without the `fetch` feature, so it makes no network request; \
         give the JWKS as a file (--jwks PATH) or build with the default features"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(feature = "fetch")]
    fn urls() {
        assert!(is_url("https://login.microsoftonline.com/common/discovery/v2.0/keys"));
        assert!(is_url("HTTP://127.0.0.1:1/"));
        assert!(is_url("ftp://127.0.0.1/k"));
        assert!(!is_url("fixtures/keys/jwks.json"));
        assert!(!is_url("dir/x://y"));
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
