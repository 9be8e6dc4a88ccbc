//! What a request must be before it is judged, forwarded or shown the page (SPEC §4 "Hardening of
//! `serve`"): each refusal here closes a way to be judged on one thing and forwarded as another.

use super::Body;
use hyper::header::{self, HeaderMap};
use hyper::{Method, Response, StatusCode, Uri};
use std::net::SocketAddr;

/// The answer to a request that must not go further, whatever its token: None lets it through.
pub fn refusal(method: &Method, uri: &Uri, headers: &HeaderMap) -> Option<Response<Body>> {
    // `OPTIONS *` has no path to put after the upstream's base (it once became a request to port
    // 80), and CONNECT asks for a tunnel: neither is a request to the app.
    if method == Method::CONNECT || uri.path() == "*" {
        return Some(super::text(
            StatusCode::METHOD_NOT_ALLOWED,
            &format!("{method} is answered here, never forwarded"),
        ));
    }
    // Judged on one, forwarded with both: the upstream may read the other.
    if headers.get_all(header::AUTHORIZATION).iter().nth(1).is_some() {
        return Some(super::text(StatusCode::BAD_REQUEST, "more than one Authorization header"));
    }
    if climbs(uri.path()) {
        return Some(super::text(StatusCode::BAD_REQUEST, "a path with a `..` segment or a backslash is refused"));
    }
    None
}

/// Whether `path` has a `..` segment once decoded as any server behind may decode it: percent-
/// encoding (also twice over), backslashes read as slashes, `;parameters` cut off (`/..;/`).
/// Clients remove dot segments before they send (RFC 3986 §5.2.4), so none is lost but attacks.
fn climbs(path: &str) -> bool {
    let mut bytes = path.as_bytes().to_vec();
    // Bounded: each round shortens the text or ends the loop.
    loop {
        let decoded = percent_decode(&bytes);
        if decoded == bytes {
            break;
        }
        bytes = decoded;
    }
    bytes.contains(&b'\\')
        || bytes.split(|&b| b == b'/').any(|segment| segment.split(|&b| b == b';').next() == Some(b".."))
}

/// `text` with each `%XX` decoded (once).
pub fn percent_decode(text: &[u8]) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if let (b'%', Some(high), Some(low)) =
            (text[i], text.get(i + 1).and_then(|&b| hex(b)), text.get(i + 2).and_then(|&b| hex(b)))
        {
            out.push((high * 16 + low) as u8);
            i += 3;
        } else {
            out.push(text[i]);
            i += 1;
        }
    }
    out
}

/// Whether a request for the page or its API names this server as a browser on this machine
/// does: one `Host` (and an absolute-form target, if any) that is the address served or a
/// loopback name. A page fetched through a name that DNS rebinding points here names another
/// host: it must not read verdicts or write log lines.
pub fn local_host(uri: &Uri, headers: &HeaderMap, served: SocketAddr) -> bool {
    let mut hosts = headers.get_all(header::HOST).iter();
    let (Some(host), None) = (hosts.next(), hosts.next()) else { return false };
    let Ok(host) = host.to_str() else { return false };
    is_local(host, served) && uri.authority().is_none_or(|authority| is_local(authority.as_str(), served))
}

fn is_local(host: &str, served: SocketAddr) -> bool {
    let host = host.to_ascii_lowercase();
    // `[v6]:port`, `name:port`, or either without the port.
    let (name, port) = match host.strip_prefix('[') {
        Some(bracketed) => match bracketed.split_once(']') {
            Some((ip, "")) => (format!("[{ip}]"), None),
            Some((ip, after)) => match after.strip_prefix(':') {
                Some(port) => (format!("[{ip}]"), Some(port)),
                None => return false,
            },
            None => return false,
        },
        None => match host.split_once(':') {
            Some((name, port)) => (name.to_owned(), Some(port)),
            None => (host.clone(), None),
        },
    };
    let port = match port.map(|p| p.bytes().all(|b| b.is_ascii_digit()).then(|| p.parse::<u16>().ok()).flatten()) {
        None => None,
        Some(Some(port)) => Some(port),
        Some(None) => return false,
    };
    let served_name = match served.ip().to_canonical() {
        std::net::IpAddr::V4(ip) => ip.to_string(),
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
    };
    // A loopback name reaches only this machine, whatever port a tunnel put in front.
    matches!(name.as_str(), "localhost" | "127.0.0.1" | "[::1]")
        || (name == served_name && port.is_none_or(|p| p == served.port()))
}

/// Whether the body is declared JSON: a cross-origin page can post only form and text types
/// without asking first (CORS preflight), and this server answers no preflight.
pub fn json_body(headers: &HeaderMap) -> bool {
    let mut types = headers.get_all(header::CONTENT_TYPE).iter();
    let (Some(content_type), None) = (types.next(), types.next()) else { return false };
    let Ok(content_type) = content_type.to_str() else { return false };
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("application/json")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        let served: SocketAddr = "192.0.2.7:8400".parse().unwrap();
        for host in ["localhost", "localhost:1", "127.0.0.1:8400", "[::1]", "[::1]:9", "192.0.2.7", "192.0.2.7:8400"] {
            assert!(is_local(host, served), "{host}");
        }
        for host in ["192.0.2.7:8401", "[::1]x", "localhost:", "localhost:x", "evil", "[::1]:1:2", "localhost:99999"] {
            assert!(!is_local(host, served), "{host}");
        }
        assert!(is_local("[2001:db8::1]:8400", "[2001:db8::1]:8400".parse().unwrap()));
    }

    #[test]
    fn climbing() {
        assert!(climbs("/a/%2E%2e/b") && climbs("/..") && climbs("/%25%32%65%25%32%65/"));
        assert!(!climbs("/a..b/...") && !climbs("/"));
    }
}
