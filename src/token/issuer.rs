//! Entra ID's issuers: the one table of their hosts (which name a tenant in their first path
//! segment, and where each publishes its signing keys), the tenant and token format an issuer
//! URL says, and GUIDs.

use crate::token::audience;

/// Where an issuer host's signing keys are published.
enum Keys {
    /// On the host itself: `https://{host}/{tid}/discovery/[v2.0/]keys`.
    Here,
    /// A v1.0 issuer host: on this login host, `…/{tid}/discovery/keys`.
    V1At(&'static str),
    /// Not fetched for this host (an older name of a login host, which no token's issuer has).
    Nowhere,
}

/// Microsoft's issuer hosts: the login hosts of the public cloud, US Government and China
/// (21Vianet, both its names), and the v1.0 issuer hosts. A host named only by a token (`jku`,
/// `x5u`, or an issuer off this table) is never contacted for keys.
const HOSTS: [(&str, Keys); 7] = [
    ("login.microsoftonline.com", Keys::Here),
    ("login.microsoftonline.us", Keys::Here),
    ("login.chinacloudapi.cn", Keys::Here),
    ("login.partner.microsoftonline.cn", Keys::Here),
    ("sts.windows.net", Keys::V1At("login.microsoftonline.com")),
    ("sts.chinacloudapi.cn", Keys::V1At("login.chinacloudapi.cn")),
    ("login.windows.net", Keys::Nowhere),
];

/// The tenant an Entra ID issuer URL names, e.g. `{tid}` in `https://sts.windows.net/{tid}/`.
pub fn tenant(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("https://")?;
    // memchr: `split_once(char)` set up a searcher per call, a tenth of a large run's CPU.
    let slash = memchr::memchr(b'/', rest.as_bytes())?;
    let (host, path) = (&rest[..slash], &rest[slash + 1..]);
    let b2c = audience::ends_with_ignore_case(host, ".b2clogin.com");
    if !b2c && !HOSTS.iter().any(|(known, _)| host.eq_ignore_ascii_case(known)) {
        return None;
    }
    let tenant = &path[..memchr::memchr(b'/', path.as_bytes()).unwrap_or(path.len())];
    (!tenant.is_empty()).then_some(tenant)
}

/// The token format an issuer's form says (see [`crate::token::claims::Claims::issuer_version`]).
pub fn version(iss: Option<&str>) -> Option<&'static str> {
    let iss = iss?;
    if iss.trim_end_matches('/').ends_with("/v2.0") {
        Some("2.0")
    } else if iss.starts_with("https://sts.windows.net/") {
        Some("1.0")
    } else {
        None
    }
}

/// The discovery key URL of an Entra issuer, or `None` when the issuer is not on Microsoft's
/// login hosts (or its tenant is not a GUID).
pub fn keys_url(iss: &str) -> Option<String> {
    let rest = iss.strip_prefix("https://")?;
    let (host, path) = rest.split_once('/')?;
    let (tid, version) = match path.split_once('/') {
        Some((tid, "v2.0" | "v2.0/")) => (tid, "v2.0/"),
        Some((tid, "")) => (tid, ""),
        None => (path, ""),
        Some(_) => return None,
    };
    if !is_guid(tid) {
        return None;
    }
    let login = match HOSTS.iter().find(|(known, _)| *known == host)?.1 {
        Keys::Here => host,
        Keys::V1At(login) if version.is_empty() => login,
        Keys::V1At(_) | Keys::Nowhere => return None,
    };
    Some(format!("https://{login}/{tid}/discovery/{version}keys"))
}

/// 8-4-4-4-12 hexadecimal digits.
pub fn is_guid(text: &str) -> bool {
    let b = text.as_bytes();
    let hex = |range: std::ops::Range<usize>| b[range].iter().all(u8::is_ascii_hexdigit);
    b.len() == 36
        && [8, 13, 18, 23].iter().all(|&i| b[i] == b'-')
        && hex(0..8)
        && hex(9..13)
        && hex(14..18)
        && hex(19..23)
        && hex(24..36)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TID: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

    #[test]
    fn issuers_map_to_their_discovery_key_urls() {
        let cases = [
            (
                format!("https://login.microsoftonline.com/{TID}/v2.0"),
                format!("https://login.microsoftonline.com/{TID}/discovery/v2.0/keys"),
            ),
            (
                format!("https://sts.windows.net/{TID}/"),
                format!("https://login.microsoftonline.com/{TID}/discovery/keys"),
            ),
            (
                format!("https://login.microsoftonline.us/{TID}/v2.0"),
                format!("https://login.microsoftonline.us/{TID}/discovery/v2.0/keys"),
            ),
            (
                format!("https://login.microsoftonline.us/{TID}/"),
                format!("https://login.microsoftonline.us/{TID}/discovery/keys"),
            ),
            (
                format!("https://sts.chinacloudapi.cn/{TID}/"),
                format!("https://login.chinacloudapi.cn/{TID}/discovery/keys"),
            ),
            (
                format!("https://login.chinacloudapi.cn/{TID}/v2.0"),
                format!("https://login.chinacloudapi.cn/{TID}/discovery/v2.0/keys"),
            ),
            (
                format!("https://login.partner.microsoftonline.cn/{TID}/v2.0"),
                format!("https://login.partner.microsoftonline.cn/{TID}/discovery/v2.0/keys"),
            ),
        ];
        for (iss, url) in cases {
            assert_eq!(keys_url(&iss).as_deref(), Some(url.as_str()), "{iss}");
        }
    }

    #[test]
    fn other_issuers_have_no_keys_url() {
        for iss in [
            format!("https://evil.example/{TID}/v2.0"),
            format!("http://login.microsoftonline.com/{TID}/v2.0"),
            format!("https://login.microsoftonline.com.evil.example/{TID}/v2.0"),
            format!("https://sts.windows.net/{TID}/v2.0"),
            format!("https://login.microsoftonline.com/{TID}/v2.0/../../evil"),
            "https://login.microsoftonline.com/common/v2.0".to_owned(),
            "https://login.microsoftonline.com/../x/v2.0".to_owned(),
            format!("https://contoso.b2clogin.com/{TID}/v2.0/"),
            format!("https://sts.windows.net/{TID}/x"),
            String::new(),
        ] {
            assert_eq!(keys_url(&iss), None, "{iss}");
        }
    }

    #[test]
    fn guids_and_issuer_tenants() {
        let id = "6e74172b-be56-4843-9ff4-e66a39bb12e3";
        assert!(is_guid(id) && is_guid(&id.to_uppercase()));
        for bad in [
            "",
            "6e74172b-be56-4843-9ff4-e66a39bb12e",
            "6e74172bbbe56-4843-9ff4-e66a39bb12e3",
            "6e74172b-be56-4843-9ff4-e66a39bb12eg",
            "6e74172b-be56-4843-9ff4-e66a39bb12e3-",
            "-e74172b-be56-4843-9ff4-e66a39bb12e3",
        ] {
            assert!(!is_guid(bad), "{bad}");
        }
        for (url, expected) in [
            ("https://sts.windows.net/t1/", Some("t1")),
            ("https://login.microsoftonline.com/t2/v2.0", Some("t2")),
            ("https://LOGIN.windows.net/t3", Some("t3")),
            ("https://contoso.b2clogin.com/t4/v2.0/", Some("t4")),
            // The national clouds' issuers name their tenant too: the table that says where
            // their keys are is the table of issuers.
            ("https://login.microsoftonline.us/t7/v2.0", Some("t7")),
            ("https://sts.chinacloudapi.cn/t8/", Some("t8")),
            ("https://sts.windows.net//", None),
            ("https://sts.windows.net", None),
            ("https://example.com/t5/", None),
            ("http://sts.windows.net/t6/", None),
        ] {
            assert_eq!(tenant(url), expected, "{url}");
        }
    }
}
