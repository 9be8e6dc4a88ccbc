//! `--verify` without keys: Microsoft's published signing keys for each token's issuer, found
//! only on Microsoft's own login hosts and cached on disk.
//!
//! The issuer (`iss`) is mapped to its discovery key URL by a fixed table: the public cloud
//! (`https://login.microsoftonline.com/{tid}/v2.0` → `…/{tid}/discovery/v2.0/keys`;
//! `https://sts.windows.net/{tid}/` → `https://login.microsoftonline.com/{tid}/discovery/keys`)
//! and the national clouds' login hosts (US Government, China operated by 21Vianet). A host
//! named only by the token (`jku`, `x5u`, or an issuer off the table) is never contacted: the
//! token would be choosing the keys it is checked with.
//!
//! Key sets are cached in the platform cache directory for [`CACHE_TTL`]; a token naming a `kid`
//! the cached set lacks causes one refetch per set and run (key rollover). `--offline` uses the
//! cache alone and records what is missing.

use crate::token::verify::{self, KeySet};
use anyhow::{Result, bail};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long a cached key set is used without asking Microsoft again.
pub const CACHE_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// TEST ONLY: replaces `https://{Microsoft login host}` in key URLs by this loopback base URL
/// (e.g. `http://127.0.0.1:8080`), so tests can stand a local server in for Microsoft. Anything
/// but a loopback URL is refused. Not an option for users: it is not in `--help`.
pub const TEST_BASE_ENV: &str = "MFACHECK_TEST_LOGIN_BASE";

/// Key sets kept per run at most (one per tenant seen): bounds memory and fetches on a stream of
/// tokens from many tenants.
pub const MAX_SETS: usize = 32;

/// Microsoft's login hosts, where an issuer's keys are published: public cloud, US Government,
/// China (21Vianet, both its names).
const LOGIN_HOSTS: [&str; 4] = [
    "login.microsoftonline.com",
    "login.microsoftonline.us",
    "login.chinacloudapi.cn",
    "login.partner.microsoftonline.cn",
];

/// v1.0 issuer hosts and the login host that publishes their keys.
const V1_HOSTS: [(&str, &str); 2] =
    [("sts.windows.net", "login.microsoftonline.com"), ("sts.chinacloudapi.cn", "login.chinacloudapi.cn")];

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
    let login = if LOGIN_HOSTS.contains(&host) {
        host
    } else {
        let (_, login) = V1_HOSTS.iter().find(|(sts, _)| *sts == host)?;
        if !version.is_empty() {
            return None;
        }
        login
    };
    Some(format!("https://{login}/{tid}/discovery/{version}keys"))
}

fn is_guid(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 36
        && b.iter()
            .enumerate()
            .all(|(i, c)| if matches!(i, 8 | 13 | 18 | 23) { *c == b'-' } else { c.is_ascii_hexdigit() })
}

/// What `--verify` has for one token's issuer.
pub enum Lookup {
    Keys {
        set: Arc<KeySet>,
        url: String,
    },
    /// The issuer is not one of Microsoft's (or absent): no key may be fetched for it.
    NotMicrosoft,
    /// The keys could not be had; says which and why.
    Unavailable(String),
}

#[derive(Clone)]
enum Slot {
    /// `fetched`: fetched in this run, so an unknown `kid` is not worth asking again.
    Ready {
        set: Arc<KeySet>,
        fetched: bool,
    },
    Unavailable(String),
}

/// Microsoft's key sets of one run, shared by every thread.
#[derive(Debug)]
pub struct MicrosoftKeys {
    offline: bool,
    timeout: Duration,
    /// The test-only replacement of `https://{login host}` ([`TEST_BASE_ENV`]).
    base: Option<String>,
    dir: Option<PathBuf>,
    // Fetching happens under this lock: other threads need the same keys and would only wait.
    sets: Mutex<HashMap<String, Slot>>,
    missing: Mutex<Vec<String>>,
}

impl std::fmt::Debug for Slot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Slot::Ready { set, fetched } => write!(f, "Ready({} keys, fetched: {fetched})", set.len()),
            Slot::Unavailable(why) => write!(f, "Unavailable({why})"),
        }
    }
}

impl MicrosoftKeys {
    /// Reads the cache directory and the test-only base URL from the environment.
    pub fn new(offline: bool, timeout: Duration) -> Result<MicrosoftKeys> {
        if !offline && !cfg!(feature = "fetch") {
            bail!(
                "--verify: this mfacheck was built without the `fetch` feature, so it cannot fetch Microsoft's keys; \
                 give them with --jwks PATH, or add --offline to use keys cached by another build"
            );
        }
        let base = match std::env::var(TEST_BASE_ENV) {
            Ok(base) if !base.is_empty() => Some(test_base(&base)?),
            _ => None,
        };
        Ok(MicrosoftKeys {
            offline,
            timeout,
            base,
            dir: cache_dir(),
            sets: Mutex::new(HashMap::new()),
            missing: Mutex::new(Vec::new()),
        })
    }

    /// What could not be had in this run, one line each.
    pub fn missing(&self) -> Vec<String> {
        self.missing.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The keys for a token whose issuer is `iss`: from this run, the disk cache, or Microsoft.
    pub fn for_issuer(&self, iss: Option<&str>) -> Lookup {
        let Some((iss, url)) = iss.and_then(|iss| Some((iss, keys_url(iss)?))) else {
            return Lookup::NotMicrosoft;
        };
        let mut sets = self.sets.lock().unwrap_or_else(|e| e.into_inner());
        let slot = match sets.get(&url) {
            Some(slot) => slot.clone(),
            None => {
                let slot = if sets.len() >= MAX_SETS {
                    Slot::Unavailable(format!(
                        "more than {MAX_SETS} tenants' key sets in one run: {url} was not fetched (check fewer tenants per run)"
                    ))
                } else {
                    self.load(iss, &url)
                };
                if let Slot::Unavailable(why) = &slot {
                    self.missing.lock().unwrap_or_else(|e| e.into_inner()).push(why.clone());
                }
                sets.insert(url.clone(), slot.clone());
                slot
            }
        };
        match slot {
            Slot::Ready { set, .. } => Lookup::Keys { set, url },
            Slot::Unavailable(why) => Lookup::Unavailable(why),
        }
    }

    /// After a token named `kid`, unknown to the set of `url`: fetches the set again, once per run
    /// (never when it was fetched in this run already, or offline). Returns a set that has `kid`.
    pub fn refetch(&self, url: &str, kid: &str) -> Option<Arc<KeySet>> {
        let mut sets = self.sets.lock().unwrap_or_else(|e| e.into_inner());
        let Some(Slot::Ready { set, fetched }) = sets.get(url) else { return None };
        if *fetched || self.offline {
            // Another thread may have refetched it meanwhile.
            return set.has_kid(kid).then(|| set.clone());
        }
        let stale = set.clone();
        let fresh = match self.fetch(url) {
            Ok(fresh) => Arc::new(fresh),
            // The cached set stays: a failed refetch is not worth repeating for every token.
            Err(_) => stale,
        };
        sets.insert(url.to_owned(), Slot::Ready { set: fresh.clone(), fetched: true });
        fresh.has_kid(kid).then_some(fresh)
    }

    /// The disk cache when fresh (or whatever it holds, offline), else a fetch.
    fn load(&self, iss: &str, url: &str) -> Slot {
        let path = self.dir.as_ref().map(|dir| dir.join(file_name(url)));
        let cached = path.as_ref().and_then(|path| {
            let age = std::fs::metadata(path).ok()?.modified().ok()?.elapsed().unwrap_or_default();
            let bytes = std::fs::read(path).ok()?;
            let set = KeySet::from_jwks(&bytes, url).ok()?;
            Some((Arc::new(set), age < CACHE_TTL))
        });
        match cached {
            Some((set, fresh)) if fresh || self.offline => return Slot::Ready { set, fetched: false },
            _ if self.offline => {
                let place = path.map_or_else(|| "no cache directory".to_owned(), |p| p.display().to_string());
                return Slot::Unavailable(format!(
                    "--offline: Microsoft's keys for issuer {iss} ({url}) are not cached (looked in {place}); \
                     run once without --offline to fetch them"
                ));
            }
            _ => {}
        }
        match (self.fetch(url), cached) {
            (Ok(set), _) => Slot::Ready { set: Arc::new(set), fetched: true },
            // Stale keys still prove what they signed: better than none when Microsoft is out of reach.
            (Err(_), Some((set, _))) => Slot::Ready { set, fetched: true },
            (Err(e), None) => Slot::Unavailable(format!("{e:#}")),
        }
    }

    /// Fetches the set of `url` (from the test base, when set) and writes it to the disk cache.
    fn fetch(&self, url: &str) -> Result<KeySet> {
        let from = match &self.base {
            // Only scheme and host are replaced: the path is the one Microsoft's would have.
            Some(base) => format!(
                "{base}{}",
                &url[url["https://".len()..].find('/').map_or(url.len(), |at| at + "https://".len())..]
            ),
            None => url.to_owned(),
        };
        let bytes = verify::fetch(&from, self.timeout, "--verify")?;
        let set = KeySet::from_jwks(&bytes, url).map_err(|e| anyhow::anyhow!("--verify {url}: {e:#}"))?;
        if let Some(dir) = &self.dir {
            // A cache that cannot be written only costs a fetch next time.
            let _ = write_atomically(&dir.join(file_name(url)), &bytes);
        }
        Ok(set)
    }
}

/// The test-only base URL, refused unless it is plain http on loopback.
fn test_base(base: &str) -> Result<String> {
    let host = base.strip_prefix("http://").map(|rest| rest.split(['/', ':']).next().unwrap_or_default());
    let host = match base.strip_prefix("http://[") {
        Some(rest) => rest.split(']').next(),
        None => host,
    };
    match host {
        Some(host) if verify::is_loopback(host) => Ok(base.trim_end_matches('/').to_owned()),
        _ => bail!("{TEST_BASE_ENV} is for tests only and must be an http URL on a loopback host, not {base:?}"),
    }
}

/// `…/mfacheck/keys` in the platform cache directory: `$XDG_CACHE_HOME` or `~/.cache` (Linux and
/// other Unix), `~/Library/Caches` (macOS), `%LOCALAPPDATA%` (Windows).
fn cache_dir() -> Option<PathBuf> {
    let env = |name| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    let base = if cfg!(windows) {
        env("LOCALAPPDATA")
    } else if let Some(xdg) = env("XDG_CACHE_HOME") {
        Some(xdg)
    } else if cfg!(target_os = "macos") {
        env("HOME").map(|home| home.join("Library/Caches"))
    } else {
        env("HOME").map(|home| home.join(".cache"))
    };
    base.map(|base| base.join("mfacheck").join("keys"))
}

/// `login.microsoftonline.com_{tid}_discovery_v2.0_keys.json`: readable, and the URL's own
/// characters only (the tenant is a GUID, the host one of the table).
fn file_name(url: &str) -> String {
    let name: String = url["https://".len()..].chars().map(|c| if c == '/' { '_' } else { c }).collect();
    format!("{name}.json")
}

/// Another run may read the file meanwhile: it sees the old set or the new, never half of one.
fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(std::path::Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("keys"),
        std::process::id()
    ));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
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
    fn the_test_base_must_be_loopback_http() {
        assert_eq!(test_base("http://127.0.0.1:9/").unwrap(), "http://127.0.0.1:9");
        assert!(test_base("http://localhost:9").is_ok());
        assert!(test_base("http://[::1]:9").is_ok());
        for refused in [
            "https://login.microsoftonline.com",
            "http://evil.example",
            "http://127.0.0.1.evil.example:9",
            "ftp://127.0.0.1",
        ] {
            assert!(test_base(refused).is_err(), "{refused}");
        }
    }

    #[test]
    fn cache_file_names_are_plain() {
        assert_eq!(
            file_name(&format!("https://login.microsoftonline.com/{TID}/discovery/v2.0/keys")),
            format!("login.microsoftonline.com_{TID}_discovery_v2.0_keys.json")
        );
    }
}
