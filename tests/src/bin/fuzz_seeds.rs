//! Writes the fuzzers' seed corpora from real data: a household built by `HouseholdDoc::create`
//! and the document actions (members, visits, a referral, a conflict between two devices), the
//! changes it is made of, and the push, pull, per-household sync and bundle frames that carry
//! them. Run from the workspace root: `cargo run -p madadkar-e2e --bin fuzz_seeds -- fuzz`.
//! The base document is written only when missing, since the committed corpora were made from it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use automerge::sync::{self, SyncDoc};
use chrono::{NaiveDate, TimeZone, Utc};
use madadkar_client::bundle;
use madadkar_schema::document::device_actor;
use madadkar_schema::wire::{DocSyncFrame, PullBatch, WireChange, encode_push};
use madadkar_schema::{
    ChangeMeta, HouseholdDoc, HouseholdEdit, NationalId, NeedDomain, NewHousehold, NewMember,
    NewReferral, NewVisit, ReferralKind, ReferralStatus, ReferralUpdate, Relation, VisitKind,
};
use uuid::Uuid;

fn date(y: i32, m: u32, d: u32) -> Result<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d).context("date")
}

/// A household with two members, two visits, a referral with two events and a phone number
/// two devices set differently while apart.
fn household() -> Result<HouseholdDoc> {
    let a = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_00a1);
    let b = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_00b2);
    let id = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001);
    let now = Utc
        .with_ymd_and_hms(2025, 10, 1, 9, 0, 0)
        .single()
        .context("time")?;
    let meta_a = ChangeMeta::new("worker-a", "worker A", &a.to_string());
    let meta_b = ChangeMeta::new("worker-b", "worker B", &b.to_string());
    let head = NewMember {
        national_id: Some(NationalId::with_check_digit(49_937_089)),
        ..NewMember::named("علی", "کریمی", Relation::Head)
    };
    let new = NewHousehold {
        district: "منطقه ۳".into(),
        address: "کوچه یاس، پلاک ۴".into(),
        phone: Some("09121234567".into()),
        ..Default::default()
    };
    let (mut doc, _) = HouseholdDoc::create(device_actor(a), id, &new, &head, &meta_a, now)?;
    doc.add_member(
        &NewMember::named("مریم", "کریمی", Relation::Spouse),
        &meta_a,
        now,
    )?;
    let needs = BTreeMap::from([(NeedDomain::Income, 4), (NeedDomain::Housing, 3)]);
    let visit = doc.add_visit(
        &NewVisit {
            date: date(2025, 10, 1)?,
            kind: VisitKind::Home,
            observations: "اجاره سه ماه عقب افتاده".into(),
            needs,
            followup_date: Some(date(2025, 10, 20)?),
        },
        &meta_a,
        now,
    )?;
    let referral = doc.add_referral(
        &NewReferral {
            kind: ReferralKind::BankLoan,
            partner: Some("bank-melli-enghelab".into()),
            target: String::new(),
            visit_id: Some(visit),
            date: date(2025, 10, 2)?,
            note: String::new(),
        },
        &meta_a,
        now,
    )?;
    doc.update_referral(
        referral,
        &ReferralUpdate {
            status: ReferralStatus::Approved,
            date: date(2025, 10, 9)?,
            note: "پذیرفته شد".into(),
            amount: None,
            reason: None,
        },
        &meta_a,
        now,
    )?;
    // A second device edits the same field while apart: a conflict both values of which stay.
    let mut other = HouseholdDoc::load(&doc.save())?;
    other.set_actor(device_actor(b));
    let phone = |p: &str| HouseholdEdit {
        phone: Some(p.into()),
        ..Default::default()
    };
    doc.edit_household(&phone("09121111111"), &meta_a, now)?;
    other.edit_household(&phone("09122222222"), &meta_b, now)?;
    other.add_visit(
        &NewVisit {
            date: date(2025, 10, 3)?,
            kind: VisitKind::Phone,
            observations: "تماس تلفنی ".repeat(40),
            needs: BTreeMap::new(),
            followup_date: None,
        },
        &meta_b,
        now,
    )?;
    doc.merge(&mut other)?;
    doc.read()?;
    anyhow::ensure!(
        doc.conflicts()?.len() == 1,
        "the seed should hold one conflict"
    );
    Ok(doc)
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join(name), bytes).with_context(|| format!("writing {name}"))
}

fn main() -> Result<()> {
    let fuzz = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "fuzz".into()));
    let base_path = fuzz.join("seeds/household.automerge");
    if !base_path.exists() {
        write(
            &fuzz.join("seeds"),
            "household.automerge",
            &household()?.save(),
        )?;
    }
    let mut doc = HouseholdDoc::load(&std::fs::read(&base_path)?)?;
    let id = doc.id()?;
    let corpus = fuzz.join("corpus");
    let mut changes = doc.changes_since(&[]);

    write(&corpus.join("document"), "household", &doc.save())?;
    let concatenated: Vec<u8> = changes
        .iter()
        .flat_map(|c| c.raw_bytes().to_vec())
        .collect();
    write(&corpus.join("document"), "changes", &concatenated)?;

    for (i, change) in changes.iter_mut().enumerate() {
        write(
            &corpus.join("parse_change"),
            &format!("change-{i}"),
            change.raw_bytes(),
        )?;
        // Large changes go compressed (Automerge's deflated chunk type).
        let packed = change.bytes().to_vec();
        if packed != change.raw_bytes() {
            write(
                &corpus.join("parse_change"),
                &format!("compressed-{i}"),
                &packed,
            )?;
        }
    }

    let wire: Vec<WireChange> = changes
        .iter()
        .map(|c| WireChange::new(id, 0, c.raw_bytes().to_vec()))
        .collect();
    write(&corpus.join("push_frame"), "all", &encode_push(&wire))?;
    write(&corpus.join("push_frame"), "one", &encode_push(&wire[..1]))?;
    write(&corpus.join("push_frame"), "empty", &encode_push(&[]))?;
    let numbered: Vec<WireChange> = wire
        .iter()
        .zip(1u64..)
        .map(|(c, seq)| WireChange { seq, ..c.clone() })
        .collect();
    let batch = |more, changes: &[WireChange]| PullBatch {
        next_cursor: changes.len() as u64,
        more,
        changes: changes.to_vec(),
    };
    write(
        &corpus.join("pull_batch"),
        "all",
        &batch(false, &numbered).encode(),
    )?;
    write(
        &corpus.join("pull_batch"),
        "more",
        &batch(true, &numbered[..2]).encode(),
    )?;
    write(
        &corpus.join("pull_batch"),
        "empty",
        &batch(false, &[]).encode(),
    )?;

    // A replica holding an older copy syncs with one holding the whole household: every message
    // it sends (heads, then the changes the other lacks) framed as it goes to the server.
    let mut old = HouseholdDoc::from_parts(None, changes[..3].iter().map(|c| c.raw_bytes()))?;
    let (mut ours, mut theirs) = (sync::State::new(), sync::State::new());
    let mut round = 0;
    let mut session = Vec::new();
    loop {
        let from_old = old.automerge().sync().generate_sync_message(&mut ours);
        let from_full = doc.automerge().sync().generate_sync_message(&mut theirs);
        if from_old.is_none() && from_full.is_none() {
            break;
        }
        let frame = DocSyncFrame {
            state: session.clone(),
            message: from_old
                .as_ref()
                .map(|m| m.clone().encode())
                .unwrap_or_default(),
        };
        write(
            &corpus.join("doc_sync_frame"),
            &format!("round-{round}"),
            &frame.encode(),
        )?;
        if let Some(m) = from_old {
            doc.automerge()
                .sync()
                .receive_sync_message(&mut theirs, m)?;
        }
        if let Some(m) = from_full {
            let frame = DocSyncFrame {
                state: vec![1],
                message: m.clone().encode(),
            };
            write(
                &corpus.join("doc_sync_frame"),
                &format!("answer-{round}"),
                &frame.encode(),
            )?;
            old.automerge().sync().receive_sync_message(&mut ours, m)?;
        }
        session = vec![1];
        round += 1;
        anyhow::ensure!(round < 20, "the seed sync does not end");
    }

    let small = HouseholdDoc::from_parts(None, [changes[0].raw_bytes()])?.save();
    let documents = vec![
        bundle::Outgoing {
            id,
            document: doc.save(),
            signatures: vec![],
        },
        bundle::Outgoing {
            id,
            document: small,
            signatures: vec![],
        },
    ];
    // A fixed key and device: the seeds stay the same from run to run.
    let key = madadkar_schema::authorship::DeviceKey::from_secret(&[7; 32]);
    let device = uuid::Uuid::from_u128(7);
    write(
        &corpus.join("bundle"),
        "two",
        &bundle::encode(&documents, device, &key),
    )?;
    write(
        &corpus.join("bundle"),
        "empty",
        &bundle::encode(&[], device, &key),
    )?;
    std::fs::create_dir_all(corpus.join("document_ops"))?;
    println!("seed corpora written under {}", corpus.display());
    Ok(())
}
