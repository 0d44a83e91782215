//! Rate limits on enrolment, so enrolment codes cannot be guessed: a token bucket per source
//! address, a lockout of a source after repeated wrong codes, and one bucket for all sources
//! together (many addresses guessing at once). Refusals are `429 rate_limited` with
//! `Retry-After`.
//!
//! The state lives in this process's memory behind [`EnrollLimiter`]'s three calls
//! (`attempt`, `failed`, `succeeded`). Several server instances would each count on their own;
//! a later issue moves this state into the database behind the same calls, so that instances
//! share it. It is also why the counts start afresh when the server restarts.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::{
    Json,
    extract::ConnectInfo,
    http::{HeaderMap, HeaderValue, StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
};
use madadkar_schema::wire::ErrorBody;
use tracing::warn;

/// Sources remembered before idle ones are forgotten. New sources are admitted only through
/// the global bucket, so the table grows at most by that bucket's rate.
const PRUNE_ABOVE: usize = 4_096;

/// The enrolment limits (settings `enroll_per_minute`, `enroll_global_per_minute`,
/// `enroll_lockout_failures`, `enroll_lockout_minutes`, `trusted_proxies`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrollLimits {
    /// Attempts per minute from one source, and the burst it may spend at once.
    pub per_source_per_minute: u32,
    /// Attempts per minute from all sources together.
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
    /// `ConnectInfo`. All of them share one bucket (logged once as a warning).
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
                // bucket, which is safe but may refuse honest users; say so.
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

/// A token bucket of `per_minute` tokens refilled evenly over a minute, kept as the time its
/// tokens will all be back (the "generic cell rate" form: exact integer arithmetic, one field).
#[derive(Debug, Clone, Copy)]
struct Bucket {
    /// When the bucket is full again; at or before `now` means full.
    full_at: Instant,
}

impl Bucket {
    fn full(now: Instant) -> Self {
        Self { full_at: now }
    }

    /// The time one token takes to come back.
    fn interval(per_minute: u32) -> Duration {
        Duration::from_secs(60) / per_minute.max(1)
    }

    /// How long until a token is there (zero if one is).
    fn wait(&self, per_minute: u32, now: Instant) -> Duration {
        // With n tokens, the bucket may be "owed" up to n - 1 intervals and still give one.
        let slack = Self::interval(per_minute) * (per_minute.max(1) - 1);
        self.full_at
            .saturating_duration_since(now)
            .saturating_sub(slack)
    }

    fn take(&mut self, per_minute: u32, now: Instant) {
        self.full_at = self.full_at.max(now) + Self::interval(per_minute);
    }
}

#[derive(Debug, Clone, Copy)]
struct SourceState {
    bucket: Bucket,
    failures: u32,
    failures_since: Instant,
    locked_until: Option<Instant>,
}

#[derive(Debug)]
struct State {
    sources: HashMap<Source, SourceState>,
    global: Bucket,
}

/// The enrolment limits' state; see the module's documentation.
#[derive(Debug)]
pub struct EnrollLimiter {
    limits: EnrollLimits,
    state: Mutex<State>,
    warned_unknown: AtomicBool,
}

impl EnrollLimiter {
    pub fn new(limits: EnrollLimits) -> Self {
        let now = Instant::now();
        Self {
            state: Mutex::new(State {
                sources: HashMap::new(),
                global: Bucket::full(now),
            }),
            limits,
            warned_unknown: AtomicBool::new(false),
        }
    }

    pub fn limits(&self) -> &EnrollLimits {
        &self.limits
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is plain counters; one left half-updated by a panic is still usable.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes one attempt for `source`, or says why not and for how long.
    pub fn attempt(&self, source: Source, now: Instant) -> Result<(), Refusal> {
        if source == Source::Unknown && !self.warned_unknown.swap(true, Ordering::Relaxed) {
            warn!(
                "enrolment without a peer address (served without ConnectInfo): all such attempts share one rate-limit bucket"
            );
        }
        let limits = &self.limits;
        let mut state = self.state();
        if let Some(s) = state.sources.get_mut(&source) {
            if let Some(until) = s.locked_until {
                if until > now {
                    return Err(Refusal::LockedOut {
                        retry_after: until - now,
                    });
                }
                s.locked_until = None;
            }
            let wait = s.bucket.wait(limits.per_source_per_minute, now);
            if !wait.is_zero() {
                return Err(Refusal::SourceRate { retry_after: wait });
            }
        }
        let wait = state.global.wait(limits.global_per_minute, now);
        if !wait.is_zero() {
            return Err(Refusal::Global { retry_after: wait });
        }
        state.global.take(limits.global_per_minute, now);
        if state.sources.len() >= PRUNE_ABOVE && !state.sources.contains_key(&source) {
            prune(&mut state.sources, limits, now);
        }
        let entry = state.sources.entry(source).or_insert(SourceState {
            bucket: Bucket::full(now),
            failures: 0,
            failures_since: now,
            locked_until: None,
        });
        entry.bucket.take(limits.per_source_per_minute, now);
        Ok(())
    }

    /// Counts a wrong code from `source`; enough of them within the window lock it out.
    pub fn failed(&self, source: Source, now: Instant) {
        let limits = &self.limits;
        let mut state = self.state();
        let Some(s) = state.sources.get_mut(&source) else {
            return;
        };
        if now.saturating_duration_since(s.failures_since) > limits.lockout {
            s.failures = 0;
            s.failures_since = now;
        }
        s.failures += 1;
        if s.failures >= limits.lockout_failures.max(1) {
            s.failures = 0;
            s.failures_since = now;
            s.locked_until = Some(now + limits.lockout);
            warn!(
                ?source,
                "enrolment source locked out after repeated wrong codes"
            );
        }
    }

    /// A code worked: the source's earlier wrong codes are forgiven.
    pub fn succeeded(&self, source: Source) {
        if let Some(s) = self.state().sources.get_mut(&source) {
            s.failures = 0;
        }
    }
}

/// Forgets sources with nothing to remember: a full bucket, no lockout and no recent failures.
fn prune(sources: &mut HashMap<Source, SourceState>, limits: &EnrollLimits, now: Instant) {
    sources.retain(|_, s| {
        let full = s.bucket.full_at <= now;
        let locked = s.locked_until.is_some_and(|u| u > now);
        let failing =
            s.failures > 0 && now.saturating_duration_since(s.failures_since) <= limits.lockout;
        !full || locked || failing
    });
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn a_source_gets_its_burst_then_waits_for_a_token() {
        let limiter = EnrollLimiter::new(limits());
        let now = Instant::now();
        for _ in 0..3 {
            limiter
                .attempt(ip("10.0.0.1"), now)
                .expect("within the burst");
        }
        let refused = limiter.attempt(ip("10.0.0.1"), now).expect_err("over");
        // Three a minute: one token every 20 s.
        assert_eq!(
            refused,
            Refusal::SourceRate {
                retry_after: Duration::from_secs(20)
            }
        );
        // Another source is not affected.
        limiter.attempt(ip("10.0.0.2"), now).expect("other source");
        limiter
            .attempt(ip("10.0.0.1"), now + Duration::from_secs(20))
            .expect("refilled");
    }

    #[test]
    fn the_global_bucket_caps_many_sources() {
        let limiter = EnrollLimiter::new(limits());
        let now = Instant::now();
        for i in 0..5 {
            limiter
                .attempt(ip(&format!("10.0.1.{i}")), now)
                .expect("within the global cap");
        }
        assert!(matches!(
            limiter.attempt(ip("10.0.1.99"), now),
            Err(Refusal::Global { .. })
        ));
    }

    #[test]
    fn wrong_codes_lock_a_source_out_and_a_success_forgives() {
        let limiter = EnrollLimiter::new(limits());
        let now = Instant::now();
        let s = ip("10.0.0.1");
        limiter.attempt(s, now).expect("first");
        limiter.failed(s, now);
        limiter.succeeded(s);
        limiter.attempt(s, now).expect("second");
        limiter.failed(s, now);
        assert_eq!(limiter.attempt(s, now).map_err(|r| r.retry_after()), Ok(()));
        limiter.failed(s, now);
        assert_eq!(
            limiter.attempt(s, now + Duration::from_secs(30)),
            Err(Refusal::LockedOut {
                retry_after: Duration::from_secs(30)
            })
        );
        limiter
            .attempt(s, now + Duration::from_secs(61))
            .expect("the lockout ended");
    }

    #[test]
    fn ipv6_counts_by_network_and_mapped_ipv4_as_ipv4() {
        assert_eq!(ip("2001:db8:1:2:aaaa::1"), ip("2001:db8:1:2:bbbb::9"));
        assert_ne!(ip("2001:db8:1:2::1"), ip("2001:db8:1:3::1"));
        assert_eq!(ip("::ffff:192.0.2.7"), ip("192.0.2.7"));
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

    #[test]
    fn pruning_keeps_only_what_matters() {
        let l = limits();
        let now = Instant::now();
        let mut sources = HashMap::new();
        let idle = SourceState {
            bucket: Bucket::full(now),
            failures: 0,
            failures_since: now,
            locked_until: None,
        };
        sources.insert(ip("10.0.0.1"), idle);
        sources.insert(
            ip("10.0.0.2"),
            SourceState {
                locked_until: Some(now + Duration::from_secs(5)),
                ..idle
            },
        );
        prune(&mut sources, &l, now);
        assert_eq!(sources.len(), 1);
        assert!(sources.contains_key(&ip("10.0.0.2")));
    }
}
