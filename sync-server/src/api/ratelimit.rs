//! Rate limits on enrolment, so enrolment codes cannot be guessed: a budget of attempts per
//! source address in any minute, a lockout of a source after repeated wrong codes, and one
//! budget for all sources together (many addresses guessing at once). Refusals are
//! `429 rate_limited` with `Retry-After`.
//!
//! The counts live in the database (the storage's `enroll_attempt`, `enroll_failed`,
//! `enroll_succeeded`), behind [`EnrollLimiter`]'s three calls: every server instance on the
//! same database shares them (a lockout earned through one holds on the others), and a
//! restart does not reset them. This module decides where an attempt comes from and answers
//! refusals; the storage counts, in sliding windows. Instances compare their clocks through
//! the stored times, so they should keep them in step (NTP), as any cluster does.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::{
    Json,
    extract::ConnectInfo,
    http::{HeaderMap, HeaderValue, StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use madadkar_schema::wire::ErrorBody;
use tracing::warn;

use crate::storage::{EnrollBudget, EnrollRefusal, Storage, StorageError};

/// The enrolment limits (settings `enroll_per_minute`, `enroll_global_per_minute`,
/// `enroll_lockout_failures`, `enroll_lockout_minutes`, `trusted_proxies`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrollLimits {
    /// Attempts from one source in any minute.
    pub per_source_per_minute: u32,
    /// Attempts from all sources together in any minute.
    pub global_per_minute: u32,
    /// Wrong codes from one source, within `lockout`, that lock it out.
    pub lockout_failures: u32,
    /// How long a lockout lasts, and the window in which wrong codes count towards one.
    pub lockout: Duration,
    /// Reverse proxies whose `X-Forwarded-For` is believed. Empty (the default): the header is
    /// ignored, since any client can send it.
    pub trusted_proxies: Vec<IpAddr>,
}

impl Default for EnrollLimits {
    /// A worker types a code once or twice; a training room of thirty laptops behind one
    /// address enrols within a few minutes. A guesser gets ten tries a minute, then a quarter
    /// of an hour's pause after twenty wrong ones, against 60-bit codes.
    fn default() -> Self {
        Self {
            per_source_per_minute: 10,
            global_per_minute: 100,
            lockout_failures: 20,
            lockout: Duration::from_secs(15 * 60),
            trusted_proxies: vec![],
        }
    }
}

/// Where an attempt comes from. IPv6 addresses count by their /64 network, which one
/// subscriber usually holds whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    Address(IpAddr),
    /// The peer's address is not known: a request handed to the router in process, without
    /// `ConnectInfo`. All of them share one budget (logged once as a warning).
    Unknown,
}

impl Source {
    fn of_ip(ip: IpAddr) -> Self {
        let ip = match ip {
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => {
                    let s = v6.segments();
                    IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
                }
            },
            v4 => v4,
        };
        Self::Address(ip)
    }

    /// The key the storage counts this source under: the address (an IPv6 one as its /64
    /// network, `2001:db8:1:2::`), or `unknown`.
    pub fn key(&self) -> String {
        match self {
            Self::Address(ip) => ip.to_string(),
            Self::Unknown => "unknown".into(),
        }
    }

    /// The request's source: the TCP peer, or, when the peer is a trusted proxy, the nearest
    /// address in `X-Forwarded-For` that is not itself a trusted proxy.
    pub fn of(parts: &Parts, trusted_proxies: &[IpAddr]) -> Self {
        let Some(ConnectInfo(peer)) = parts.extensions.get::<ConnectInfo<SocketAddr>>() else {
            return Self::Unknown;
        };
        let peer = peer.ip();
        if !trusted_proxies.contains(&peer) {
            return Self::of_ip(peer);
        }
        match forwarded_client(&parts.headers, trusted_proxies) {
            Some(client) => Self::of_ip(client),
            None => {
                // A trusted proxy that names no client: every request through it shares its
                // budget, which is safe but may refuse honest users; say so.
                warn!(%peer, "trusted proxy sent no usable X-Forwarded-For; limiting by the proxy's address");
                Self::of_ip(peer)
            }
        }
    }
}

/// The right-most address of `X-Forwarded-For` that is not a trusted proxy: entries further
/// left were written by the client and prove nothing.
fn forwarded_client(headers: &HeaderMap, trusted_proxies: &[IpAddr]) -> Option<IpAddr> {
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    for entry in entries.iter().rev() {
        let ip: IpAddr = entry.parse().ok()?;
        if !trusted_proxies.contains(&ip) {
            return Some(ip);
        }
    }
    None
}

/// Why an attempt is refused, and when it may be made again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// This source used up its attempts for now.
    SourceRate { retry_after: Duration },
    /// This source gave too many wrong codes.
    LockedOut { retry_after: Duration },
    /// All sources together used up the attempts for now.
    Global { retry_after: Duration },
}

impl Refusal {
    pub fn retry_after(&self) -> Duration {
        match self {
            Self::SourceRate { retry_after }
            | Self::LockedOut { retry_after }
            | Self::Global { retry_after } => *retry_after,
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let wait = whole_seconds(self.retry_after());
        let message = match self {
            Self::SourceRate { .. } => {
                format!("too many enrolment attempts from your address; try again in {wait} s")
            }
            Self::LockedOut { .. } => {
                format!("too many wrong enrolment codes from your address; try again in {wait} s")
            }
            Self::Global { .. } => {
                format!("the server is taking too many enrolments; try again in {wait} s")
            }
        };
        too_many_requests("rate_limited", message, true, Some(self.retry_after()))
    }
}

/// Seconds for `Retry-After` and messages: rounded up, at least one.
pub fn whole_seconds(d: Duration) -> u64 {
    (d.as_secs() + u64::from(d.subsec_nanos() > 0)).max(1)
}

/// A `429` answer with the JSON error body and, when known, `Retry-After` in seconds.
pub fn too_many_requests(
    code: &str,
    message: String,
    retry: bool,
    retry_after: Option<Duration>,
) -> Response {
    let body = ErrorBody {
        code: code.into(),
        message,
        retry,
        households: vec![],
    };
    let mut response = (StatusCode::TOO_MANY_REQUESTS, Json(body)).into_response();
    if let Some(wait) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(whole_seconds(wait)));
    }
    response
}

/// The enrolment limits' calls: each asks the storage, where the counts live for every server
/// instance together; see the module's documentation.
#[derive(Debug)]
pub struct EnrollLimiter {
    limits: EnrollLimits,
    warned_unknown: AtomicBool,
}

impl EnrollLimiter {
    pub fn new(limits: EnrollLimits) -> Self {
        Self {
            limits,
            warned_unknown: AtomicBool::new(false),
        }
    }

    pub fn limits(&self) -> &EnrollLimits {
        &self.limits
    }

    fn budget(&self) -> EnrollBudget {
        let l = &self.limits;
        EnrollBudget {
            per_source_per_minute: l.per_source_per_minute,
            global_per_minute: l.global_per_minute,
            lockout_failures: l.lockout_failures,
            lockout: l.lockout,
        }
    }

    /// Takes one attempt for `source` at `now`, or says why not and for how long (the outer
    /// error: the storage failed).
    pub fn attempt<S: Storage>(
        &self,
        storage: &S,
        source: Source,
        now: DateTime<Utc>,
    ) -> Result<Result<(), Refusal>, StorageError> {
        if source == Source::Unknown && !self.warned_unknown.swap(true, Ordering::Relaxed) {
            warn!(
                "enrolment without a peer address (served without ConnectInfo): all such attempts share one rate-limit budget"
            );
        }
        let wait = |until: DateTime<Utc>| (until - now).to_std().unwrap_or(Duration::ZERO);
        Ok(
            match storage.enroll_attempt(&source.key(), &self.budget(), now)? {
                None => Ok(()),
                Some(EnrollRefusal::LockedOut { until }) => Err(Refusal::LockedOut {
                    retry_after: wait(until),
                }),
                Some(EnrollRefusal::SourceRate { until }) => Err(Refusal::SourceRate {
                    retry_after: wait(until),
                }),
                Some(EnrollRefusal::Global { until }) => Err(Refusal::Global {
                    retry_after: wait(until),
                }),
            },
        )
    }

    /// Counts a wrong code from `source`; enough of them within the window lock it out.
    pub fn failed<S: Storage>(
        &self,
        storage: &S,
        source: Source,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        if storage.enroll_failed(&source.key(), &self.budget(), now)? {
            warn!(
                ?source,
                "enrolment source locked out after repeated wrong codes"
            );
        }
        Ok(())
    }

    /// A code worked: the source's earlier wrong codes are forgiven.
    pub fn succeeded<S: Storage>(&self, storage: &S, source: Source) -> Result<(), StorageError> {
        storage.enroll_succeeded(&source.key())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::sqlite::SqliteStorage;

    fn limits() -> EnrollLimits {
        EnrollLimits {
            per_source_per_minute: 3,
            global_per_minute: 5,
            lockout_failures: 2,
            lockout: Duration::from_secs(60),
            trusted_proxies: vec![],
        }
    }

    fn ip(s: &str) -> Source {
        Source::of_ip(s.parse().expect("ip"))
    }

    /// A limiter over a real database in a temporary directory.
    struct Limited {
        _dir: tempfile::TempDir,
        storage: SqliteStorage,
        limiter: EnrollLimiter,
    }

    impl Limited {
        fn new() -> Self {
            let dir = tempfile::tempdir().expect("tempdir");
            let storage = SqliteStorage::open(&dir.path().join("s.sqlite3")).expect("storage");
            Self {
                _dir: dir,
                storage,
                limiter: EnrollLimiter::new(limits()),
            }
        }

        fn attempt(&self, source: Source, now: DateTime<Utc>) -> Result<(), Refusal> {
            self.limiter
                .attempt(&self.storage, source, now)
                .expect("storage")
        }

        fn failed(&self, source: Source, now: DateTime<Utc>) {
            self.limiter
                .failed(&self.storage, source, now)
                .expect("storage");
        }
    }

    fn t0() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).expect("time")
    }

    fn secs(n: u64) -> chrono::Duration {
        chrono::Duration::seconds(n as i64)
    }

    #[test]
    fn a_source_gets_its_budget_then_waits_for_the_oldest_attempt_to_leave_the_minute() {
        let l = Limited::new();
        let now = t0();
        l.attempt(ip("10.0.0.1"), now).expect("first");
        for _ in 0..2 {
            l.attempt(ip("10.0.0.1"), now + secs(10))
                .expect("within the budget");
        }
        let refused = l.attempt(ip("10.0.0.1"), now + secs(20)).expect_err("over");
        // Three a minute: the first attempt leaves the minute at 60 s.
        assert_eq!(
            refused,
            Refusal::SourceRate {
                retry_after: Duration::from_secs(40)
            }
        );
        // Another source is not affected.
        l.attempt(ip("10.0.0.2"), now + secs(20))
            .expect("other source");
        l.attempt(ip("10.0.0.1"), now + secs(60))
            .expect("one attempt left the minute");
        assert!(matches!(
            l.attempt(ip("10.0.0.1"), now + secs(61)),
            Err(Refusal::SourceRate { .. })
        ));
    }

    #[test]
    fn the_global_budget_caps_many_sources() {
        let l = Limited::new();
        let now = t0();
        for i in 0..5 {
            l.attempt(ip(&format!("10.0.1.{i}")), now)
                .expect("within the global cap");
        }
        assert_eq!(
            l.attempt(ip("10.0.1.99"), now + secs(15)),
            Err(Refusal::Global {
                retry_after: Duration::from_secs(45)
            })
        );
    }

    #[test]
    fn wrong_codes_lock_a_source_out_and_a_success_forgives() {
        let l = Limited::new();
        let now = t0();
        let s = ip("10.0.0.1");
        l.attempt(s, now).expect("first");
        l.failed(s, now);
        l.limiter.succeeded(&l.storage, s).expect("storage");
        l.attempt(s, now).expect("second");
        l.failed(s, now);
        assert_eq!(l.attempt(s, now).map_err(|r| r.retry_after()), Ok(()));
        l.failed(s, now);
        assert_eq!(
            l.attempt(s, now + secs(30)),
            Err(Refusal::LockedOut {
                retry_after: Duration::from_secs(30)
            })
        );
        l.attempt(s, now + secs(61)).expect("the lockout ended");
    }

    #[test]
    fn ipv6_counts_by_network_and_mapped_ipv4_as_ipv4() {
        assert_eq!(ip("2001:db8:1:2:aaaa::1"), ip("2001:db8:1:2:bbbb::9"));
        assert_ne!(ip("2001:db8:1:2::1"), ip("2001:db8:1:3::1"));
        assert_eq!(ip("::ffff:192.0.2.7"), ip("192.0.2.7"));
        assert_eq!(ip("2001:db8:1:2:aaaa::1").key(), "2001:db8:1:2::");
        assert_eq!(Source::Unknown.key(), "unknown");
    }

    #[test]
    fn forwarded_for_is_read_right_to_left_past_trusted_proxies_only() {
        let proxy: IpAddr = "10.0.0.9".parse().expect("ip");
        let mut headers = HeaderMap::new();
        headers.append(
            "x-forwarded-for",
            HeaderValue::from_static("1.1.1.1, 203.0.113.5"),
        );
        headers.append("x-forwarded-for", HeaderValue::from_static("10.0.0.9"));
        assert_eq!(
            forwarded_client(&headers, &[proxy]),
            Some("203.0.113.5".parse().expect("ip"))
        );
        let mut junk = HeaderMap::new();
        junk.append("x-forwarded-for", HeaderValue::from_static("not-an-ip"));
        assert_eq!(forwarded_client(&junk, &[proxy]), None);
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(whole_seconds(Duration::from_millis(1)), 1);
        assert_eq!(whole_seconds(Duration::ZERO), 1);
        assert_eq!(whole_seconds(Duration::from_secs(20)), 20);
        assert_eq!(whole_seconds(Duration::from_millis(20_001)), 21);
    }

    /// The counts are the database's: a second limiter (another instance) and a database
    /// opened again (a restart) see the lockout the first earned.
    #[test]
    fn a_lockout_holds_for_another_limiter_and_after_reopening() {
        let l = Limited::new();
        let now = t0();
        let s = ip("10.0.0.1");
        for _ in 0..2 {
            l.attempt(s, now).expect("attempt");
            l.failed(s, now);
        }
        let other = EnrollLimiter::new(limits());
        let reopened = SqliteStorage::open(&l._dir.path().join("s.sqlite3")).expect("reopen");
        assert!(matches!(
            other.attempt(&reopened, s, now + secs(1)).expect("storage"),
            Err(Refusal::LockedOut { .. })
        ));
    }
}
