//! Case outcomes, as pure rules over the domain model: the referral ledger's transitions and
//! aging ([`ledger`]), graduation criteria ([`plan`]), and whether a household's need is going
//! down ([`trend`]). The client's projections and reports, the CLI and the desktop app all ask
//! these, so a referral is stalled, a household improving, or a plan achieved by one rule.

pub mod ledger;
pub mod plan;
pub mod trend;
