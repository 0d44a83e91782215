//! The sync client: enrolment, push of queued changes, pull of changes after a cursor, and the
//! per-household Automerge sync used when a change's dependencies are missing.
//!
//! Every step is resumable: pushed changes leave the outbox only once the server acknowledged
//! them, and pulled changes are applied in the same transaction that advances the cursor. A
//! failed sync loses nothing and can simply run again.

use std::collections::HashMap;
use std::io::Read;
use std::time::Duration;

use automerge::{
    Change, ChangeHash,
    sync::{self, SyncDoc},
};
use chrono::Utc;
use madadkar_schema::{
    HouseholdDoc,
    wire::{
        self, DocSyncFrame, EnrollRequest, EnrollResponse, ErrorBody, PullBatch, PushResponse,
        WireChange,
    },
};
use reqwest::blocking::{Client, RequestBuilder};
use rusqlite::{OptionalExtension, TransactionBehavior, params};
use serde::Serialize;
use uuid::Uuid;

use crate::error::{Result, StoreError};
use crate::store::{
    Origin, Store, append_changes, load_document, maybe_compact, project, read_identity,
    try_load_document,
};

/// Changes per push request.
const PUSH_BATCH: usize = 1_000;
/// Rounds of per-household sync before giving up.
const DOC_SYNC_ROUNDS: usize = 32;

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

pub(crate) struct Http {
    client: Client,
    base: String,
    token: String,
    report: SyncReport,
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
        })
    }

    /// Sends a request and returns the (decompressed) body of a success, or the server's error.
    /// A server of another protocol version is refused before its body is read.
    fn send(&mut self, request: RequestBuilder, body_len: usize) -> Result<Vec<u8>> {
        let response = request
            .header("accept-encoding", "gzip")
            .bearer_auth(&self.token)
            .send()
            .map_err(network)?;
        self.report.requests += 1;
        self.report.bytes_sent += body_len as u64;
        check_protocol(response.headers())?;
        let status = response.status();
        let gzipped = response
            .headers()
            .get("content-encoding")
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"gzip"));
        let raw = response.bytes().map_err(network)?;
        self.report.bytes_received += raw.len() as u64;
        let body = if gzipped {
            let mut out = Vec::with_capacity(raw.len() * 4);
            flate2::read::GzDecoder::new(raw.as_ref())
                .read_to_end(&mut out)
                .map_err(|e| protocol("bad compressed answer", e))?;
            out
        } else {
            raw.to_vec()
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

    fn post(&mut self, path: &str, content_type: &str, body: Vec<u8>) -> Result<Vec<u8>> {
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

    fn set_meta(&self, key: &str, value: Option<&str>) -> Result<()> {
        match value {
            Some(v) => self.conn.execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = ?2",
                params![key, v],
            )?,
            None => self.conn.execute("DELETE FROM meta WHERE key = ?", [key])?,
        };
        Ok(())
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
        let url = server_url.trim().trim_end_matches('/');
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(madadkar_schema::ValidationError::Invalid {
                field: madadkar_schema::Field::Server,
                input: server_url.into(),
                reason: "must start with http:// or https://",
            }
            .into());
        }
        let device = enrolling_device(self.identity.as_ref(), device_name)?;
        let request = EnrollRequest {
            code: code.trim().to_string(),
            device_id: device.id,
            device_name: device.name.clone(),
            local_worker_id: device.local_worker_id.clone(),
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
            tx.execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = ?2",
                params![key, value],
            )?;
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
        let result = self.sync_once(server_url);
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
        let mut http = Http::new(&url, &token)?;
        self.push_all(&mut http)?;
        self.pull_all(&mut http)?;
        Ok(http.report)
    }

    /// The next batch of queued changes, in the order they were queued, with their bytes.
    fn outbox_batch(&self) -> Result<Vec<(Vec<u8>, WireChange)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT o.hash, o.doc_id, c.bytes FROM outbox o LEFT JOIN changes c ON c.doc_id = o.doc_id AND c.hash = o.hash \
             ORDER BY o.queued_seq LIMIT ?",
        )?;
        let rows = stmt
            .query_map([PUSH_BATCH as i64], |r| {
                Ok((
                    r.get::<_, Vec<u8>>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<Vec<u8>>>(2)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let mut docs: HashMap<Uuid, HouseholdDoc> = HashMap::new();
        let mut out = Vec::with_capacity(rows.len());
        for (hash, doc_id, bytes) in rows {
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
                        std::collections::hash_map::Entry::Vacant(v) => {
                            v.insert(load_document(&self.conn, household)?)
                        }
                    };
                    let hash_array: [u8; 32] =
                        hash.as_slice()
                            .try_into()
                            .map_err(|_| StoreError::NotFound {
                                kind: "change",
                                id: doc_id.clone(),
                            })?;
                    match doc.change_by_hash(&ChangeHash(hash_array)) {
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
                },
            ));
        }
        Ok(out)
    }

    fn push_all(&mut self, http: &mut Http) -> Result<()> {
        loop {
            let batch = self.outbox_batch()?;
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
                Err(e) => return Err(e),
            }
        }
    }

    fn pull_all(&mut self, http: &mut Http) -> Result<()> {
        loop {
            let cursor: u64 = self
                .meta_value("pull_cursor")?
                .and_then(|c| c.parse().ok())
                .unwrap_or(0);
            let body = http.get(&format!("/v1/pull?after={cursor}"))?;
            let batch = PullBatch::decode(&body).map_err(|e| protocol("bad pull answer", e))?;
            http.report.pulled += batch.changes.len();
            http.report.households_changed += self.apply_pulled(&batch)?;
            if !batch.more {
                return Ok(());
            }
        }
    }

    /// Applies one pulled batch and advances the cursor, in one transaction.
    fn apply_pulled(&mut self, batch: &PullBatch) -> Result<usize> {
        let mut order: Vec<Uuid> = Vec::new();
        let mut by_household: HashMap<Uuid, Vec<Change>> = HashMap::new();
        for wc in &batch.changes {
            let change = Change::try_from(wc.bytes.as_slice())
                .map_err(|e| protocol("the server sent a change that does not parse", e))?;
            by_household
                .entry(wc.household)
                .or_insert_with(|| {
                    order.push(wc.household);
                    Vec::new()
                })
                .push(change);
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut changed = 0;
        for household in order {
            let incoming = by_household.remove(&household).unwrap_or_default();
            let (mut doc, new) = match try_load_document(&tx, household)? {
                Some(mut doc) => {
                    let before = doc.heads();
                    doc.apply_changes(incoming)?;
                    let new = doc.changes_since(&before);
                    (doc, new)
                }
                None => {
                    let bytes: Vec<&[u8]> = incoming.iter().map(|c| c.raw_bytes()).collect();
                    let mut doc = HouseholdDoc::from_parts(None, bytes)?;
                    tx.execute(
                        "INSERT INTO documents (id) VALUES (?)",
                        [household.to_string()],
                    )?;
                    let all = doc.changes_since(&[]);
                    (doc, all)
                }
            };
            if new.is_empty() {
                continue;
            }
            append_changes(&tx, household, &new, Origin::Server)?;
            project(&tx, household, &doc)?;
            maybe_compact(&tx, household, &mut doc)?;
            changed += 1;
        }
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('pull_cursor', ?1) ON CONFLICT (key) DO UPDATE SET value = ?1",
            [batch.next_cursor.to_string()],
        )?;
        tx.commit()?;
        Ok(changed)
    }

    /// Brings one household in line with the server through Automerge's own sync protocol.
    fn resync_household(&mut self, http: &mut Http, household: Uuid) -> Result<()> {
        let mut doc = load_document(&self.conn, household)?;
        let before = doc.heads();
        let mut state = sync::State::new();
        let mut session = Vec::new();
        for _ in 0..DOC_SYNC_ROUNDS {
            let ours = doc.automerge().sync().generate_sync_message(&mut state);
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
            doc.automerge()
                .sync()
                .receive_sync_message(&mut state, message)
                .map_err(|e| protocol("bad sync message", e))?;
        }
        let new = doc.changes_since(&before);
        if !new.is_empty() {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            append_changes(&tx, household, &new, Origin::Server)?;
            project(&tx, household, &doc)?;
            tx.commit()?;
        }
        Ok(())
    }
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
