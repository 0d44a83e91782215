//! What the runner prepares before any timing starts: each household document as the server
//! holds it now (fetched over the per-household sync, the client's own fallback path, since a
//! device's pulls leave out its own changes), and from it a chain of real visit changes, each
//! depending on the one before, authored and signed as the device's own changes are, every one
//! already encoded as a push body.

use anyhow::{Context, Result, bail, ensure};
use automerge::{
    AutoCommit,
    sync::{self, SyncDoc},
};
use chrono::{NaiveDate, Utc};
use madadkar_schema::{
    HouseholdDoc,
    document::device_actor,
    wire::{self, DocSyncFrame, WireChange},
};
use uuid::Uuid;

use crate::http::Conn;
use crate::plan::Device;
use crate::synth;

/// Rounds of the per-household sync before giving up; two or three settle a household.
const SYNC_ROUNDS: usize = 8;

/// The household as the server holds it now, through `conn`'s device's per-household sync.
pub async fn fetch_document(conn: &Conn, household: Uuid) -> Result<AutoCommit> {
    let mut doc = AutoCommit::new();
    let mut state = sync::State::new();
    let mut session = Vec::new();
    for _ in 0..SYNC_ROUNDS {
        let ours = doc.sync().generate_sync_message(&mut state);
        let sent = ours.is_some();
        let frame = DocSyncFrame {
            state: session.clone(),
            message: ours.map(|m| m.encode()).unwrap_or_default(),
        };
        let reply = conn.doc_sync(household, &frame).await?;
        session = reply.state;
        if reply.message.is_empty() {
            if !sent {
                return Ok(doc);
            }
            continue;
        }
        let message = sync::Message::decode(&reply.message).with_context(|| {
            format!("household {household}: a sync message that does not decode")
        })?;
        doc.sync()
            .receive_sync_message(&mut state, message)
            .with_context(|| format!("household {household}: a sync message Automerge refuses"))?;
    }
    bail!("household {household}: the per-household sync did not settle in {SYNC_ROUNDS} rounds")
}

/// `n` visits recorded by `device` on `household` (whose current document is `doc`), one
/// change each depending on the one before, each encoded as the body of a push of that one
/// change with its author's signature (format 2, as a client sends its own changes).
pub fn visit_chain(
    doc: AutoCommit,
    household: Uuid,
    device: &Device,
    n: usize,
    today: NaiveDate,
) -> Result<Vec<Vec<u8>>> {
    let mut doc = HouseholdDoc::from_automerge(doc)
        .with_context(|| format!("household {household} as the server holds it"))?;
    doc.set_actor(device_actor(device.device_id));
    let key = device.key()?;
    let meta = device.author().meta();
    let mut bodies = Vec::with_capacity(n);
    for i in 0..n {
        let before = doc.heads();
        let visit = synth::visit(i as u64, today).validated(today)?;
        doc.add_visit(&visit, &meta, Utc::now())?;
        let new = doc.changes_since(&before);
        ensure!(
            new.len() == 1,
            "a visit made {} changes, not one",
            new.len()
        );
        let change = &new[0];
        let hash = change.hash().0;
        bodies.push(wire::encode_push(&[WireChange {
            household,
            seq: 0,
            bytes: change.raw_bytes().to_vec(),
            signature: Some(key.sign(household, &hash)),
        }]));
    }
    Ok(bodies)
}
