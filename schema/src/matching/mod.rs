//! Duplicate households: blocking keys, pair scoring with reasons, two bands, and a labelled
//! generator that measures the matcher's quality. Pure (no I/O): the client builds
//! [`MatchRecord`]s from its projections and stores what it decides.
//!
//! # The API
//! - [`MatchRecord`] / [`MatchMember`]: one household as the matcher sees it (built by the
//!   client from its projections; spellings as typed, the matcher normalises).
//! - [`Population::of`]: name, phone, national-ID and district frequencies of the households in
//!   scope, so that a shared «محمد» or «حسینی» weighs less than a rare name, and a phone or
//!   national ID shared by many households proves little.
//! - [`detect`]: every candidate pair over the records, from blocking keys (never all pairs),
//!   scored, banded, best first; [`detect_with_stats`] also says how many pairs were compared.
//! - [`score_pair`]: one pair's [`PairScore`] (score, [`Band`], [`Reason`]s).
//! - [`block_keys`]: what a store indexes so that a new household or member is checked against
//!   the few households that share a key ([`match_one`] scores it against them).
//! - [`evidence`]: the facts that make a pair a candidate, to re-open a "not a duplicate"
//!   decision only when a new one appears.
//! - [`labelled`]: the generator of labelled pairs and province-size populations, and
//!   [`labelled::evaluate`] (precision and recall per band).
//!
//! The rules, the weights and the measured quality are in `docs/matching.md`.

mod block;
mod key;
pub mod labelled;
mod score;
mod similarity;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Relation;

pub use block::{BlockKey, BlockKind, block_keys};
pub use key::{district_key, is_placeholder_national_id, match_key, national_id_key, phone_key};
pub use score::{
    DetectStats, LIKELY_THRESHOLD, POSSIBLE_THRESHOLD, Population, detect, detect_with_stats,
    evidence, match_one, score_pair,
};
pub use similarity::{jaro, jaro_winkler};

/// One household as the matcher sees it (built by the client from its projections).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchRecord {
    pub household: Uuid,
    /// The group the household is assigned to, if any.
    pub group: Option<String>,
    pub district: String,
    pub address: String,
    /// As stored (`09121234567`, `+989121234567`, …); compared by their last ten digits.
    pub phones: Vec<String>,
    pub members: Vec<MatchMember>,
}

/// One member as the matcher sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchMember {
    pub first_name: String,
    pub last_name: String,
    /// Ten digits, already check-digit valid; placeholders are recognised and prove nothing.
    pub national_id: Option<String>,
    pub birth_date: Option<NaiveDate>,
    pub relation: Relation,
    /// The member's father's first name, where known.
    pub father_name: Option<String>,
}

/// How sure the matcher is that two records are one household.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Band {
    /// Strong evidence on the head (or the head/spouse couple) and on the household: review and
    /// merge.
    Likely,
    /// Some evidence, or a shared national ID on its own (a person may have moved between
    /// households): review needed.
    Possible,
}

impl Band {
    pub fn code(self) -> &'static str {
        match self {
            Band::Likely => "likely",
            Band::Possible => "possible",
        }
    }

    pub fn label_fa(self) -> &'static str {
        match self {
            Band::Likely => "تکراری محتمل",
            Band::Possible => "تکراری ممکن",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Band::Likely => "likely duplicate",
            Band::Possible => "possible duplicate",
        }
    }
}

/// The fields a pair is compared on; each [`Reason`] names one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchField {
    /// National IDs: the heads' (or the head/spouse pair's), and any other member's shared.
    NationalId,
    /// The head's first and last name (or the head's against the other's spouse, when one
    /// household was registered with the other partner as head).
    HeadName,
    /// The head's birth date.
    BirthDate,
    /// The head's father's first name.
    FatherName,
    /// The spouses, compared as persons (name, birth date, father).
    SpouseName,
    /// The other members (children, parents…), aligned by name and birth date.
    MemberName,
    Phone,
    District,
    Address,
}

impl MatchField {
    pub const ALL: &'static [MatchField] = &[
        MatchField::NationalId,
        MatchField::HeadName,
        MatchField::BirthDate,
        MatchField::FatherName,
        MatchField::SpouseName,
        MatchField::MemberName,
        MatchField::Phone,
        MatchField::District,
        MatchField::Address,
    ];

    /// A stable code (evidence fingerprints, the CLI's JSON).
    pub fn code(self) -> &'static str {
        match self {
            MatchField::NationalId => "national_id",
            MatchField::HeadName => "head_name",
            MatchField::BirthDate => "birth_date",
            MatchField::FatherName => "father_name",
            MatchField::SpouseName => "spouse",
            MatchField::MemberName => "members",
            MatchField::Phone => "phone",
            MatchField::District => "district",
            MatchField::Address => "address",
        }
    }

    pub fn label_fa(self) -> &'static str {
        match self {
            MatchField::NationalId => "کد ملی",
            MatchField::HeadName => "نام سرپرست",
            MatchField::BirthDate => "تاریخ تولد سرپرست",
            MatchField::FatherName => "نام پدر سرپرست",
            MatchField::SpouseName => "همسر",
            MatchField::MemberName => "سایر اعضا",
            MatchField::Phone => "تلفن",
            MatchField::District => "منطقه",
            MatchField::Address => "نشانی",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            MatchField::NationalId => "national ID",
            MatchField::HeadName => "head's name",
            MatchField::BirthDate => "head's birth date",
            MatchField::FatherName => "head's father's name",
            MatchField::SpouseName => "spouse",
            MatchField::MemberName => "other members",
            MatchField::Phone => "phone",
            MatchField::District => "district",
            MatchField::Address => "address",
        }
    }
}

/// How far a field agreed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "level", content = "similarity", rename_all = "snake_case")]
pub enum Agreement {
    Exact,
    /// Similar but not equal; the similarity is 0 to 1 (for names, Jaro–Winkler on the match
    /// keys; for other members, the share of them found in the other household).
    Close(f32),
    Differs,
}

impl Agreement {
    pub fn agrees(self) -> bool {
        !matches!(self, Agreement::Differs)
    }
}

/// One field's part in a pair's score: how far it agreed and what that added (or took away).
/// The weights of a pair's reasons add up to its score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Reason {
    pub field: MatchField,
    pub agreement: Agreement,
    pub weight: f32,
}

/// A pair's score (a sum of log₂ likelihood ratios, see `docs/matching.md`), its band (none
/// below the possible threshold) and the reasons it is made of.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairScore {
    pub score: f32,
    pub band: Option<Band>,
    pub reasons: Vec<Reason>,
}

impl PairScore {
    pub fn reason(&self, field: MatchField) -> Option<&Reason> {
        self.reasons.iter().find(|r| r.field == field)
    }
}

/// A pair of households that may be one, with why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// The smaller of the two household ids.
    pub a: Uuid,
    pub b: Uuid,
    pub score: PairScore,
    /// The blocking keys the two records share (what proposed the pair).
    pub keys: Vec<BlockKey>,
}
