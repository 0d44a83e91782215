//! A per-household sync round as the server receives it: the frame, the Automerge sync message
//! inside it, and that message taken into a real household document, which is then read.
#![no_main]

use automerge::sync::{self, SyncDoc};
use libfuzzer_sys::fuzz_target;
use madadkar_schema::HouseholdDoc;
use madadkar_schema::wire::DocSyncFrame;

fuzz_target!(|data: &[u8]| {
    let Ok(frame) = DocSyncFrame::decode(data) else {
        return;
    };
    let Ok(message) = sync::Message::decode(&frame.message) else {
        return;
    };
    let mut doc = madadkar_fuzz::base_document();
    let mut state = sync::State::new();
    if doc
        .automerge()
        .sync()
        .receive_sync_message(&mut state, message)
        .is_err()
    {
        return;
    }
    let _ = doc.automerge().sync().generate_sync_message(&mut state);
    if let Ok(mut doc) = HouseholdDoc::from_automerge(doc.automerge().clone()) {
        madadkar_fuzz::exercise(&mut doc);
    }
});
