//! What `scan` found: each distinct token (or an input that could not be read) where it was first
//! found, with the times it was found, in the order first found. The text search and the HAR
//! reader both add to it; memory grows with distinct tokens only.

use crate::error::InputError;
use serde::Serialize;
use std::collections::HashMap;

/// The distinct tokens seen, by their text: foldhash, seeded at random per process (tokens come
/// from the input, so a fixed hash could be flooded), a fraction of SipHash's cost on every token.
pub(super) type Index<K> = HashMap<K, usize, foldhash::fast::RandomState>;

/// The rank of a sighting within a HAR: (pass, entry, order) as the whole-document reading
/// would have met it.
pub type Rank = (u8, usize, usize);

/// One distinct token (or an input that could not be read), where it was first found, and how
/// many times it was found in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sighting {
    pub token: Result<String, InputError>,
    /// `PATH:LINE` (`stdin:LINE`) for text; `PATH:entry-N` for the N-th entry of a HAR file.
    pub source: String,
    /// The request of the HAR entry the token was first found in.
    pub request: Option<Request>,
    pub count: usize,
}

/// The HTTP request of a HAR entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Request {
    pub method: String,
    pub url: String,
}

/// The distinct tokens found, in the order first found; memory grows with distinct tokens only.
#[derive(Debug, Default)]
pub struct Findings {
    pub(super) index: Index<String>,
    pub(super) sightings: Vec<Sighting>,
    /// Every occurrence, counting repeats.
    pub occurrences: usize,
    /// The rank of each sighting of the HAR being read (from `ranked_from`), see [`Rank`].
    ranks: Vec<Rank>,
    ranked_from: usize,
    /// What went wrong without stopping the scan (a truncated HAR), for stderr.
    pub warnings: Vec<String>,
}

impl Findings {
    /// A sighting in a HAR: it is reported where it ranks first in the file.
    pub(super) fn add_ranked(
        &mut self,
        token: &str,
        rank: Rank,
        source: impl FnOnce() -> String,
        request: Option<&Request>,
    ) {
        if let Some(&i) = self.index.get(token)
            && i >= self.ranked_from
        {
            self.occurrences += 1;
            let at = i - self.ranked_from;
            self.sightings[i].count += 1;
            if rank < self.ranks[at] {
                self.ranks[at] = rank;
                self.sightings[i].source = source();
                self.sightings[i].request = request.cloned();
            }
            return;
        }
        let before = self.sightings.len();
        self.add(token, source, request);
        if self.sightings.len() > before {
            self.ranks.push(rank);
        }
    }

    /// Starts the ranked sightings of one HAR.
    pub(super) fn start_ranked(&mut self) {
        self.ranked_from = self.sightings.len();
        self.ranks.clear();
    }

    /// Puts the sightings of the HAR just read in rank order: the order of the whole-document
    /// reading (every Authorization header first, then the other strings).
    pub(super) fn finish_ranked(&mut self) {
        let from = self.ranked_from;
        let mut ranked: Vec<(Rank, Sighting)> =
            std::mem::take(&mut self.ranks).into_iter().zip(self.sightings.drain(from..)).collect();
        ranked.sort_by_key(|(rank, _)| *rank);
        for (_, sighting) in ranked {
            if let Ok(token) = &sighting.token {
                self.index.insert(token.clone(), self.sightings.len());
            }
            self.sightings.push(sighting);
        }
        self.ranked_from = self.sightings.len();
    }

    pub(super) fn add(&mut self, token: &str, source: impl FnOnce() -> String, request: Option<&Request>) {
        self.occurrences += 1;
        if let Some(&i) = self.index.get(token) {
            self.sightings[i].count += 1;
            return;
        }
        self.index.insert(token.to_owned(), self.sightings.len());
        self.sightings.push(Sighting {
            token: Ok(token.to_owned()),
            source: source(),
            request: request.cloned(),
            count: 1,
        });
    }

    /// `count` occurrences of `token`, the first of them at `source`, with the index given (`scan`
    /// lends its index to the workers of a text search, and adds with it meanwhile).
    pub(super) fn add_many(
        &mut self,
        index: &mut Index<String>,
        token: String,
        count: usize,
        source: impl FnOnce() -> String,
    ) {
        self.occurrences += count;
        if let Some(&i) = index.get(&token) {
            self.sightings[i].count += count;
            return;
        }
        index.insert(token.clone(), self.sightings.len());
        self.sightings.push(Sighting { token: Ok(token), source: source(), request: None, count });
    }

    /// The sightings so far, in the order first found (and, for a HAR read, in rank order).
    pub fn sightings(&self) -> &[Sighting] {
        &self.sightings
    }

    pub(super) fn error(&mut self, source: String, error: InputError) {
        self.sightings.push(Sighting { token: Err(error), source, request: None, count: 1 });
    }

    pub fn into_sightings(self) -> Vec<Sighting> {
        self.sightings
    }
}
