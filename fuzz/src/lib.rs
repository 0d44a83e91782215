//! The fuzz targets' bodies, one function per target, and what they share: the real household
//! document they start from, the checksum fix-up that lets mutated documents get past
//! Automerge's chunk checksum, and the reads a replica does on every document it takes in.
//!
//! The targets in `fuzz_targets/` only call these functions, so `tests/tests/fuzz_corpus.rs`
//! (a normal `cargo test`, no nightly) replays `fuzz/corpus/*` and `fuzz/regressions/*`
//! through exactly the code the fuzzer ran.

use automerge::Change;
use automerge::sync::{self, SyncDoc};
use madadkar_client::bundle;
use madadkar_schema::HouseholdDoc;
use madadkar_schema::change::parse_change;
use madadkar_schema::wire::{DocSyncFrame, PullBatch, decode_push};
use sha2::{Digest, Sha256};

#[path = "document_ops.rs"]
pub mod document_ops;

thread_local! {
    /// The last panic's message, kept by [`init`]'s hook for [`fuzz`] to print.
    static LAST_PANIC: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

/// Replaces libfuzzer-sys' panic hook, which aborts on every panic, even one the code under
/// test catches: `HouseholdDoc` catches Automerge's own panics on malformed input and refuses
/// the input, and that refusal is the behaviour being tested. A panic is a finding only when
/// it escapes the target's body; [`fuzz`] aborts then, with the message.
pub fn init() {
    std::panic::set_hook(Box::new(|info| {
        LAST_PANIC.with(|p| *p.borrow_mut() = info.to_string());
    }));
}

/// Runs one target's body on one input; a panic that escapes it aborts (libFuzzer's crash).
pub fn fuzz(body: fn(&[u8]), data: &[u8]) {
    if std::panic::catch_unwind(|| body(data)).is_err() {
        LAST_PANIC.with(|p| eprintln!("uncaught panic: {}", p.borrow()));
        std::process::abort();
    }
}

/// A target's body: one input, checked by not panicking.
pub type Body = fn(&[u8]);

/// Every target by name (the directory names under `fuzz/corpus/`), with its body.
pub const TARGETS: &[(&str, Body)] = &[
    ("parse_change", parse_change_target),
    ("push_frame", push_frame),
    ("pull_batch", pull_batch),
    ("doc_sync_frame", doc_sync_frame),
    ("bundle", bundle_file),
    ("document", document),
    ("document_ops", document_ops::run),
];

/// One change's bytes: `parse_change` (size, inflation and operation bounds), then the change
/// applied to a real household and to an empty one, and both read.
pub fn parse_change_target(data: &[u8]) {
    take_in_change(data);
}

/// A push body as the server receives it: the changes frame, then every change parsed within
/// bounds and applied to a household, as the server's validation does.
pub fn push_frame(data: &[u8]) {
    if let Ok(changes) = decode_push(data) {
        for change in changes {
            take_in_change(&change.bytes);
        }
    }
}

/// A pull answer as the client receives it from a server it does not trust: the batch header
/// and changes frame, then every change parsed within bounds and applied.
pub fn pull_batch(data: &[u8]) {
    if let Ok(batch) = PullBatch::decode(data) {
        for change in batch.changes {
            take_in_change(&change.bytes);
        }
    }
}

/// A per-household sync round as the server receives it: the frame, the Automerge sync message
/// inside it, and that message taken into a real household document, which is then read.
pub fn doc_sync_frame(data: &[u8]) {
    let Ok(frame) = DocSyncFrame::decode(data) else {
        return;
    };
    let Ok(message) = sync::Message::decode(&frame.message) else {
        return;
    };
    let mut doc = base_document();
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
        exercise(&mut doc);
    }
}

/// A bundle file's contents (the inner, unencrypted format): the framing, then every document
/// loaded, its id compared and read as `Store::import_bundle` does before writing anything.
pub fn bundle_file(data: &[u8]) {
    let Ok(decoded) = bundle::decode(data) else {
        return;
    };
    for household in decoded.households {
        let declared = household.id;
        // Fixed checksums let mutations inside a document reach the decoder.
        let bytes = fix_checksums(household.document);
        let Ok(mut doc) = HouseholdDoc::load(&bytes) else {
            continue;
        };
        if doc.id().ok() == Some(declared) {
            exercise(&mut doc);
        }
    }
}

/// A stored or received whole document: `HouseholdDoc::load`, then `read`, `conflicts`,
/// `history` and the list projection. Checksums are fixed first so mutations reach the
/// decoder rather than all failing Automerge's checksum test.
pub fn document(data: &[u8]) {
    let bytes = fix_checksums(data);
    if let Ok(mut doc) = HouseholdDoc::load(&bytes) {
        exercise(&mut doc);
        // What a replica writes back must load again.
        let saved = doc.save();
        if let Ok(mut again) = HouseholdDoc::load(&saved) {
            exercise(&mut again);
        }
    }
}

/// A real household saved by `HouseholdDoc::create` and the store's actions (members, visits,
/// a referral, a conflict between two devices), written by `tests/src/bin/fuzz_seeds.rs`.
pub const BASE_DOCUMENT: &[u8] = include_bytes!("../seeds/household.automerge");

/// The base document, loaded afresh (each input must start from the same state).
pub fn base_document() -> HouseholdDoc {
    match HouseholdDoc::load(BASE_DOCUMENT) {
        Ok(doc) => doc,
        // The seed is committed and checked by `fuzz_seeds`; a broken one is a setup error.
        Err(e) => panic!("fuzz/seeds/household.automerge does not load: {e}"),
    }
}

/// Every read a replica makes of a document it holds: the domain model, the conflicts, the
/// history and the list projection. Errors are fine (they are refusals); panics, aborts and
/// hangs are findings.
pub fn exercise(doc: &mut HouseholdDoc) {
    let _ = doc.id();
    let _ = doc.read();
    let _ = doc.conflict_paths();
    let _ = doc.conflicts();
    let _ = doc.history();
    let _ = madadkar_client::projection::derive(doc);
}

/// Takes in one received change as a replica would: parsed within bounds, applied to the
/// household it names (here the base document) and to an empty one (a household new to this
/// replica), then read.
pub fn take_in_change(bytes: &[u8]) {
    let Ok(change) = parse_change(bytes) else {
        return;
    };
    apply_and_read(vec![change.clone()]);
    if let Ok(mut fresh) = HouseholdDoc::from_parts(None, [change.raw_bytes()]) {
        exercise(&mut fresh);
    }
}

/// Applies changes to the base document and reads the result.
pub fn apply_and_read(changes: Vec<Change>) {
    let mut doc = base_document();
    // A change that breaks the shape is refused by `apply_changes`, but the document has taken
    // it in; a replica that kept going would read it, so read it too.
    let _ = doc.apply_changes(changes);
    exercise(&mut doc);
}

/// Automerge's chunk header: magic, a 4-byte checksum, the chunk type, a LEB128 length.
const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];

/// Rewrites the checksum of every chunk in `bytes` so that mutations inside a chunk reach
/// Automerge's decoder instead of all stopping at the checksum test. Bytes that do not frame
/// as chunks are left as they are.
pub fn fix_checksums(bytes: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let mut at = 0;
    while out.len() >= at + 10 && out[at..at + 4] == MAGIC {
        let type_at = at + 8;
        let Some((len, leb_len)) = uleb128(&out[type_at + 1..]) else {
            break;
        };
        let data_at = type_at + 1 + leb_len;
        let Some(end) = usize::try_from(len)
            .ok()
            .and_then(|l| data_at.checked_add(l))
            .filter(|&e| e <= out.len())
        else {
            break;
        };
        let mut hasher = Sha256::new();
        hasher.update([out[type_at]]);
        hasher.update(minimal_uleb128(len));
        hasher.update(&out[data_at..end]);
        let hash = hasher.finalize();
        out[at + 4..at + 8].copy_from_slice(&hash[..4]);
        at = end;
    }
    out
}

/// A LEB128 unsigned integer and the bytes it took.
fn uleb128(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for (i, b) in bytes.iter().enumerate().take(10) {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

fn minimal_uleb128(mut value: u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}
