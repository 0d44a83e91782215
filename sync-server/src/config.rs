//! Settings: flags, then `MADADKAR_SERVER_*` environment variables (both parsed by the binary),
//! then an optional JSON file, then defaults: listen on 127.0.0.1:8737, data in ./server-data,
//! and the guards (rate limits, quotas, timeouts) of [`Guards::default`].

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use thiserror::Error;

use crate::api::{Guards, Limits};

/// The database file inside the data directory.
pub const DATABASE_FILE: &str = "madadkar-server.sqlite3";

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("reading {path}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a valid settings file")]
    Parse {
        path: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("setting {key} must be {what}, not {value}")]
    OutOfRange {
        key: &'static str,
        what: &'static str,
        value: u64,
    },
}

/// The settings file, every key optional, no other keys:
/// ```json
/// { "listen": "127.0.0.1:8737", "data_dir": "server-data",
///   "pull_batch_changes": 5000, "pull_batch_bytes": 4194304,
///   "enroll_per_minute": 10, "enroll_global_per_minute": 100,
///   "enroll_lockout_failures": 20, "enroll_lockout_minutes": 15,
///   "trusted_proxies": ["127.0.0.1"],
///   "push_quota_bytes": 67108864, "push_quota_changes": 20000,
///   "header_timeout_secs": 10, "body_timeout_secs": 60,
///   "request_timeout_secs": 120, "keep_alive_secs": 60, "lease_days": 30,
///   "lookups_per_hour": 60, "document_cache_mib": 256 }
/// ```
/// `trusted_proxies`: reverse proxies whose `X-Forwarded-For` names the client for the
/// enrolment rate limits; none by default (the header is then ignored).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
    /// The database: a PostgreSQL URL or an SQLite file (default: the file in `data_dir`).
    pub database: Option<String>,
    /// Connections this instance keeps to PostgreSQL (default 16).
    pub database_pool: Option<usize>,
    pub pull_batch_changes: Option<usize>,
    pub pull_batch_bytes: Option<usize>,
    pub enroll_per_minute: Option<u32>,
    pub enroll_global_per_minute: Option<u32>,
    pub enroll_lockout_failures: Option<u32>,
    pub enroll_lockout_minutes: Option<u64>,
    pub trusted_proxies: Option<Vec<IpAddr>>,
    pub push_quota_bytes: Option<u64>,
    pub push_quota_changes: Option<u64>,
    pub header_timeout_secs: Option<u64>,
    pub body_timeout_secs: Option<u64>,
    pub request_timeout_secs: Option<u64>,
    pub keep_alive_secs: Option<u64>,
    /// Days a device may go without syncing before its app locks itself (default 30).
    pub lease_days: Option<u32>,
    /// Lookups by national ID one device may make in an hour (default 60).
    pub lookups_per_hour: Option<u32>,
    /// MiB of households' documents kept in memory between pushes (default 256; 0 keeps none,
    /// and every push then builds its households' documents from all their changes).
    pub document_cache_mib: Option<usize>,
}

/// A setting of at least `min`; anything less is refused rather than raised silently, since
/// zero would switch a guard off or lock everyone out.
fn at_least<T: Copy + Into<u64>>(
    key: &'static str,
    value: Option<T>,
    min: u64,
    what: &'static str,
) -> Result<Option<T>, ConfigError> {
    match value {
        Some(v) if v.into() < min => Err(ConfigError::OutOfRange {
            key,
            what,
            value: v.into(),
        }),
        v => Ok(v),
    }
}

fn seconds(key: &'static str, value: Option<u64>) -> Result<Option<Duration>, ConfigError> {
    Ok(at_least(key, value, 1, "at least 1 second")?.map(Duration::from_secs))
}

impl FileConfig {
    /// Reads the settings file, or the empty settings when there is none.
    pub fn read(path: Option<&Path>) -> Result<Self, ConfigError> {
        let Some(path) = path else {
            return Ok(Self::default());
        };
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|source| ConfigError::Parse {
            path: path.display().to_string(),
            source,
        })
    }

    /// Where the database lives: the flag or environment, else the file, else `server-data`.
    pub fn data_dir(&self, given: Option<PathBuf>) -> PathBuf {
        given
            .or_else(|| self.data_dir.clone())
            .unwrap_or_else(|| PathBuf::from("server-data"))
    }

    /// Where to listen: the flag or environment, else the file, else 127.0.0.1:8737.
    pub fn listen(&self, given: Option<SocketAddr>) -> SocketAddr {
        given
            .or(self.listen)
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8737)))
    }

    /// The pull limits, with the file's values kept within sane floors.
    pub fn limits(&self) -> Limits {
        let mut limits = Limits::default();
        if let Some(n) = self.pull_batch_changes {
            limits.pull_entries = n.max(1);
        }
        if let Some(n) = self.pull_batch_bytes {
            limits.pull_bytes = n.max(1024);
        }
        if let Some(mib) = self.document_cache_mib {
            limits.document_cache_bytes = mib.saturating_mul(1024 * 1024);
        }
        limits
    }

    /// The rate limits, quotas and timeouts: the file's values over the defaults. A value that
    /// would switch a guard off (zero) is an error.
    pub fn guards(&self) -> Result<Guards, ConfigError> {
        let mut g = Guards::default();
        let e = &mut g.enroll;
        if let Some(n) = at_least("enroll_per_minute", self.enroll_per_minute, 1, "at least 1")? {
            e.per_source_per_minute = n;
        }
        let global = at_least(
            "enroll_global_per_minute",
            self.enroll_global_per_minute,
            1,
            "at least 1",
        )?;
        if let Some(n) = global {
            e.global_per_minute = n;
        }
        let failures = at_least(
            "enroll_lockout_failures",
            self.enroll_lockout_failures,
            1,
            "at least 1",
        )?;
        if let Some(n) = failures {
            e.lockout_failures = n;
        }
        let lockout = at_least(
            "enroll_lockout_minutes",
            self.enroll_lockout_minutes,
            1,
            "at least 1 minute",
        )?;
        if let Some(n) = lockout {
            e.lockout = Duration::from_secs(n.saturating_mul(60));
        }
        if let Some(proxies) = &self.trusted_proxies {
            e.trusted_proxies = proxies.clone();
        }
        // Below one push's worth, no device could push at all.
        let min_bytes = madadkar_schema::wire::MAX_CHANGE_BYTES as u64;
        let bytes = at_least(
            "push_quota_bytes",
            self.push_quota_bytes,
            min_bytes,
            "at least 1 MiB (one change)",
        )?;
        if let Some(n) = bytes {
            g.push_quota.bytes = n;
        }
        if let Some(n) = at_least(
            "push_quota_changes",
            self.push_quota_changes,
            1,
            "at least 1",
        )? {
            g.push_quota.changes = n;
        }
        let t = &mut g.timeouts;
        if let Some(d) = seconds("header_timeout_secs", self.header_timeout_secs)? {
            t.header = d;
        }
        if let Some(d) = seconds("body_timeout_secs", self.body_timeout_secs)? {
            t.body = d;
        }
        if let Some(d) = seconds("request_timeout_secs", self.request_timeout_secs)? {
            t.request = d;
        }
        if let Some(d) = seconds("keep_alive_secs", self.keep_alive_secs)? {
            t.keep_alive = d;
        }
        if let Some(n) = at_least("lookups_per_hour", self.lookups_per_hour, 1, "at least 1")? {
            g.lookup.per_hour = n;
        }
        // More than ten years would overflow nothing but means no lease at all: refused.
        match self.lease_days {
            Some(n @ 1..=3650) => g.lease.days = n,
            Some(n) => {
                return Err(ConfigError::OutOfRange {
                    key: "lease_days",
                    what: "1 to 3650 days",
                    value: n.into(),
                });
            }
            None => {}
        }
        Ok(g)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guards_take_the_file_over_the_defaults_and_refuse_zero() {
        let file: FileConfig = serde_json::from_str(
            r#"{"enroll_per_minute": 3, "trusted_proxies": ["10.0.0.1"], "push_quota_changes": 7, "body_timeout_secs": 2, "lookups_per_hour": 5}"#,
        )
        .expect("parse");
        let g = file.guards().expect("guards");
        assert_eq!(g.enroll.per_source_per_minute, 3);
        assert_eq!(g.enroll.trusted_proxies, vec![IpAddr::from([10, 0, 0, 1])]);
        assert_eq!(g.push_quota.changes, 7);
        assert_eq!(g.lookup.per_hour, 5);
        assert_eq!(g.timeouts.body, Duration::from_secs(2));
        assert_eq!(g.timeouts.header, Guards::default().timeouts.header);
        for bad in [
            r#"{"enroll_per_minute": 0}"#,
            r#"{"request_timeout_secs": 0}"#,
            r#"{"push_quota_bytes": 1000}"#,
            r#"{"lookups_per_hour": 0}"#,
        ] {
            let file: FileConfig = serde_json::from_str(bad).expect("parse");
            assert!(
                matches!(file.guards(), Err(ConfigError::OutOfRange { .. })),
                "{bad}"
            );
        }
        assert!(serde_json::from_str::<FileConfig>(r#"{"enroll_per_hour": 1}"#).is_err());
    }
}
