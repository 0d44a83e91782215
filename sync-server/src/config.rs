//! Settings: flags, then `MADADKAR_SERVER_*` environment variables (both parsed by the binary),
//! then an optional JSON file, then defaults: listen on 127.0.0.1:8737, data in ./server-data.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use thiserror::Error;

use crate::api::Limits;

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
}

/// The settings file: `{"listen": "...", "data_dir": "...", "pull_batch_changes": N,
/// "pull_batch_bytes": N}`, every key optional, no other keys.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
    pub pull_batch_changes: Option<usize>,
    pub pull_batch_bytes: Option<usize>,
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
        limits
    }
}
