//! Changes that made Automerge panic under the fuzzer (`fuzz/regressions/parse_change/`), sent
//! by an enrolled device to the real server's per-household sync inside an Automerge sync
//! message: the server must answer (not drop the connection or fail inside), store none of
//! them, and go on serving everyone. The server's handler does not guard Automerge against
//! panics (docs/reliability.md, F4); this guards the path with the inputs known to panic
//! elsewhere. Needs the server built first (`cargo build -p madadkar-server --bins`).

use std::path::Path;

use anyhow::Result;
use automerge::sync::{ChunkList, Message, MessageVersion};
use madadkar_e2e::{Replica, Server};
use madadkar_schema::HouseholdDoc;
use madadkar_schema::wire::DocSyncFrame;

#[test]
fn a_sync_message_carrying_a_change_that_made_automerge_panic_is_answered() -> Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut base =
        HouseholdDoc::load(&std::fs::read(root.join("fuzz/seeds/household.automerge"))?)?;
    let household = base.id()?;
    let base_changes: Vec<Vec<u8>> = base
        .changes_since(&[])
        .iter()
        .map(|c| c.raw_bytes().to_vec())
        .collect();
    let mut crashers: Vec<_> = std::fs::read_dir(root.join("fuzz/regressions/parse_change"))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    crashers.sort();

    let server = Server::start()?;
    server.add_group("g1")?;
    let a = server.add_worker("worker A", Some("g1"), "field")?;
    let mut a = Replica::enrolled(&server, &a, "laptop A")?;
    let token = a.token()?;
    let http = reqwest::blocking::Client::new();
    for crasher in &crashers {
        let mut chunks = base_changes.clone();
        chunks.push(std::fs::read(crasher)?);
        let message = Message {
            heads: Vec::new(),
            need: Vec::new(),
            have: Vec::new(),
            changes: ChunkList::from(chunks),
            flags: None,
            version: MessageVersion::V1,
        };
        let frame = DocSyncFrame {
            state: Vec::new(),
            message: message.encode(),
        };
        let answer = http
            .post(format!("{}/v1/households/{household}/sync", server.url))
            .bearer_auth(&token)
            .header("content-type", "application/octet-stream")
            .body(frame.encode())
            .send();
        let status = match answer {
            Ok(r) => r.status().as_u16(),
            Err(e) => panic!(
                "{}: the server dropped the connection: {e}",
                crasher.display()
            ),
        };
        assert!(status < 500, "{}: answered {status}", crasher.display());
        let hash = automerge::Change::try_from(std::fs::read(crasher)?.as_slice())?.hash();
        let stored: i64 = server.database()?.query_row(
            "SELECT COUNT(*) FROM changes WHERE hash = ?1",
            [&hash.0[..]],
            |r| r.get(0),
        )?;
        assert_eq!(stored, 0, "{}: stored", crasher.display());
    }
    // Everyone else is still served.
    a.add_household("علی", 51_000_001)?;
    a.store.sync(None)?;
    Ok(())
}
