//! What the caller asks to be checked beyond the MFA rule (`--jwks`/`--key`/`--verify`,
//! `--issuer`, `--audience`, `--require-valid-time`, `--partner-center`) and the clock: the
//! `Policy` every judgement takes, built with `Policy::builder()`.

use crate::token::keys::Keys;
use jiff::Timestamp;
use std::sync::Arc;

/// What the caller asked to be checked beyond the MFA rule, and the clock; built with
/// [`Policy::builder`].
#[derive(Debug, Clone)]
pub struct Policy {
    pub(crate) now: Timestamp,
    /// Expired or not-yet-valid tokens are not compliant (beyond `leeway` seconds).
    pub(crate) require_valid_time: bool,
    pub(crate) leeway: i64,
    /// `--issuer`: when not empty, `iss` must be one of these.
    pub(crate) issuers: Vec<String>,
    /// `--audience`: when not empty, `aud` (or one of its elements) must be one of these.
    pub(crate) audiences: Vec<String>,
    /// `--jwks`, `--key` or `--verify`: when given, the signature must verify with one of these
    /// keys (see [`Policy::verification_requested`]).
    pub(crate) keys: Option<Arc<Keys>>,
    /// `--partner-center`: compliant only when Partner Center would accept the token as a whole
    /// (see [`crate::judge::acceptance`]).
    pub(crate) partner_center: bool,
}

impl Policy {
    /// The policy of no option at `now`: for the binary, tests and fuzz targets, which hold a
    /// `jiff` time already (a program uses [`Policy::builder`]).
    #[doc(hidden)]
    pub fn at(now: Timestamp) -> Self {
        Policy {
            now,
            require_valid_time: false,
            leeway: DEFAULT_LEEWAY,
            issuers: Vec::new(),
            audiences: Vec::new(),
            keys: None,
            partner_center: false,
        }
    }

    /// The same policy at another time (internal: `serve` judges each request at its arrival).
    #[doc(hidden)]
    pub fn with_time(&self, now: Timestamp) -> Self {
        Policy { now, ..self.clone() }
    }

    /// The time tokens are judged at (internal: outputs format it).
    #[doc(hidden)]
    pub fn time(&self) -> Timestamp {
        self.now
    }

    /// The time tokens are judged at, in Unix seconds.
    pub fn now(&self) -> i64 {
        self.now.as_second()
    }

    /// The keys signatures must verify with, when verification was asked for.
    pub fn keys(&self) -> Option<&Keys> {
        self.keys.as_deref()
    }
}

impl Policy {
    /// A policy built step by step, for a program: the clock (Unix seconds; now unless given),
    /// the time checks, the issuers and audiences required, the keys to verify with.
    ///
    /// ```
    /// let policy = mfacheck::Policy::builder().now(1_700_000_000).require_valid_time(true).build();
    /// assert!(!policy.verification_requested());
    /// ```
    pub fn builder() -> PolicyBuilder {
        PolicyBuilder { policy: Policy::at(Timestamp::now()) }
    }
}

/// Builds a [`Policy`]; see [`Policy::builder`].
#[derive(Debug, Clone)]
#[must_use]
pub struct PolicyBuilder {
    policy: Policy,
}

impl PolicyBuilder {
    /// The time tokens are judged at, in Unix seconds (a time out of range is clamped).
    pub fn now(mut self, unix_seconds: i64) -> Self {
        let clamped = unix_seconds.clamp(Timestamp::MIN.as_second(), Timestamp::MAX.as_second());
        self.policy.now = Timestamp::from_second(clamped).unwrap_or(Timestamp::UNIX_EPOCH);
        self
    }

    /// Expired and not-yet-valid tokens are not compliant (beyond the leeway).
    pub fn require_valid_time(mut self, require: bool) -> Self {
        self.policy.require_valid_time = require;
        self
    }

    /// Seconds of clock skew tolerated by [`PolicyBuilder::require_valid_time`] (300 unless set).
    pub fn leeway(mut self, seconds: i64) -> Self {
        self.policy.leeway = seconds;
        self
    }

    /// An issuer `iss` may be; once one is given, `iss` must be one of them.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.policy.issuers.push(issuer.into());
        self
    }

    /// An audience `aud` may be (a URL or application id, either spelling of a well-known API);
    /// once one is given, `aud` must be one of them.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.policy.audiences.push(audience.into());
        self
    }

    /// The keys signatures must verify with: then only a verified signature can be compliant.
    pub fn keys(mut self, keys: Arc<Keys>) -> Self {
        self.policy.keys = Some(keys);
        self
    }

    /// Compliant only when Partner Center would accept the token as a whole (audience, expiry,
    /// signature), not only its MFA rule.
    pub fn partner_center(mut self, whole: bool) -> Self {
        self.policy.partner_center = whole;
        self
    }

    /// Replaces the audiences required (none: any audience).
    pub fn audiences(mut self, audiences: Vec<String>) -> Self {
        self.policy.audiences = audiences;
        self
    }

    /// Replaces the issuers required (none: any issuer).
    pub fn issuers(mut self, issuers: Vec<String>) -> Self {
        self.policy.issuers = issuers;
        self
    }

    /// The keys to verify with, when given.
    pub fn maybe_keys(mut self, keys: Option<Arc<Keys>>) -> Self {
        self.policy.keys = keys;
        self
    }

    pub fn build(self) -> Policy {
        self.policy
    }
}

impl Policy {
    /// Verification was asked for (`--jwks`, `--key`, `--verify`, and any option that implies
    /// one of them): then only a `verified` signature can be compliant (SPEC §2).
    pub fn verification_requested(&self) -> bool {
        self.keys.is_some()
    }
}

/// Seconds of clock skew tolerated by `--require-valid-time`.
pub const DEFAULT_LEEWAY: i64 = 300;
