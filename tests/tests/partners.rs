//! The partner directory end to end: the administrator seeds the real server binary with the
//! demo's partner file (`scripts/demo-partners.json`, what `scripts/run.sh` imports, kept equal
//! to the partners the demo caseload names) and adds one by hand; an enrolled replica receives them all with its first sync, and a partner retired on
//! the server shows as retired on the replica after the next. Needs the server built first
//! (`cargo build -p madadkar-server --bins`).

use anyhow::{Context, Result};
use madadkar_e2e::{Replica, Server};
use madadkar_schema::{Partner, PartnerKind};

fn demo_partners() -> Result<Vec<Partner>> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/demo-partners.json");
    let text = std::fs::read_to_string(path).with_context(|| path.to_string())?;
    Ok(serde_json::from_str(&text)?)
}

#[test]
fn the_seeded_partner_directory_reaches_a_replica_and_follows_retirements() -> Result<()> {
    let server = Server::start()?;
    server.add_group("g1")?;
    let worker = server.add_worker("worker A", Some("g1"), "field")?;
    let seeded = demo_partners()?;
    // The demo caseload's referrals and plan steps name these partners: a file that drifts
    // from `demo::PARTNERS` leaves the demo's referrals naming partners the server never sent.
    let mut by_code = seeded.clone();
    by_code.sort_by(|a, b| a.code.cmp(&b.code));
    let mut demo = madadkar_client::demo::partners();
    demo.sort_by(|a, b| a.code.cmp(&b.code));
    assert_eq!(
        by_code, demo,
        "scripts/demo-partners.json and demo::PARTNERS differ"
    );
    assert!(
        (8..=12).contains(&seeded.len()),
        "the demo seeds 8–12 partners"
    );
    for kind in [
        PartnerKind::Bank,
        PartnerKind::TrainingCentre,
        PartnerKind::Clinic,
    ] {
        assert!(
            seeded.iter().any(|p| p.kind == kind && p.active),
            "the demo has an active {kind}"
        );
    }
    assert_eq!(server.import_partners(&seeded)?, seeded.len());
    server.add_partner("bank-sepah-azadi", "bank", "بانک سپه", Some("شعبهٔ آزادی"))?;
    // The same file again adds nothing: every code is taken.
    assert!(server.import_partners(&seeded).is_err());

    let mut replica = Replica::enrolled(&server, &worker, "laptop A")?;
    replica.store.sync(None)?;
    let mut expected = seeded.clone();
    expected.push(Partner {
        code: "bank-sepah-azadi".into(),
        kind: PartnerKind::Bank,
        name: "بانک سپه".into(),
        branch: Some("شعبهٔ آزادی".into()),
        district: None,
        active: true,
    });
    expected.sort_by(|a, b| a.code.cmp(&b.code));
    let mut received = replica.store.partners()?;
    received.sort_by(|a, b| a.code.cmp(&b.code));
    assert_eq!(received, expected);

    server.retire_partner("tvto-beheshti")?;
    replica.store.sync(None)?;
    let retired = replica
        .store
        .partners()?
        .into_iter()
        .find(|p| p.code == "tvto-beheshti")
        .context("a retired partner stays listed")?;
    assert!(!retired.active);
    Ok(())
}
