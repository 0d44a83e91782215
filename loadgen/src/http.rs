//! One simulated device's HTTP connection to a sync server: its own client (so its own
//! kept-alive connection), its bearer header built once, and the three requests the load makes
//! (pull, push, a round of the per-household sync). Answers are read whole, as a client reads
//! them; a non-2xx answer becomes an [`Failure::Status`] with the server's error code.

use std::io::Read;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use madadkar_schema::wire::{self, DocSyncFrame, PullBatch};
use reqwest::header::{
    ACCEPT_ENCODING, AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, HeaderValue,
};
use uuid::Uuid;

use crate::plan::Device;

/// Why a request did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// A non-2xx answer: its status and the error body's `code`, when it has one.
    Status(u16, String),
    /// No answer: the connection failed, broke or timed out.
    Transport(String),
}

impl Failure {
    /// How the report counts it: `"409 duplicate_seq"`, `"transport"`.
    pub fn key(&self) -> String {
        match self {
            Self::Status(status, code) if code.is_empty() => status.to_string(),
            Self::Status(status, code) => format!("{status} {code}"),
            Self::Transport(_) => "transport".into(),
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Status(..) => write!(f, "{}", self.key()),
            Self::Transport(e) => write!(f, "transport: {e}"),
        }
    }
}

/// A body as received, and whether it is gzipped.
#[derive(Debug)]
pub struct Answer {
    pub body: Vec<u8>,
    pub gzipped: bool,
}

impl Answer {
    fn plain(self) -> Result<Vec<u8>> {
        if !self.gzipped {
            return Ok(self.body);
        }
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(self.body.as_slice())
            .take(wire::MAX_ANSWER_BYTES as u64)
            .read_to_end(&mut out)
            .context("a gzipped answer that does not inflate")?;
        Ok(out)
    }

    /// The pull batch this answer carries.
    pub fn batch(self) -> Result<PullBatch> {
        PullBatch::decode(&self.plain()?).context("a pull answer that is no batch")
    }
}

/// One device talking to one server.
#[derive(Debug, Clone)]
pub struct Conn {
    client: reqwest::Client,
    base: String,
    auth: HeaderValue,
    pub device: Uuid,
}

impl Conn {
    pub fn new(base: &str, device: &Device) -> Result<Self> {
        let client = reqwest::Client::builder()
            // One connection per simulated device, kept alive between its requests.
            .pool_max_idle_per_host(1)
            .tcp_nodelay(true)
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .user_agent(concat!("madadkar-load/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("building an HTTP client")?;
        let mut auth = HeaderValue::from_str(&format!("Bearer {}", device.token))
            .context("a token that cannot be a header")?;
        // Debug output of the connection never shows the token.
        auth.set_sensitive(true);
        Ok(Self {
            client,
            base: base.trim_end_matches('/').to_string(),
            auth,
            device: device.device_id,
        })
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Result<Answer, Failure> {
        let response = request
            .header(AUTHORIZATION, self.auth.clone())
            .header(ACCEPT_ENCODING, HeaderValue::from_static("gzip"))
            .send()
            .await
            .map_err(|e| Failure::Transport(e.to_string()))?;
        let status = response.status();
        let gzipped = response
            .headers()
            .get(CONTENT_ENCODING)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"gzip"));
        let body = response
            .bytes()
            .await
            .map_err(|e| Failure::Transport(e.to_string()))?
            .to_vec();
        let answer = Answer { body, gzipped };
        if status.is_success() {
            return Ok(answer);
        }
        let code = answer
            .plain()
            .ok()
            .and_then(|b| serde_json::from_slice::<wire::ErrorBody>(&b).ok())
            .map(|e| e.code)
            .unwrap_or_default();
        Err(Failure::Status(status.as_u16(), code))
    }

    /// `GET /v1/pull?after=CURSOR`.
    pub async fn pull(&self, after: u64) -> Result<Answer, Failure> {
        self.send(
            self.client
                .get(format!("{}/v1/pull?after={after}", self.base)),
        )
        .await
    }

    /// `POST /v1/push` with a prepared changes frame.
    pub async fn push(&self, body: Vec<u8>) -> Result<Answer, Failure> {
        self.send(
            self.client
                .post(format!("{}/v1/push", self.base))
                .header(
                    CONTENT_TYPE,
                    HeaderValue::from_static(wire::CHANGES_CONTENT_TYPE),
                )
                .body(body),
        )
        .await
    }

    /// One round of `POST /v1/households/{id}/sync`.
    pub async fn doc_sync(&self, household: Uuid, frame: &DocSyncFrame) -> Result<DocSyncFrame> {
        let answer = self
            .send(
                self.client
                    .post(format!("{}/v1/households/{household}/sync", self.base))
                    .header(
                        CONTENT_TYPE,
                        HeaderValue::from_static("application/octet-stream"),
                    )
                    .body(frame.encode()),
            )
            .await
            .map_err(|e| anyhow::anyhow!("household {household}'s sync: {e}"))?;
        DocSyncFrame::decode(&answer.plain()?).context("a sync answer that is no frame")
    }

    /// Pulls from `after` until nothing more is waiting; returns the cursor then and the
    /// changes passed on the way.
    pub async fn catch_up(&self, mut after: u64) -> Result<(u64, usize)> {
        let mut changes = 0;
        loop {
            let batch = self
                .pull(after)
                .await
                .map_err(|e| anyhow::anyhow!("device {}'s pull: {e}", self.device))?
                .batch()?;
            if batch.next_cursor < after {
                bail!("the server moved the cursor back from {after}");
            }
            changes += batch.changes.len();
            after = batch.next_cursor;
            if !batch.more {
                return Ok((after, changes));
            }
        }
    }
}
