//! Fetching a JWKS: https anywhere, plain http only on loopback, no redirect followed, within a
//! timeout and [`MAX_JWKS_BYTES`]; no request at all without the `fetch` feature.

use anyhow::Result;
#[cfg(not(feature = "fetch"))]
use anyhow::bail;
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

pub(crate) use crate::net::is_loopback;

/// Fetches a JWKS over https (or http on loopback), within `timeout` and [`MAX_JWKS_BYTES`];
/// `option` names what asked for it, in messages.
#[cfg(feature = "fetch")]
pub(crate) fn fetch(url: &str, timeout: Duration, option: &str) -> Result<Vec<u8>> {
    let agent = crate::net::agent(url, option, timeout, true)?;
    let fail = |e| crate::net::failure(e, option, url, timeout, MAX_JWKS_BYTES);
    let mut response = agent.get(url).header("Accept", "application/json").call().map_err(fail)?;
    crate::net::refuse_redirect(&response, option, url)?;
    crate::net::read_body(&mut response, option, url, timeout, MAX_JWKS_BYTES)
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
    }
}
