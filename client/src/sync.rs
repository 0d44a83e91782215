//! The sync client: enrolment, push of queued changes, pull of changes after a cursor, and the
//! per-household Automerge sync used when a change's dependencies are missing.
//!
//! Every step is resumable: pushed changes leave the outbox only once the server acknowledged
//! them, and pulled changes are applied in the same transaction that advances the cursor. A
//! failed sync loses nothing and can simply run again.
//!
//! The client never blocks on one household: a pull batch is applied household by household,
//! each in its own savepoint, and a household whose changes cannot be applied is quarantined
//! ([`crate::quarantine`]) while the cursor moves on. A household a newer Madadkar wrote is kept
//! whole and listed read-only.
//!
//! The client distrusts the network: only `https://` (or plain `http://` to this machine), every
//! answer read within [`wire::MAX_ANSWER_BYTES`] (compressed or not), frames decoded without
//! reserving memory for counts the bytes do not back, a bounded number of pull rounds per sync,
//! and a cursor that must move forward.

use std::collections::HashMap;
use std::io::Read;
use std::net::IpAddr;
use std::time::Duration;

use automerge::{
    AutoCommit, ChangeHash,
    sync::{self, SyncDoc},
};
use chrono::{DateTime, Utc};
use madadkar_schema::{
    Field, HouseholdDoc, ValidationError,
    change::parse_change,
    document::{Received, untrusted},
    wire::{
        self, DocSyncFrame, EnrollRequest, EnrollResponse, ErrorBody, PullBatch, PushResponse,
        WireChange,
    },
};
use reqwest::blocking::{Client, RequestBuilder};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use serde::Serialize;
use uuid::Uuid;

use crate::error::{Result, StoreError};
use crate::projection;
use crate::quarantine::{self, Arrived};
use crate::store::{
    Origin, Store, append_changes, load_raw, maybe_compact, put_meta, read_identity,
};

/// Changes per push request.
const PUSH_BATCH: usize = 1_000;
/// Rounds of per-household sync before giving up.
const DOC_SYNC_ROUNDS: usize = 32;
/// Pull rounds in one sync. A batch is about 4 MiB, so this reaches a province's caseload in
/// one sync; a server announcing more without end stops here, and the next sync continues from
/// the stored cursor.
pub const MAX_PULL_ROUNDS: usize = 1_000;

/// What one sync did, with the bytes that crossed the wire (bodies as sent, compressed).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SyncReport {
    pub pushed: usize,
    pub pulled: usize,
    pub households_changed: usize,
    pub requests: usize,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    pub resynced_households: Vec<Uuid>,
    /// Households whose pulled changes could not be applied and were set aside (quarantined)
    /// in this sync; see `Store::quarantined`.
    pub quarantined: usize,
    /// Households written by a newer Madadkar that this sync brought or changed: kept and
    /// listed read-only ("update the app").
    pub needs_update: usize,
    /// The pull stopped after [`MAX_PULL_ROUNDS`] batches with more waiting; the next sync
    /// continues where it stopped.
    pub more_to_pull: bool,
    /// Households that left this device's scope (reassigned elsewhere) and were removed.
    pub removed_from_scope: usize,
    /// Households that left the scope but hold work not yet sent: kept until it is.
    pub kept_out_of_scope: Vec<Uuid>,
    /// Households whose queued changes the server refused, with its reason (`invalid_document`,
    /// `schema_too_new`, `duplicate_seq`, `malformed_change`): their work is kept and tried
    /// again next sync; everything else was pushed.
    pub refused: Vec<(Uuid, String)>,
    /// Households received whole in a first sync from snapshots (`GET /v1/bootstrap`).
    pub documents_received: usize,
    /// Why a first sync from snapshots gave way to pulling the whole log (an older server, a
    /// document this replica cannot use), when it did.
    pub first_sync_fallback: Option<String>,
}

/// What a worker sees of sync: where, when, what waits, what went wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SyncStatus {
    pub server_url: Option<String>,
    pub enrolled: bool,
    pub role: Option<String>,
    pub last_sync_at: Option<String>,
    pub last_error: Option<String>,
    pub pending_changes: i64,
    pub cursor: u64,
}

/// Refusals that name households: their queued changes are held back (kept) and the rest of the
/// outbox is pushed, so one household never stops a device's sync.
const HELD_BACK_CODES: &[&str] = &[
    "out_of_scope",
    "review_forbidden",
    "invalid_document",
    "schema_too_new",
    "duplicate_seq",
    "malformed_change",
    "author_mismatch",
    "author_revoked",
    "unsigned_relay",
    "merge_forbidden",
];

pub(crate) struct Http {
    client: Client,
    base: String,
    token: String,
    pub(crate) report: SyncReport,
    /// The version of the server's directory of devices its last answer named.
    directory_version: Option<u64>,
    /// The version of the scope lists its last answer named.
    scope_version: Option<u64>,
    /// The lease its last answer granted.
    lease_until: Option<chrono::DateTime<Utc>>,
}

/// Sorts a failure of the HTTP client: only a connection that could not be made or broke
/// (refused, timed out, cut mid-answer) is `Network`, which waiting can cure; anything else
/// (an answer that is not HTTP, a bad address, a redirect loop) is `Protocol`.
fn network(e: reqwest::Error) -> StoreError {
    let transport = is_transport(&e);
    let e = e.without_url();
    // reqwest's own text is generic ("error sending request"); the cause is in its sources.
    let mut message = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    if transport {
        StoreError::Network { message }
    } else {
        StoreError::Protocol { message }
    }
}

/// Whether a failure is the connection's: reqwest's kinds first, then its causes (an I/O error
/// is the connection; an HTTP parse error is a peer that does not speak HTTP).
fn is_transport(e: &reqwest::Error) -> bool {
    if e.is_connect() || e.is_timeout() {
        return true;
    }
    if e.is_builder() || e.is_redirect() {
        return false;
    }
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if s.is::<std::io::Error>() {
            return true;
        }
        if s.downcast_ref::<hyper::Error>()
            .is_some_and(|h| h.is_parse() || h.is_parse_status() || h.is_user())
        {
            return false;
        }
        source = s.source();
    }
    e.is_request() || e.is_body()
}

/// A failure while reading an answer's body: reqwest's own error inside is sorted as any other;
/// a bare I/O error is the connection's.
fn read_failure(e: std::io::Error) -> StoreError {
    let message = e.to_string();
    match e
        .into_inner()
        .map(|inner| inner.downcast::<reqwest::Error>())
    {
        Some(Ok(e)) => network(*e),
        _ => StoreError::Network { message },
    }
}

/// Reads at most `limit` bytes from `source`; more is refused, never held.
fn read_bounded(
    source: impl Read,
    limit: usize,
    failure: impl Fn(std::io::Error) -> StoreError,
    what: &str,
) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    source
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(failure)?;
    if out.len() > limit {
        return Err(StoreError::Protocol {
            message: format!("{what} is over the limit of {limit} bytes"),
        });
    }
    Ok(out)
}

/// The server's address as given, refused unless it is `https://`, or plain `http://` to this
/// machine (localhost, 127.0.0.0/8, ::1): a device token and the caseload must never cross a
/// network in clear text.
pub fn check_server_url(input: &str) -> Result<String> {
    let invalid = |reason| ValidationError::Invalid {
        field: Field::Server,
        input: input.into(),
        reason,
    };
    let trimmed = input.trim().trim_end_matches('/');
    let url = reqwest::Url::parse(trimmed)
        .map_err(|_| invalid("is not a server address (https://host or https://host:port)"))?;
    match url.scheme() {
        "https" => Ok(trimmed.to_string()),
        "http" if is_loopback(&url) => Ok(trimmed.to_string()),
        "http" => Err(invalid(
            "must start with https:// (plain http:// is only for a server on this machine: \
             localhost, 127.0.0.1, ::1)",
        )
        .into()),
        _ => Err(invalid("must start with https://").into()),
    }
}

fn is_loopback(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// An answer the server should not have given.
pub(crate) fn protocol(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Protocol {
        message: format!("{what}: {e}"),
    }
}

/// Refuses an answer from a server that names another protocol version than ours. An answer
/// without the header is read as ours (servers before the header was added spoke version 1).
fn check_protocol(headers: &reqwest::header::HeaderMap) -> Result<()> {
    let Some(value) = headers.get(wire::PROTOCOL_HEADER) else {
        return Ok(());
    };
    let server = String::from_utf8_lossy(value.as_bytes()).trim().to_string();
    if server == wire::PROTOCOL_VERSION.to_string() {
        return Ok(());
    }
    Err(StoreError::ServerVersion {
        server,
        client: wire::PROTOCOL_VERSION,
    })
}

impl Http {
    pub(crate) fn new(base: &str, token: &str) -> Result<Self> {
        let client = Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .user_agent(concat!("madadkar/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(network)?;
        Ok(Self {
            client,
            base: base.trim_end_matches('/').to_string(),
            token: token.to_string(),
            report: SyncReport::default(),
            directory_version: None,
            scope_version: None,
            lease_until: None,
        })
    }

    /// Sends a request and returns the (decompressed) body of a success, or the server's error.
    /// A server of another protocol version is refused before its body is read.
    fn send(&mut self, request: RequestBuilder, body_len: usize) -> Result<Vec<u8>> {
        let mut response = request
            // zstd first: a first sync's documents compress better with it, and faster.
            .header("accept-encoding", "zstd, gzip;q=0.5")
            .bearer_auth(&self.token)
            .send()
            .map_err(network)?;
        self.report.requests += 1;
        self.report.bytes_sent += body_len as u64;
        check_protocol(response.headers())?;
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        if let Some(version) = header(wire::DIRECTORY_HEADER).and_then(|v| v.parse().ok()) {
            self.directory_version = Some(version);
        }
        if let Some(version) = header(wire::SCOPE_HEADER).and_then(|v| v.parse().ok()) {
            self.scope_version = Some(version);
        }
        // A lease that does not parse is ignored: the one stored stays (it runs out on its own).
        if let Some(until) =
            header(wire::LEASE_HEADER).and_then(|v| chrono::DateTime::parse_from_rfc3339(&v).ok())
        {
            self.lease_until = Some(until.with_timezone(&Utc));
        }
        let status = response.status();
        let encoding = response
            .headers()
            .get("content-encoding")
            .map(|v| v.as_bytes().to_ascii_lowercase());
        // Bounded before and after decompression: neither a huge body nor a small one that
        // inflates without end is ever held whole.
        let limit = wire::MAX_ANSWER_BYTES;
        if let Some(declared) = response.content_length()
            && declared > limit as u64
        {
            return Err(StoreError::Protocol {
                message: format!("an answer of {declared} bytes is over the limit of {limit}"),
            });
        }
        let raw = read_bounded(&mut response, limit, read_failure, "the answer")?;
        self.report.bytes_received += raw.len() as u64;
        let bad = |e| protocol("bad compressed answer", e);
        let body = match encoding.as_deref() {
            None => raw,
            Some(b"gzip") => read_bounded(
                flate2::read::GzDecoder::new(raw.as_slice()),
                limit,
                bad,
                "the decompressed answer",
            )?,
            Some(b"zstd") => read_bounded(
                zstd::stream::read::Decoder::with_buffer(raw.as_slice()).map_err(bad)?,
                limit,
                bad,
                "the decompressed answer",
            )?,
            Some(other) => {
                return Err(StoreError::Protocol {
                    message: format!(
                        "an answer in an encoding not asked for: {}",
                        String::from_utf8_lossy(other)
                    ),
                });
            }
        };
        if status.is_success() {
            return Ok(body);
        }
        Err(match serde_json::from_slice::<ErrorBody>(&body) {
            Ok(e) => StoreError::Server {
                status: status.as_u16(),
                code: e.code,
                message: e.message,
                retry: e.retry,
                households: e.households,
            },
            Err(_) => StoreError::Server {
                status: status.as_u16(),
                code: "http".into(),
                message: format!("HTTP {status}"),
                retry: status.is_server_error(),
                households: vec![],
            },
        })
    }

    pub(crate) fn post(
        &mut self,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<Vec<u8>> {
        let len = body.len();
        let request = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", content_type)
            .body(body);
        self.send(request, len)
    }

    pub(crate) fn get(&mut self, path: &str) -> Result<Vec<u8>> {
        let request = self.client.get(format!("{}{path}", self.base));
        self.send(request, 0)
    }
}

impl Store {
    pub(crate) fn meta_value(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?", [key], |r| r.get(0))
            .optional()?)
    }

    pub(crate) fn set_meta(&self, key: &str, value: Option<&str>) -> Result<()> {
        match value {
            Some(v) => put_meta(&self.conn, key, v)?,
            None => {
                self.conn.execute("DELETE FROM meta WHERE key = ?", [key])?;
            }
        };
        Ok(())
    }

    /// Whether the server's answers named a `version` of something this replica copies (the
    /// directory, the scope list) other than the one stored under `key`.
    fn stale(&self, key: &str, version: Option<u64>) -> Result<bool> {
        let Some(version) = version else {
            return Ok(false);
        };
        let stored = self.meta_value(key)?.and_then(|v| v.parse::<u64>().ok());
        Ok(stored != Some(version))
    }

    /// Exchanges a one-time code for this device's token. Work recorded before enrolment keeps
    /// its authorship: the server learns the worker id it was written under.
    ///
    /// A replica that was never set up is set up from the server's answer: it writes as the
    /// worker the code was made for (id and name), in that worker's group, on a new device
    /// named `device_name`, which such a replica needs. An existing replica keeps its device,
    /// so a `device_name` that differs from it is refused rather than ignored.
    pub fn enroll(
        &mut self,
        server_url: &str,
        code: &str,
        device_name: Option<&str>,
    ) -> Result<EnrollResponse> {
        let url = check_server_url(server_url)?;
        let url = url.as_str();
        let device = enrolling_device(self.identity.as_ref(), device_name)?;
        let request = EnrollRequest {
            code: code.trim().to_string(),
            device_id: device.id,
            device_name: device.name.clone(),
            local_worker_id: device.local_worker_id.clone(),
            signing_key: Some(madadkar_schema::authorship::hex(
                &crate::authorship::device_key(&self.conn)?.public_key(),
            )),
        };
        let mut http = Http::new(url, "")?;
        let body = serde_json::to_vec(&request).map_err(|e| StoreError::Encode {
            message: e.to_string(),
        })?;
        let answer = http.post("/v1/enroll", "application/json", body)?;
        let response: EnrollResponse = serde_json::from_slice(&answer)
            .map_err(|e| protocol("unexpected enrolment answer", e))?;
        let mut entries = vec![
            ("server_url", url.to_string()),
            ("token", response.token.clone()),
            ("worker_id", response.worker_id.clone()),
            ("worker_name", response.worker_name.clone()),
            ("role", response.role.code().to_string()),
            ("group_id", response.group_id.clone().unwrap_or_default()),
        ];
        match device.local_worker_id {
            Some(local) => entries.push(("local_worker_id", local)),
            // A new replica: its identity is written with the enrolment, all or nothing.
            None => entries.extend([
                ("device_id", device.id.to_string()),
                ("device_name", device.name),
            ]),
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        for (key, value) in entries {
            put_meta(&tx, key, &value)?;
        }
        tx.commit()?;
        self.identity = read_identity(&self.conn)?;
        Ok(response)
    }

    pub fn sync_status(&self) -> Result<SyncStatus> {
        Ok(SyncStatus {
            server_url: self.meta_value("server_url")?,
            enrolled: self.meta_value("token")?.is_some(),
            role: self.meta_value("role")?,
            last_sync_at: self.meta_value("last_sync_at")?,
            last_error: self.meta_value("last_sync_error")?,
            pending_changes: self.pending_changes()?,
            cursor: self
                .meta_value("pull_cursor")?
                .and_then(|c| c.parse().ok())
                .unwrap_or(0),
        })
    }

    /// Pushes what is queued, then pulls what is new; records the outcome for `sync_status`.
    pub fn sync(&mut self, server_url: Option<&str>) -> Result<SyncReport> {
        if self.erased_at()?.is_some() {
            return Err(StoreError::Erased {
                reason: "revoked or retired",
            });
        }
        let result = match self.sync_once(server_url) {
            // A lost laptop that makes contact erases itself.
            Err(StoreError::Server { code, .. }) if code == "device_revoked" => {
                self.erase()?;
                return Err(StoreError::Erased { reason: "revoked" });
            }
            // A retired one erases itself once its work is pushed (the push comes first in a
            // sync; with work left it tries again next time).
            Err(StoreError::Server { code, .. })
                if code == "device_retired" && self.pending_changes()? == 0 =>
            {
                self.erase()?;
                return Err(StoreError::Erased { reason: "retired" });
            }
            other => other,
        };
        match &result {
            Ok(_) => {
                self.set_meta("last_sync_at", Some(&Utc::now().to_rfc3339()))?;
                self.set_meta("last_sync_error", None)?;
            }
            Err(e) => self.set_meta("last_sync_error", Some(&e.to_string()))?,
        }
        result
    }

    /// Like [`Self::sync`], trying again with growing pauses (1 s, 2 s, 4 s … at most 60 s)
    /// while the failure is one that waiting can cure.
    pub fn sync_with_retry(
        &mut self,
        server_url: Option<&str>,
        retries: u32,
    ) -> Result<SyncReport> {
        let mut attempt = 0;
        loop {
            match self.sync(server_url) {
                Err(e) if e.is_retryable() && attempt < retries => {
                    std::thread::sleep(
                        Duration::from_secs(1u64 << attempt.min(6)).min(Duration::from_secs(60)),
                    );
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    fn sync_once(&mut self, server_url: Option<&str>) -> Result<SyncReport> {
        let token = self.meta_value("token")?.ok_or(StoreError::NotEnrolled)?;
        let url = match server_url {
            Some(u) => u.to_string(),
            None => self
                .meta_value("server_url")?
                .ok_or(StoreError::NotEnrolled)?,
        };
        // Also an address stored before plain http:// to another machine was refused.
        let url = check_server_url(&url)?;
        let mut http = Http::new(&url, &token)?;
        self.push_all(&mut http)?;
        if self.bootstrap_due()? {
            self.bootstrap_all(&mut http)?;
        }
        self.pull_all(&mut http)?;
        self.refresh_directory(&mut http)?;
        self.refresh_scope(&mut http)?;
        if let Some(until) = http.lease_until {
            self.set_lease(until)?;
        }
        Ok(http.report)
    }

    /// The next batch of queued changes, in the order they were queued, with their bytes.
    fn outbox_batch(&self, held_back: &[Uuid]) -> Result<Vec<(Vec<u8>, WireChange)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT o.hash, o.doc_id, c.bytes, o.signature FROM outbox o LEFT JOIN changes c ON c.doc_id = o.doc_id AND c.hash = o.hash \
             WHERE o.doc_id NOT IN (SELECT value FROM json_each(?2)) \
             ORDER BY o.queued_seq LIMIT ?1",
        )?;
        let held_back = serde_json::to_string(held_back).map_err(|e| StoreError::Encode {
            message: e.to_string(),
        })?;
        let rows = stmt
            .query_map(params![PUSH_BATCH as i64, held_back], |r| {
                Ok((
                    r.get::<_, Vec<u8>>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<Vec<u8>>>(2)?,
                    r.get::<_, Option<Vec<u8>>>(3)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let mut docs: HashMap<Uuid, AutoCommit> = HashMap::new();
        let mut out = Vec::with_capacity(rows.len());
        for (hash, doc_id, bytes, signature) in rows {
            let household = Uuid::parse_str(&doc_id).map_err(|_| StoreError::NotFound {
                kind: "household",
                id: doc_id.clone(),
            })?;
            let bytes = match bytes {
                Some(b) => b,
                // Compacted into the snapshot: take the change from the document itself.
                None => {
                    let doc = match docs.entry(household) {
                        std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                        // Of any version: a newer one's relayed changes are pushed too.
                        std::collections::hash_map::Entry::Vacant(v) => {
                            v.insert(load_raw(&self.conn, household)?.ok_or_else(|| {
                                StoreError::NotFound {
                                    kind: "household",
                                    id: doc_id.clone(),
                                }
                            })?)
                        }
                    };
                    let hash_array: [u8; 32] =
                        hash.as_slice()
                            .try_into()
                            .map_err(|_| StoreError::NotFound {
                                kind: "change",
                                id: doc_id.clone(),
                            })?;
                    match doc.get_change_by_hash(&ChangeHash(hash_array)) {
                        Some(c) => c.raw_bytes().to_vec(),
                        None => {
                            return Err(StoreError::NotFound {
                                kind: "queued change",
                                id: doc_id,
                            });
                        }
                    }
                }
            };
            out.push((
                hash,
                WireChange {
                    household,
                    seq: 0,
                    bytes,
                    // A signature of another length was never written by this program.
                    signature: signature.and_then(|s| s.try_into().ok()),
                },
            ));
        }
        Ok(out)
    }

    fn push_all(&mut self, http: &mut Http) -> Result<()> {
        // Households the server says left this device's scope: their work is held back (kept,
        // reported) and everything else is pushed.
        let mut held_back: Vec<Uuid> = Vec::new();
        loop {
            let batch = self.outbox_batch(&held_back)?;
            if batch.is_empty() {
                return Ok(());
            }
            let changes: Vec<WireChange> = batch.iter().map(|(_, c)| c.clone()).collect();
            match http.post(
                "/v1/push",
                wire::CHANGES_CONTENT_TYPE,
                wire::encode_push(&changes),
            ) {
                Ok(answer) => {
                    let response: PushResponse = serde_json::from_slice(&answer)
                        .map_err(|e| protocol("unexpected push answer", e))?;
                    if response.accepted.len() != batch.len() {
                        return Err(StoreError::Protocol {
                            message: "the server acknowledged a different number of changes".into(),
                        });
                    }
                    let tx = self
                        .conn
                        .transaction_with_behavior(TransactionBehavior::Immediate)?;
                    {
                        let mut delete = tx.prepare_cached("DELETE FROM outbox WHERE hash = ?")?;
                        for (hash, _) in &batch {
                            delete.execute([hash])?;
                        }
                    }
                    tx.commit()?;
                    http.report.pushed += batch.len();
                }
                Err(StoreError::Server {
                    code, households, ..
                }) if code == "missing_dependencies" && !households.is_empty() => {
                    for household in households {
                        self.resync_household(http, household)?;
                        self.conn.execute(
                            "DELETE FROM outbox WHERE doc_id = ?",
                            [household.to_string()],
                        )?;
                        http.report.resynced_households.push(household);
                    }
                }
                Err(StoreError::Server {
                    code, households, ..
                }) if HELD_BACK_CODES.contains(&code.as_str()) && !households.is_empty() => {
                    let queued: std::collections::HashSet<Uuid> =
                        batch.iter().map(|(_, c)| c.household).collect();
                    // Only households of this batch: a server naming others is not believed.
                    let named: Vec<Uuid> = households
                        .into_iter()
                        .filter(|h| queued.contains(h) && !held_back.contains(h))
                        .collect();
                    if named.is_empty() {
                        return Err(StoreError::Protocol {
                            message: "the server refused households this push did not carry".into(),
                        });
                    }
                    held_back.extend(named.iter().copied());
                    if code == "out_of_scope" {
                        http.report.kept_out_of_scope.extend(named);
                    } else {
                        http.report
                            .refused
                            .extend(named.into_iter().map(|h| (h, code.clone())));
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Fetches the server's directory when its answers named a version other than the one
    /// stored: who each device is, for the authors history and conflicts show, and the partner
    /// directory referrals and plan steps choose from (none from a server that sends none).
    fn refresh_directory(&mut self, http: &mut Http) -> Result<()> {
        if !self.stale("directory_version", http.directory_version)? {
            return Ok(());
        }
        let body = http.get("/v1/directory")?;
        let directory: wire::Directory = serde_json::from_slice(&body)
            .map_err(|e| protocol("unexpected directory answer", e))?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        crate::authorship::store_directory(&tx, &directory.devices)?;
        crate::partners::store_partners(&tx, &directory.partners)?;
        put_meta(&tx, "directory_version", &directory.version.to_string())?;
        tx.commit()?;
        Ok(())
    }

    /// Fetches the server's list of this device's households when its answers named a scope
    /// version other than the one stored, and removes the households that left the scope.
    fn refresh_scope(&mut self, http: &mut Http) -> Result<()> {
        if !self.stale("scope_version", http.scope_version)? {
            return Ok(());
        }
        let body = http.get("/v1/scope")?;
        let list: wire::ScopeList =
            serde_json::from_slice(&body).map_err(|e| protocol("unexpected scope answer", e))?;
        let report = self.remove_out_of_scope(&list.households)?;
        // With work kept back, the check runs again next sync.
        if report.kept_with_pending_work.is_empty() {
            self.set_meta("scope_version", Some(&list.version.to_string()))?;
        }
        http.report.removed_from_scope += report.removed;
        for h in report.kept_with_pending_work {
            if !http.report.kept_out_of_scope.contains(&h) {
                http.report.kept_out_of_scope.push(h);
            }
        }
        Ok(())
    }

    fn cursor(&self) -> Result<u64> {
        Ok(self
            .meta_value("pull_cursor")?
            .and_then(|c| c.parse().ok())
            .unwrap_or(0))
    }

    /// Pulls batches until the server has no more, for at most [`MAX_PULL_ROUNDS`] rounds.
    fn pull_all(&mut self, http: &mut Http) -> Result<()> {
        for _ in 0..MAX_PULL_ROUNDS {
            let cursor = self.cursor()?;
            let body = http.get(&format!("/v1/pull?after={cursor}"))?;
            let batch = PullBatch::decode(&body).map_err(|e| protocol("bad pull answer", e))?;
            check_cursor(cursor, &batch)?;
            http.report.pulled += batch.changes.len();
            self.apply_pulled(&batch, &mut http.report)?;
            if !batch.more {
                return Ok(());
            }
        }
        http.report.more_to_pull = true;
        Ok(())
    }

    /// Applies one pulled batch household by household and advances the cursor, in one
    /// transaction. A household whose changes cannot be applied is quarantined; the others
    /// and the cursor go on.
    fn apply_pulled(&mut self, batch: &PullBatch, report: &mut SyncReport) -> Result<()> {
        let mut order: Vec<Uuid> = Vec::new();
        let mut by_household: HashMap<Uuid, Vec<Arrived<'_>>> = HashMap::new();
        for wc in &batch.changes {
            by_household
                .entry(wc.household)
                .or_insert_with(|| {
                    order.push(wc.household);
                    Vec::new()
                })
                .push((Some(wc.seq), wc.bytes.as_slice()));
        }
        let mut tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let now = Utc::now();
        for household in order {
            let incoming = by_household.remove(&household).unwrap_or_default();
            apply_household(&mut tx, household, &incoming, now, report)?;
        }
        put_meta(&tx, "pull_cursor", &batch.next_cursor.to_string())?;
        tx.commit()?;
        Ok(())
    }

    /// Brings one household in line with the server through Automerge's own sync protocol.
    /// What arrives goes through the same checks as a pull (and into quarantine if it fails
    /// them); a household of any version can be synced this way.
    fn resync_household(&mut self, http: &mut Http, household: Uuid) -> Result<()> {
        let mut doc = load_raw(&self.conn, household)?.ok_or_else(|| StoreError::NotFound {
            kind: "household",
            id: household.to_string(),
        })?;
        let before = doc.get_heads();
        let mut state = sync::State::new();
        let mut session = Vec::new();
        for _ in 0..DOC_SYNC_ROUNDS {
            let ours = doc.sync().generate_sync_message(&mut state);
            let sent_something = ours.is_some();
            let frame = DocSyncFrame {
                state: session.clone(),
                message: ours.map(|m| m.encode()).unwrap_or_default(),
            };
            let reply = http.post(
                &format!("/v1/households/{household}/sync"),
                "application/octet-stream",
                frame.encode(),
            )?;
            let reply = DocSyncFrame::decode(&reply).map_err(|e| protocol("bad sync answer", e))?;
            session = reply.state;
            if reply.message.is_empty() {
                if !sent_something {
                    break;
                }
                continue;
            }
            let message = sync::Message::decode(&reply.message)
                .map_err(|e| protocol("bad sync message", e))?;
            doc.sync()
                .receive_sync_message(&mut state, message)
                .map_err(|e| protocol("bad sync message", e))?;
        }
        let new: Vec<Vec<u8>> = doc
            .get_changes(&before)
            .iter()
            .map(|c| c.raw_bytes().to_vec())
            .collect();
        if new.is_empty() {
            return Ok(());
        }
        let changes: Vec<Arrived<'_>> = new.iter().map(|b| (None, b.as_slice())).collect();
        let mut tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        apply_household(&mut tx, household, &changes, Utc::now(), &mut http.report)?;
        tx.commit()?;
        Ok(())
    }
}

/// A pull batch must move the cursor forward: one that goes back would have the client ask
/// again for what it applied, and one that stays put while carrying changes or announcing more
/// would have it ask for the same batch without end. A batch with nothing in it may stay put
/// (nothing new on the server).
fn check_cursor(cursor: u64, batch: &PullBatch) -> Result<()> {
    if batch.next_cursor < cursor {
        return Err(StoreError::Protocol {
            message: format!(
                "the server moved the pull cursor back from {cursor} to {}",
                batch.next_cursor
            ),
        });
    }
    if batch.next_cursor == cursor && (batch.more || !batch.changes.is_empty()) {
        return Err(StoreError::Protocol {
            message: format!("a pull batch that does not move the cursor past {cursor}"),
        });
    }
    Ok(())
}

/// What became of one household's received changes.
pub(crate) enum Applied {
    /// New changes stored; `newer` when a newer Madadkar wrote the household.
    Changed { newer: bool },
    /// Nothing new (every change was already here).
    Unchanged,
}

/// Why a household's changes were not stored: the household's own fault (it is quarantined,
/// with this reason), or the store's (the disk, a lock), which stops the sync.
pub(crate) enum Fault {
    Household(String),
    Store(StoreError),
}

impl From<StoreError> for Fault {
    fn from(e: StoreError) -> Self {
        match e {
            // A row of this household that collides with another's (a member id reused by a
            // hostile document) is the household's fault; any other database failure is not.
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(f, _))
                if f.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                Fault::Household(format!("its rows collide with another household's ({f})"))
            }
            e @ (StoreError::Sqlite(_) | StoreError::Io { .. }) => Fault::Store(e),
            other => Fault::Household(other.to_string()),
        }
    }
}

impl From<rusqlite::Error> for Fault {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::from(e).into()
    }
}

/// Applies `incoming` to `household` in a savepoint of `tx`, together with the changes kept
/// from an earlier failure. On success the quarantine (if any) is lifted; on the household's
/// own failure everything it wrote is rolled back, and `incoming` is kept with the reason.
fn apply_household(
    tx: &mut Transaction<'_>,
    household: Uuid,
    incoming: &[Arrived<'_>],
    now: DateTime<Utc>,
    report: &mut SyncReport,
) -> Result<()> {
    let kept = quarantine::kept(tx, household)?;
    let mut all: Vec<Arrived<'_>> = kept
        .iter()
        .flatten()
        .map(|(seq, bytes)| (*seq, bytes.as_slice()))
        .collect();
    all.extend_from_slice(incoming);
    let savepoint = tx.savepoint()?;
    match store_received(&savepoint, household, &all) {
        Ok(applied) => {
            if kept.is_some() {
                quarantine::lift(&savepoint, household)?;
            }
            savepoint.commit()?;
            if let Applied::Changed { newer } = applied {
                report.households_changed += 1;
                report.needs_update += usize::from(newer);
            }
        }
        Err(Fault::Household(reason)) => {
            drop(savepoint);
            quarantine::keep(tx, household, &reason, incoming, now)?;
            report.quarantined += 1;
        }
        Err(Fault::Store(e)) => return Err(e),
    }
    Ok(())
}

/// Parses and applies `changes` to the stored copy of `household` (or a new one) and stores
/// the result with its projections, after checking it in memory: every change parses within
/// bounds, Automerge takes them, none waits for a change that has not arrived, and the document
/// is a household of this version (or a newer one, kept read-only) carrying `household`'s id.
pub(crate) fn store_received(
    conn: &Connection,
    household: Uuid,
    changes: &[Arrived<'_>],
) -> Result<Applied, Fault> {
    let mut parsed = Vec::with_capacity(changes.len());
    for (seq, bytes) in changes {
        parsed.push(parse_change(bytes).map_err(|e| {
            Fault::Household(match seq {
                Some(seq) => format!("change {seq}: {e}"),
                None => format!("a change: {e}"),
            })
        })?);
    }
    let stored = load_raw(conn, household)?;
    let is_new = stored.is_none();
    let mut doc = stored.unwrap_or_default();
    let before = doc.get_heads();
    // `doc` is this function's own copy: thrown away if Automerge fails inside. Building the
    // new changes walks their part of the change graph, which Automerge accepts broken in some
    // cases and panics on only when a later read walks it.
    untrusted("its changes", || {
        doc.apply_changes(parsed)?;
        doc.get_changes(&before);
        Ok::<_, automerge::AutomergeError>(())
    })
    .map_err(|e| Fault::Household(e.to_string()))?
    .map_err(|e| Fault::Household(format!("Automerge refuses its changes: {e}")))?;
    let missing = doc.get_missing_deps(&[]).len();
    if missing > 0 {
        return Err(Fault::Household(format!(
            "its changes build on {missing} changes that have not arrived"
        )));
    }
    let mut received = HouseholdDoc::receive(doc, household)
        .map_err(|e| Fault::Household(format!("the resulting document cannot be used: {e}")))?;
    let new = received.changes_since(&before);
    if new.is_empty() {
        return Ok(Applied::Unchanged);
    }
    let rows = projection::derive_received(household, &received)?;
    if is_new {
        conn.execute(
            "INSERT INTO documents (id) VALUES (?)",
            [household.to_string()],
        )?;
    }
    append_changes(conn, household, &new, Origin::Server)?;
    projection::write(conn, &household.to_string(), &rows)?;
    maybe_compact(conn, household, &mut received)?;
    Ok(Applied::Changed {
        newer: matches!(received, Received::Newer(_)),
    })
}

/// The device an enrolment speaks for: this replica's, or a new one when it was never set up.
struct EnrollingDevice {
    id: Uuid,
    name: String,
    /// The worker id this replica wrote under before enrolling; `None` for a new replica.
    local_worker_id: Option<String>,
}

fn enrolling_device(
    identity: Option<&crate::Identity>,
    device_name: Option<&str>,
) -> Result<EnrollingDevice> {
    let limit = madadkar_schema::limits::NAME;
    match identity {
        Some(identity) => match device_name {
            Some(other) if madadkar_schema::text::clean_input(other) != identity.device_name => {
                Err(madadkar_schema::ValidationError::Invalid {
                    field: madadkar_schema::Field::DeviceName,
                    input: other.into(),
                    reason: "differs from this replica's device name; a device name is only \
                             given when enrolling a replica that was never set up",
                }
                .into())
            }
            _ => Ok(EnrollingDevice {
                id: identity.device_id,
                name: identity.device_name.clone(),
                local_worker_id: Some(identity.worker_id.clone()),
            }),
        },
        None => Ok(EnrollingDevice {
            id: Uuid::now_v7(),
            name: madadkar_schema::clean_text(
                madadkar_schema::Field::DeviceName,
                device_name.unwrap_or(""),
                limit,
                true,
            )?,
            local_worker_id: None,
        }),
    }
}
