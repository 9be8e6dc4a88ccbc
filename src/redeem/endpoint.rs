//! Where `redeem` posts: the authority (Microsoft's login hosts, or any https URL; http only on
//! loopback, for tests), the tenant (it goes into the URL path, so only GUID and domain-name
//! characters), and the scope asked for.

use anyhow::{Result, bail};

/// Microsoft's public cloud, the default authority.
pub const PUBLIC: &str = "https://login.microsoftonline.com";

/// The national clouds' login hosts: US Government (GCC High, DoD) and China (operated by 21Vianet).
/// (Microsoft Cloud Germany, login.microsoftonline.de, closed in 2021.)
pub const SOVEREIGN: [&str; 2] = ["https://login.microsoftonline.us", "https://login.partner.microsoftonline.cn"];

/// Partner Center's delegated scope, and the refresh token's renewal.
pub const PARTNER_CENTER_SCOPE: &str = "https://api.partnercenter.microsoft.com/user_impersonation offline_access";
pub const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default offline_access";

/// The token endpoint `{authority}/{tenant}/oauth2/v2.0/token`, once both are checked.
pub fn token_endpoint(authority: &str, tenant: &str) -> Result<String> {
    check_tenant(tenant)?;
    let authority = authority.trim_end_matches('/');
    // The URL's text is ours to build: no credentials, query or fragment may ride along.
    if authority.contains(['@', '?', '#']) || authority.chars().any(|c| c.is_whitespace() || c.is_control()) {
        bail!("--authority {}: give a base URL such as {PUBLIC}", crate::report::sanitize::message(authority));
    }
    crate::net::check_url(authority, "--authority")?;
    Ok(format!("{authority}/{tenant}/oauth2/v2.0/token"))
}

/// A tenant id (GUID) or domain name (`contoso.onmicrosoft.com`, `organizations`).
fn check_tenant(tenant: &str) -> Result<()> {
    let ok = !tenant.is_empty()
        && tenant.len() <= 253
        && tenant.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-'))
        && !tenant.starts_with(['.', '-'])
        && !tenant.contains("..");
    if !ok {
        bail!(
            "--tenant {}: give the tenant's id (a GUID) or a domain name (contoso.onmicrosoft.com)",
            crate::error::preview(&crate::report::sanitize::message(tenant))
        );
    }
    Ok(())
}

/// The scope of `--resource`: partner-center, graph, or a resource URI (or app id) whose
/// `/.default` is asked for.
pub fn scope(resource: &str) -> Result<String> {
    Ok(match resource {
        "partner-center" => PARTNER_CENTER_SCOPE.to_owned(),
        "graph" => GRAPH_SCOPE.to_owned(),
        uri if !uri.is_empty() && !uri.chars().any(|c| c.is_whitespace() || c.is_control()) => {
            format!("{}/.default offline_access", uri.trim_end_matches('/'))
        }
        _ => bail!("--resource: give partner-center, graph, or a resource URI such as https://management.azure.com"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(feature = "fetch")]
    fn endpoints() {
        let tenant = "0b0d8c3e-2f6a-4c51-9d7e-5a1b2c3d4e5f";
        assert_eq!(
            token_endpoint(PUBLIC, tenant).unwrap(),
            format!("https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token")
        );
        assert!(token_endpoint("http://127.0.0.1:9/", "contoso.onmicrosoft.com").is_ok());
        for bad_tenant in ["", "a/b", "../x", "a?b", "x y", ".x", "a..b", "%2e"] {
            assert!(token_endpoint(PUBLIC, bad_tenant).is_err(), "{bad_tenant}");
        }
        for bad in ["http://login.microsoftonline.com", "ftp://127.0.0.1", "https://u:p@h", "https://h?x", "x"] {
            assert!(token_endpoint(bad, tenant).is_err(), "{bad}");
        }
        assert_eq!(scope("graph").unwrap(), GRAPH_SCOPE);
        assert_eq!(
            scope("https://management.azure.com/").unwrap(),
            "https://management.azure.com/.default offline_access"
        );
        assert!(scope("a b").is_err());
    }
}
