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
//! Key sets are cached on disk ([`crate::token::keys::cache`]) and in memory for [`CACHE_TTL`]; a
//! token naming a `kid` the set lacks causes a refetch, at most one per issuer and
//! [`REFETCH_INTERVAL`] (key rollover, also in a long-running `serve`). `--offline` uses the
//! cache alone and records what is missing.

use super::fetch::{fetch, is_loopback};
use super::set::KeySet;
use crate::token::issuer::keys_url;
use crate::token::keys::cache::{Cached, KeyCache};
use anyhow::{Result, bail};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a cached key set is used without asking Microsoft again.
pub const CACHE_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// TEST ONLY: replaces `https://{Microsoft login host}` in key URLs by this loopback base URL
/// (e.g. `http://127.0.0.1:8080`), so tests can stand a local server in for Microsoft. Anything
/// but a loopback URL is refused. Not an option for users: it is not in `--help`.
pub const TEST_BASE_ENV: &str = "MFACHECK_TEST_LOGIN_BASE";

/// The least often an issuer's keys are fetched again for a `kid` they lack, and how long keys
/// that could not be had stay so before they are asked for again.
pub const REFETCH_INTERVAL: Duration = Duration::from_secs(60);

/// Key sets held in memory at most (one per tenant seen), the least recently used evicted first:
/// bounds memory on a stream of tokens from many tenants.
pub const MAX_SETS: usize = 32;

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
    Ready {
        set: Arc<KeySet>,
        /// When to load the set again (the cache's freshness, or a minute for stale keys kept
        /// because no fresh ones could be had).
        until: Instant,
        /// The last fetch for a `kid` the set lacked.
        refetched: Option<Instant>,
    },
    /// Asked again after [`REFETCH_INTERVAL`]: a long-running `serve` recovers from an outage.
    Unavailable { why: String, until: Instant },
}

impl Slot {
    fn current(&self) -> bool {
        let (Slot::Ready { until, .. } | Slot::Unavailable { until, .. }) = self;
        Instant::now() < *until
    }
}

impl std::fmt::Debug for Slot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Slot::Ready { set, refetched, .. } => {
                write!(f, "Ready({} keys, refetched: {})", set.len(), refetched.is_some())
            }
            Slot::Unavailable { why, .. } => write!(f, "Unavailable({why})"),
        }
    }
}

/// The key sets in memory, at most [`MAX_SETS`], the least recently used one evicted for a new
/// one: a flood of issuers costs their fetches, but never locks a genuine tenant out.
#[derive(Debug, Default)]
struct Sets {
    slots: HashMap<String, (Slot, u64)>,
    /// Counts look-ups: the tick of each slot's last use.
    tick: u64,
}

impl Sets {
    /// The slot of `url` when current, marked used.
    fn get(&mut self, url: &str) -> Option<Slot> {
        self.tick += 1;
        let tick = self.tick;
        let (slot, used) = self.slots.get_mut(url)?;
        *used = tick;
        slot.current().then(|| slot.clone())
    }

    fn insert(&mut self, url: &str, slot: Slot) {
        if !self.slots.contains_key(url) && self.slots.len() >= MAX_SETS {
            let oldest = self.slots.iter().min_by_key(|(_, (_, used))| *used).map(|(url, _)| url.clone());
            if let Some(oldest) = oldest {
                self.slots.remove(&oldest);
            }
        }
        self.tick += 1;
        self.slots.insert(url.to_owned(), (slot, self.tick));
    }
}

/// What could not be had, one line each, at most [`MAX_SETS`] lines (and how many more).
#[derive(Debug, Default)]
struct Missing {
    lines: Vec<String>,
    more: usize,
}

/// Microsoft's key sets of one run (or one `serve`), shared by every thread.
#[derive(Debug)]
pub struct MicrosoftKeys {
    offline: bool,
    timeout: Duration,
    /// The test-only replacement of `https://{login host}` ([`TEST_BASE_ENV`]).
    base: Option<String>,
    cache: Option<KeyCache>,
    // Fetching happens under this lock: other threads need the same keys and would only wait.
    sets: Mutex<Sets>,
    missing: Mutex<Missing>,
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
            cache: KeyCache::new(base.as_deref()),
            base,
            sets: Mutex::new(Sets::default()),
            missing: Mutex::new(Missing::default()),
        })
    }

    /// What could not be had in this run, one line each.
    pub fn missing(&self) -> Vec<String> {
        let missing = self.missing.lock().unwrap_or_else(|e| e.into_inner());
        let mut lines = missing.lines.clone();
        if missing.more > 0 {
            lines.push(format!("… and {} more key set(s) could not be had", missing.more));
        }
        lines
    }

    /// The keys for a token whose issuer is `iss`: from memory, the disk cache, or Microsoft.
    pub fn for_issuer(&self, iss: Option<&str>) -> Lookup {
        let Some((iss, url)) = iss.and_then(|iss| Some((iss, keys_url(iss)?))) else {
            return Lookup::NotMicrosoft;
        };
        let mut sets = self.sets.lock().unwrap_or_else(|e| e.into_inner());
        let slot = match sets.get(&url) {
            Some(slot) => slot,
            None => {
                let slot = self.load(iss, &url);
                if let Slot::Unavailable { why, .. } = &slot {
                    self.note_missing(why);
                }
                sets.insert(&url, slot.clone());
                slot
            }
        };
        match slot {
            Slot::Ready { set, .. } => Lookup::Keys { set, url },
            Slot::Unavailable { why, .. } => Lookup::Unavailable(why),
        }
    }

    fn note_missing(&self, why: &str) {
        let mut missing = self.missing.lock().unwrap_or_else(|e| e.into_inner());
        if missing.lines.iter().any(|line| line == why) {
            return;
        }
        if missing.lines.len() < MAX_SETS {
            missing.lines.push(why.to_owned());
        } else {
            missing.more += 1;
        }
    }

    /// After a token named `kid`, unknown to the set of `url`: fetches the set again, at most once
    /// per [`REFETCH_INTERVAL`] (never offline). Returns a set that has `kid`.
    pub fn refetch(&self, url: &str, kid: &str) -> Option<Arc<KeySet>> {
        let mut sets = self.sets.lock().unwrap_or_else(|e| e.into_inner());
        let Some((Slot::Ready { set, until, refetched }, _)) = sets.slots.get_mut(url) else { return None };
        // Another thread may have refetched it meanwhile.
        if set.has_kid(kid) {
            return Some(set.clone());
        }
        if self.offline || refetched.is_some_and(|at| at.elapsed() < REFETCH_INTERVAL) {
            return None;
        }
        *refetched = Some(Instant::now());
        // A failed refetch keeps the set: it still proves what it signed.
        if let Ok(fresh) = self.fetch(url) {
            *set = Arc::new(fresh);
            *until = Instant::now() + CACHE_TTL;
        }
        set.has_kid(kid).then(|| set.clone())
    }

    /// The disk cache when fresh (or whatever it holds, offline), else a fetch.
    fn load(&self, iss: &str, url: &str) -> Slot {
        let name = file_name(url);
        let retry = || Instant::now() + REFETCH_INTERVAL;
        let cached = match self.cache.as_ref().map(|cache| cache.read(&name, CACHE_TTL)) {
            None | Some(Cached::Missing) => Ok(None),
            // Validated as a fetched set is: the file is no more trusted than the network.
            Some(Cached::Found { bytes, fresh_for }) => match KeySet::from_jwks(&bytes, url) {
                Ok(set) => Ok(Some((Arc::new(set), fresh_for))),
                Err(e) => Err(format!("the cached keys at {} are not a usable key set: {e:#}", self.place(&name))),
            },
            Some(Cached::Unreadable(why)) => Err(why),
        };
        let ready = |set, until| Slot::Ready { set, until, refetched: None };
        match cached {
            Ok(Some((set, Some(fresh_for)))) => return ready(set, Instant::now() + fresh_for),
            Ok(Some((set, None))) if self.offline => return ready(set, retry()),
            Ok(None) if self.offline => {
                return Slot::Unavailable {
                    why: format!(
                        "--offline: Microsoft's keys for issuer {iss} ({url}) are not cached (looked in {}); \
                         run once without --offline to fetch them",
                        self.place(&name)
                    ),
                    until: retry(),
                };
            }
            Err(why) if self.offline => {
                return Slot::Unavailable {
                    why: format!("--offline: Microsoft's keys for issuer {iss} ({url}): {why}"),
                    until: retry(),
                };
            }
            _ => {}
        }
        match (self.fetch(url), cached) {
            (Ok(set), _) => ready(Arc::new(set), Instant::now() + CACHE_TTL),
            // Stale keys still prove what they signed: better than none when Microsoft is out of reach.
            (Err(_), Ok(Some((set, _)))) => ready(set, retry()),
            (Err(e), _) => Slot::Unavailable { why: format!("{e:#}"), until: retry() },
        }
    }

    fn place(&self, name: &str) -> String {
        self.cache.as_ref().map_or_else(|| "no cache directory".to_owned(), |c| c.path(name).display().to_string())
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
        let bytes = fetch(&from, self.timeout, "--verify")?;
        let set = KeySet::from_jwks(&bytes, url).map_err(|e| anyhow::anyhow!("--verify {url}: {e:#}"))?;
        if let Some(cache) = &self.cache {
            // A cache that cannot be written only costs a fetch next time.
            let _ = cache.write(&file_name(url), &bytes);
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
        Some(host) if is_loopback(host) => Ok(base.trim_end_matches('/').to_owned()),
        _ => bail!("{TEST_BASE_ENV} is for tests only and must be an http URL on a loopback host, not {base:?}"),
    }
}

/// `login.microsoftonline.com_{tid}_discovery_v2.0_keys.json`: readable, and the URL's own
/// characters only (the tenant is a GUID, the host one of the table).
fn file_name(url: &str) -> String {
    let name: String = url["https://".len()..].chars().map(|c| if c == '/' { '_' } else { c }).collect();
    format!("{name}.json")
}

#[cfg(test)]
mod tests {
    use super::*;

    const TID: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

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
    fn the_least_recently_used_set_is_evicted() {
        let slot = || Slot::Unavailable { why: String::new(), until: Instant::now() + REFETCH_INTERVAL };
        let mut sets = Sets::default();
        for i in 0..MAX_SETS {
            sets.insert(&format!("u{i}"), slot());
        }
        // u0 is used again: u1 is now the one least recently used.
        assert!(sets.get("u0").is_some());
        sets.insert("new", slot());
        assert_eq!(sets.slots.len(), MAX_SETS);
        assert!(sets.slots.contains_key("u0") && sets.slots.contains_key("new"));
        assert!(!sets.slots.contains_key("u1"));
    }

    #[test]
    fn cache_file_names_are_plain() {
        assert_eq!(
            file_name(&format!("https://login.microsoftonline.com/{TID}/discovery/v2.0/keys")),
            format!("login.microsoftonline.com_{TID}_discovery_v2.0_keys.json")
        );
    }
}
