//! Baselines over the coordinator's documents, taken in the same run: the changes gzipped in one
//! stream, the data as plain JSON, and Automerge's own per-document sync to an empty replica.

use std::io::Write;
use std::ops::AddAssign;
use std::time::{Duration, Instant};

use anyhow::Result;
use automerge::{
    AutoCommit,
    sync::{self, SyncDoc},
};
use madadkar_client::Store;
use uuid::Uuid;

/// Most rounds Automerge's sync gets to converge one document.
const MAX_ROUNDS: usize = 64;

/// What Automerge's sync exchanged.
#[derive(Debug, Default, Clone, Copy)]
pub struct SyncCost {
    pub messages: u64,
    pub bytes: u64,
    pub rounds: u64,
}

impl AddAssign for SyncCost {
    fn add_assign(&mut self, other: Self) {
        self.messages += other.messages;
        self.bytes += other.bytes;
        self.rounds += other.rounds;
    }
}

/// The baselines summed over every document.
pub struct Baselines {
    /// All changes gzipped in one stream, in bytes.
    pub compressed: u64,
    /// Every household read out as JSON, in bytes.
    pub json_bytes: u64,
    /// Automerge syncing each document to an empty replica.
    pub first: SyncCost,
    pub first_time: Duration,
    /// Automerge syncing each document again once both sides agree.
    pub noop: SyncCost,
}

/// Measures the baselines over the households `ids` of `store`.
pub fn measure(store: &Store, ids: &[Uuid]) -> Result<Baselines> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut json_bytes = 0u64;
    let (mut first, mut noop) = (SyncCost::default(), SyncCost::default());
    let mut first_time = Duration::ZERO;
    for id in ids {
        let mut doc = store.document(*id)?;
        for change in doc.changes_since(&[]) {
            gz.write_all(change.raw_bytes())?;
        }
        json_bytes += serde_json::to_vec(&doc.read()?)?.len() as u64;
        let server_doc = doc.automerge();
        let mut client_doc = AutoCommit::new();
        let start = Instant::now();
        first += automerge_sync(server_doc, &mut client_doc)?;
        first_time += start.elapsed();
        noop += automerge_sync(server_doc, &mut client_doc)?;
    }
    Ok(Baselines {
        compressed: gz.finish()?.len() as u64,
        json_bytes,
        first,
        first_time,
        noop,
    })
}

/// Automerge's own per-document sync between two documents, until neither has more to say.
fn automerge_sync(server: &mut AutoCommit, client: &mut AutoCommit) -> Result<SyncCost> {
    let (mut s_state, mut c_state) = (sync::State::new(), sync::State::new());
    let mut cost = SyncCost::default();
    for _ in 0..MAX_ROUNDS {
        let from_client = client.sync().generate_sync_message(&mut c_state);
        let from_server = server.sync().generate_sync_message(&mut s_state);
        if from_client.is_none() && from_server.is_none() {
            break;
        }
        cost.rounds += 1;
        if let Some(m) = from_client {
            let encoded = m.encode();
            cost.messages += 1;
            cost.bytes += encoded.len() as u64;
            server
                .sync()
                .receive_sync_message(&mut s_state, sync::Message::decode(&encoded)?)?;
        }
        if let Some(m) = from_server {
            let encoded = m.encode();
            cost.messages += 1;
            cost.bytes += encoded.len() as u64;
            client
                .sync()
                .receive_sync_message(&mut c_state, sync::Message::decode(&encoded)?)?;
        }
    }
    Ok(cost)
}
