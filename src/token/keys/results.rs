//! A bounded cache of signature-check results, so that a token seen many times in a stream (a log
//! where each token appears once per request) costs one verification per run.
//!
//! Entries are keyed by the SHA-256 of the key set's identity, the SHA-256 of the token's signing
//! input (which verification then reuses) and its signature: a cryptographic digest, because a
//! fast hash could be collided on purpose to pass a forged token off as one already verified.
//! Memory stays flat on any stream: the map is
//! split into shards of fixed capacity, and a full shard drops an arbitrary entry (digests are
//! uniformly spread, so this is random eviction) before taking a new one. Shards keep two threads
//! from waiting on each other.

use crate::token::signature::Verification;
use aws_lc_rs::digest::{self, Digest};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Mutex;

/// Entries in all, unless [`VerifyCache::with_capacity`] says otherwise: about 1.5 MiB at most,
/// and far more distinct tokens than the requests of one log usually hold.
pub const DEFAULT_CAPACITY: usize = 8192;

const SHARDS: usize = 16;

/// The digest that names one (key set, token) pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheKey([u8; 32]);

impl std::hash::Hash for CacheKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Already a uniform digest: 8 of its bytes are the hash, nothing to mix.
        state.write_u64(u64::from_le_bytes([
            self.0[0], self.0[1], self.0[2], self.0[3], self.0[4], self.0[5], self.0[6], self.0[7],
        ]));
    }
}

/// Shared by every thread of a run (behind the `Keys` that owns it).
#[derive(Debug)]
pub struct VerifyCache {
    shards: Box<[Mutex<Shard>]>,
    per_shard: usize,
}

type Shard = HashMap<CacheKey, Verification, BuildHasherDefault<DigestHasher>>;

impl Default for VerifyCache {
    fn default() -> Self {
        VerifyCache::with_capacity(DEFAULT_CAPACITY)
    }
}

impl VerifyCache {
    /// A cache that never holds more than `capacity` entries (rounded up to a multiple of 16).
    pub fn with_capacity(capacity: usize) -> Self {
        let per_shard = capacity.div_ceil(SHARDS).max(1);
        let shards = (0..SHARDS).map(|_| Mutex::new(Shard::with_capacity_and_hasher(per_shard, Default::default())));
        VerifyCache { shards: shards.collect(), per_shard }
    }

    /// The key of `token` checked against the key set named `scope`, and the SHA-256 of the
    /// token's signing input (`None` for a token without a `.`), which verifying a signature
    /// made over that hash then reuses: a token is hashed once, not twice.
    pub fn key(scope: u64, token: &str) -> (CacheKey, Option<Digest>) {
        // aws-lc's SHA-256 (SHA-NI where the CPU has it): the RustCrypto one took 2.5 times as long,
        // a tenth of the CPU of verifying a stream of distinct tokens.
        let mut key = digest::Context::new(&digest::SHA256);
        key.update(&scope.to_le_bytes());
        let signing_input = token.rsplit_once('.').map(|(input, signature)| {
            let input = digest::digest(&digest::SHA256, input.as_bytes());
            // Fixed-size parts first, the signature last: two tokens never give the same bytes.
            key.update(&[1]);
            key.update(input.as_ref());
            key.update(signature.as_bytes());
            input
        });
        if signing_input.is_none() {
            key.update(&[0]);
            key.update(token.as_bytes());
        }
        let mut bytes = [0; 32];
        bytes.copy_from_slice(key.finish().as_ref());
        (CacheKey(bytes), signing_input)
    }

    pub fn get(&self, key: &CacheKey) -> Option<Verification> {
        self.shard(key).get(key).cloned()
    }

    pub fn insert(&self, key: CacheKey, value: Verification) {
        let mut shard = self.shard(&key);
        if shard.len() >= self.per_shard && !shard.contains_key(&key) {
            // Random eviction: the first digest in iteration order is as good as any.
            if let Some(victim) = shard.keys().next().copied() {
                shard.remove(&victim);
            }
        }
        shard.insert(key, value);
    }

    /// Entries held now.
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn capacity(&self) -> usize {
        self.per_shard * SHARDS
    }

    fn shard(&self, key: &CacheKey) -> std::sync::MutexGuard<'_, Shard> {
        // A panic elsewhere cannot leave a half-written entry: the map is still usable.
        self.shards[key.0[31] as usize % SHARDS].lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Passes on the `u64` a [`CacheKey`] hashes to.
#[derive(Default)]
pub struct DigestHasher(u64);

impl Hasher for DigestHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write_u64(&mut self, hash: u64) {
        self.0 = hash;
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only CacheKey is hashed here, through write_u64; fold anything else in all the same.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::signature::Signature;

    fn verified(detail: &str) -> Verification {
        Verification { signature: Signature::Verified, detail: detail.into() }
    }

    #[test]
    fn hits_return_what_was_stored_and_scopes_do_not_mix() {
        let cache = VerifyCache::default();
        let a = VerifyCache::key(1, "eyJ.a.b").0;
        cache.insert(a, verified("RS256, key \"k\""));
        assert_eq!(cache.get(&a), Some(verified("RS256, key \"k\"")));
        assert_eq!(cache.get(&VerifyCache::key(2, "eyJ.a.b").0), None, "another key set");
        assert_eq!(cache.get(&VerifyCache::key(1, "eyJ.a.c").0), None, "another signature");
    }

    #[test]
    fn never_holds_more_than_its_capacity() {
        let cache = VerifyCache::with_capacity(64);
        assert_eq!(cache.capacity(), 64);
        for i in 0..10_000 {
            cache.insert(VerifyCache::key(0, &format!("token-{i}")).0, verified(""));
            assert!(cache.len() <= 64, "{} entries after {i} inserts", cache.len());
        }
        // Full, yet it still takes new entries.
        assert!(cache.len() > 48, "{}", cache.len());
        let last = VerifyCache::key(0, "token-9999").0;
        assert!(cache.get(&last).is_some(), "the newest entry survives its own insertion");
    }

    #[test]
    fn a_working_set_within_capacity_stays_whole() {
        // 2,000 distinct tokens repeated (the stream) all hit after the first pass.
        let cache = VerifyCache::default();
        let keys: Vec<CacheKey> = (0..2000).map(|i| VerifyCache::key(7, &format!("t{i}")).0).collect();
        for k in &keys {
            cache.insert(*k, verified(""));
        }
        assert_eq!(keys.iter().filter(|k| cache.get(k).is_some()).count(), 2000);
    }

    #[test]
    fn two_threads_share_it() {
        let cache = std::sync::Arc::new(VerifyCache::with_capacity(256));
        let workers: Vec<_> = (0..2)
            .map(|t| {
                let cache = cache.clone();
                std::thread::spawn(move || {
                    let mut hits = 0;
                    for i in 0..5_000 {
                        let k = VerifyCache::key(0, &format!("{t}-{i}")).0;
                        cache.insert(k, verified(""));
                        hits += usize::from(cache.get(&k).is_some());
                    }
                    hits
                })
            })
            .collect();
        for w in workers {
            // The other thread may evict an entry between insert and get, but seldom.
            assert!(w.join().unwrap() > 4_500);
        }
        assert!(cache.len() <= 256 && cache.len() > 200, "{}", cache.len());
    }
}
