//! Pair scoring: Fellegi–Sunter agreement and disagreement weights (log₂ of m/u, hand-set and
//! tabled in `docs/matching.md`) per field, names weighted by how rare they are in the
//! [`Population`], combined over the head (or head/spouse couple), the spouse, the other members
//! and the household's phone, district and address; two bands; detection over blocks.

use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use chrono::{Datelike, NaiveDate};

use super::block::{BlockKey, BlockKind, candidate_pairs, fnv1a};
use super::key::{
    AddressKey, NameKey, NameKind, district_key, national_id_key, phone_key, skeleton,
};
use super::similarity::{address_similarity, is_part_of, name_similarity};
use super::{Agreement, Band, Candidate, MatchField, MatchRecord, PairScore, Reason};
use crate::Relation;

/// A pair scoring at least this, whose head (or head/spouse couple) alone scores at least
/// [`CORE_LIKELY_MIN`], is a likely duplicate.
pub const LIKELY_THRESHOLD: f32 = 20.0;
/// A pair scoring at least this, or sharing a national ID, is at least a possible duplicate.
pub const POSSIBLE_THRESHOLD: f32 = 8.0;
/// The head pair's own evidence a likely pair needs. Without it, a pair whose agreement comes
/// from what a family shares (surname, father, address, phone: two brothers) or from one
/// member who moved (a widow back with her parents) stays possible at most.
pub const CORE_LIKELY_MIN: f32 = 8.0;

// The weights; `docs/matching.md` tables them with the m and u probabilities behind them.
/// Names: m for an exact agreement; u is the value's frequency in the population.
const NAME_M: f32 = 0.95;
const NAME_EXACT_RANGE: (f32, f32) = (1.5, 10.0);
/// Jaro–Winkler (or token alignment) at or above this is a close agreement.
const CLOSE_SIM: f32 = 0.88;
const CLOSE_RANGE: (f32, f32) = (1.0, 5.0);
const FIRST_DIFFERS: f32 = -5.5;
/// One name is a part of the other («محمد» / «محمدرضا»): a shortening or a relative.
const PARTIAL: f32 = -1.0;
const LAST_DIFFERS: f32 = -5.0;
/// First and last name found the other way round.
const NAME_SWAP_PENALTY: f32 = 2.0;
/// What an agreeing part of a name adds when the other part differs (see [`combine`]).
const KIN_PART_MAX: f32 = 1.5;
/// The head of one household matched the spouse of the other.
const ROLE_SWAP_PENALTY: f32 = 2.0;
const NID_AGREE: f32 = 13.0;
const NID_DIFFERS: f32 = -8.0;
/// Each national ID shared by members other than the head pair, and their total.
const OTHER_NID: f32 = 4.0;
const OTHER_NID_MAX: f32 = 8.0;
const BIRTH_EXACT: f32 = 7.0;
const BIRTH_SAME_YEAR: f32 = 1.5;
const BIRTH_NEXT_YEAR: f32 = -0.5;
const BIRTH_DIFFERS: f32 = -5.0;
const FATHER_M: f32 = 0.9;
const FATHER_EXACT_RANGE: (f32, f32) = (1.0, 7.0);
const FATHER_CLOSE: f32 = 1.5;
const FATHER_DIFFERS: f32 = -4.0;
/// The spouses' person score (without national IDs, counted apart) is scaled and bounded.
const SPOUSE_FACTOR: f32 = 0.5;
const SPOUSE_RANGE: (f32, f32) = (-3.0, 8.0);
/// Other members pair up when their person score (with national IDs) reaches this.
const MEMBER_MATCH: f32 = 6.0;
const MEMBER_FACTOR: f32 = 0.3;
const MEMBER_EACH_MAX: f32 = 3.0;
const MEMBERS_MAX: f32 = 8.0;
/// Each member of the smaller household without a partner in the other, and their total.
const MEMBER_MISSING: f32 = -1.0;
const MEMBERS_MISSING_MIN: f32 = -4.0;
const PHONE_AGREE_MAX: f32 = 8.0;
const PHONE_DIFFERS: f32 = -1.5;
const DISTRICT_M: f32 = 0.85;
const DISTRICT_RANGE: (f32, f32) = (0.5, 4.0);
const DISTRICT_DIFFERS: f32 = -2.5;
const ADDRESS_EXACT: f32 = 5.0;
const ADDRESS_CLOSE_SIM: f32 = 0.85;
const ADDRESS_CLOSE: f32 = 2.5;
const ADDRESS_DIFFERS: f32 = -1.5;

/// The lowest frequency a value is given: a name seen once among 2,000 persons is as rare as
/// the weights go.
const MIN_FREQ: f32 = 0.0005;
/// The frequency assumed when the population is empty (scoring without statistics).
const DEFAULT_FREQ: f32 = 0.01;
/// A national ID found in this many households or more is treated as a placeholder (a value
/// typed to get past the field), whatever its digits.
const NID_PLACEHOLDER_HOUSEHOLDS: u32 = 4;

/// Statistics of the population (token frequencies) used to weight rare names above common
/// ones, and to discount phones and national IDs that many households share.
#[derive(Debug, Clone, Default)]
pub struct Population {
    persons: u32,
    households: u32,
    first: HashMap<String, u32>,
    last: HashMap<String, u32>,
    father: HashMap<String, u32>,
    phones: HashMap<String, u32>,
    nids: HashMap<String, u32>,
    districts: HashMap<String, u32>,
}

impl Population {
    /// Counts, over `records`: persons per first name, surname and father's name (match keys);
    /// households per phone, national ID and district.
    pub fn of(records: &[MatchRecord]) -> Self {
        // Each distinct spelling is normalised once: names repeat a great deal.
        let mut pop = Population::default();
        let mut raw: [HashMap<&str, u32>; 4] = Default::default();
        for record in records {
            pop.count_household(record);
            *raw[3].entry(record.district.as_str()).or_default() += 1;
            for member in &record.members {
                *raw[0].entry(member.first_name.as_str()).or_default() += 1;
                *raw[1].entry(member.last_name.as_str()).or_default() += 1;
                if let Some(father) = &member.father_name {
                    *raw[2].entry(father.as_str()).or_default() += 1;
                }
            }
        }
        let [first, last, father, districts] = raw;
        for (name, n) in first {
            *pop.first
                .entry(NameKey::new(name, NameKind::First).joined)
                .or_default() += n;
        }
        for (name, n) in last {
            *pop.last
                .entry(NameKey::new(name, NameKind::Last).joined)
                .or_default() += n;
        }
        for (name, n) in father {
            *pop.father
                .entry(NameKey::new(name, NameKind::First).joined)
                .or_default() += n;
        }
        for (district, n) in districts {
            *pop.districts.entry(district_key(district)).or_default() += n;
        }
        pop
    }

    /// Adds one household's values (a store can keep a population up to date as it goes).
    pub fn add(&mut self, record: &MatchRecord) {
        self.count_household(record);
        *self
            .districts
            .entry(district_key(&record.district))
            .or_default() += 1;
        for member in &record.members {
            let first = NameKey::new(&member.first_name, NameKind::First);
            *self.first.entry(first.joined).or_default() += 1;
            let last = NameKey::new(&member.last_name, NameKind::Last);
            *self.last.entry(last.joined).or_default() += 1;
            if let Some(father) = &member.father_name {
                let father = NameKey::new(father, NameKind::First);
                *self.father.entry(father.joined).or_default() += 1;
            }
        }
    }

    /// Counts the household, its persons, phones and national IDs (each once per household).
    fn count_household(&mut self, record: &MatchRecord) {
        self.households += 1;
        self.persons += record.members.len() as u32;
        let phones: BTreeSet<String> = record.phones.iter().filter_map(|p| phone_key(p)).collect();
        for phone in phones {
            *self.phones.entry(phone).or_default() += 1;
        }
        let nids: BTreeSet<String> = record
            .members
            .iter()
            .filter_map(|m| m.national_id.as_deref().and_then(national_id_key))
            .collect();
        for nid in nids {
            *self.nids.entry(nid).or_default() += 1;
        }
    }

    pub fn households(&self) -> usize {
        self.households as usize
    }

    /// A value's share of `total`, never below [`MIN_FREQ`]; a value the population has not
    /// seen counts as seen once.
    fn freq(map: &HashMap<String, u32>, total: u32, key: &str) -> f32 {
        if total == 0 {
            return DEFAULT_FREQ;
        }
        let count = map.get(key).copied().unwrap_or(0).max(1);
        (count as f32 / total as f32).max(MIN_FREQ)
    }

    fn name_weight(
        &self,
        map: &HashMap<String, u32>,
        key: &NameKey,
        m: f32,
        range: (f32, f32),
    ) -> f32 {
        if key.is_empty() {
            return 0.0;
        }
        let f = Self::freq(map, self.persons, &key.joined);
        (m / f).log2().clamp(range.0, range.1)
    }

    /// A shared phone says less the more households give it: 8 when only these two do, one
    /// less for each doubling.
    fn phone_weight(&self, phone: &str) -> f32 {
        let k = self.phones.get(phone).copied().unwrap_or(0).max(2);
        (PHONE_AGREE_MAX - ((k - 1) as f32).log2()).clamp(1.0, PHONE_AGREE_MAX)
    }

    fn district_weight(&self, district: &str) -> f32 {
        let f = Self::freq(&self.districts, self.households, district);
        let f = if self.households == 0 { 0.1 } else { f };
        (DISTRICT_M / f)
            .log2()
            .clamp(DISTRICT_RANGE.0, DISTRICT_RANGE.1)
    }

    fn nid_is_placeholder(&self, nid: &str) -> bool {
        self.nids.get(nid).copied().unwrap_or(0) >= NID_PLACEHOLDER_HOUSEHOLDS
    }
}

/// Which name a [`KeyCache`] entry is: they are weighted by different frequencies.
#[derive(Debug, Clone, Copy)]
enum Slot {
    First,
    Last,
    Father,
}

/// Names normalised and weighted once per distinct spelling (detection prepares some hundred
/// thousand names, most of them repeats).
#[derive(Debug)]
pub(crate) struct KeyCache<'p> {
    pop: &'p Population,
    names: [HashMap<String, (Arc<NameKey>, f32)>; 3],
    empty: Arc<NameKey>,
}

impl<'p> KeyCache<'p> {
    pub(crate) fn new(pop: &'p Population) -> Self {
        KeyCache {
            pop,
            names: Default::default(),
            empty: Arc::new(NameKey::default()),
        }
    }

    fn get(&mut self, slot: Slot, raw: Option<&str>) -> (Arc<NameKey>, f32) {
        let Some(raw) = raw else {
            return (self.empty.clone(), 0.0);
        };
        let map = &mut self.names[slot as usize];
        if let Some((key, w)) = map.get(raw) {
            return (key.clone(), *w);
        }
        let pop = self.pop;
        let (key, w) = match slot {
            Slot::First => {
                let key = NameKey::new(raw, NameKind::First);
                let w = pop.name_weight(&pop.first, &key, NAME_M, NAME_EXACT_RANGE);
                (key, w)
            }
            Slot::Last => {
                let key = NameKey::new(raw, NameKind::Last);
                let w = pop.name_weight(&pop.last, &key, NAME_M, NAME_EXACT_RANGE);
                (key, w)
            }
            Slot::Father => {
                let key = NameKey::new(raw, NameKind::First);
                let w = pop.name_weight(&pop.father, &key, FATHER_M, FATHER_EXACT_RANGE);
                (key, w)
            }
        };
        let key = Arc::new(key);
        map.insert(raw.to_string(), (key.clone(), w));
        (key, w)
    }
}

/// One member, normalised once and weighted by the population.
#[derive(Debug)]
struct PMember {
    first: Arc<NameKey>,
    last: Arc<NameKey>,
    father: Arc<NameKey>,
    first_w: f32,
    last_w: f32,
    father_w: f32,
    /// The national ID's key (not a placeholder by its digits): what blocking indexes.
    nid_key: Option<String>,
    /// The national ID as a number, when it also is not one that many households give.
    nid: Option<u64>,
    birth: Option<NaiveDate>,
    relation: Relation,
}

/// One record, normalised once: what scoring and blocking read.
#[derive(Debug)]
pub(crate) struct Prepared {
    members: Vec<PMember>,
    head: Option<usize>,
    spouse: Option<usize>,
    /// Last ten digits, as a number, and the weight of agreeing on it.
    phones: Vec<(u64, f32, String)>,
    district: String,
    district_w: f32,
    address: AddressKey,
    /// The members' national IDs (see [`PMember::nid`]), sorted.
    nids: Vec<u64>,
}

impl Prepared {
    pub(crate) fn new(record: &MatchRecord, pop: &Population) -> Self {
        Self::with_cache(record, &mut KeyCache::new(pop))
    }

    pub(crate) fn with_cache(record: &MatchRecord, cache: &mut KeyCache) -> Self {
        let pop = cache.pop;
        let members: Vec<PMember> = record
            .members
            .iter()
            .map(|m| {
                let (first, first_w) = cache.get(Slot::First, Some(&m.first_name));
                let (last, last_w) = cache.get(Slot::Last, Some(&m.last_name));
                let (father, father_w) = cache.get(Slot::Father, m.father_name.as_deref());
                let nid_key = m.national_id.as_deref().and_then(national_id_key);
                let nid = nid_key
                    .as_deref()
                    .filter(|k| !pop.nid_is_placeholder(k))
                    .and_then(|k| k.parse().ok());
                PMember {
                    first_w,
                    last_w,
                    father_w,
                    first,
                    last,
                    father,
                    nid_key,
                    nid,
                    birth: m.birth_date,
                    relation: m.relation,
                }
            })
            .collect();
        // A record without a member marked head is read with its first member as head.
        let head = members
            .iter()
            .position(|m| m.relation == Relation::Head)
            .or(if members.is_empty() { None } else { Some(0) });
        let spouse = members
            .iter()
            .enumerate()
            .position(|(i, m)| m.relation == Relation::Spouse && Some(i) != head);
        let mut phones: Vec<(u64, f32, String)> = Vec::new();
        for key in record.phones.iter().filter_map(|p| phone_key(p)) {
            match key.parse::<u64>() {
                Ok(n) if !phones.iter().any(|p| p.0 == n) => {
                    phones.push((n, pop.phone_weight(&key), key));
                }
                _ => {}
            }
        }
        let mut nids: Vec<u64> = members.iter().filter_map(|m| m.nid).collect();
        nids.sort_unstable();
        nids.dedup();
        let district = district_key(&record.district);
        Prepared {
            district_w: pop.district_weight(&district),
            district,
            address: AddressKey::new(&record.address),
            head,
            spouse,
            members,
            phones,
            nids,
        }
    }

    /// The blocking keys (see [`super::block_keys`]).
    pub(crate) fn block_keys(&self) -> Vec<BlockKey> {
        let mut keys = BTreeSet::new();
        for (i, m) in self.members.iter().enumerate() {
            if let Some(nid) = &m.nid_key {
                keys.insert(BlockKey::new(BlockKind::NationalId, nid));
            }
            // Surnames and fathers of the couple only: the children's surname is the head's,
            // and a block per relative would grow the blocks without finding more duplicates.
            let core = Some(i) == self.head || Some(i) == self.spouse;
            if core && !m.last.is_empty() {
                let value = format!("{}|{}", self.district, skeleton(&m.last));
                keys.insert(BlockKey::new(BlockKind::Skeleton, &value));
            }
            if let (true, false, Some(born)) = (core, m.father.is_empty(), m.birth) {
                let value = format!("{}|{}", m.father.joined, born.year());
                keys.insert(BlockKey::new(BlockKind::Father, &value));
            }
        }
        for (_, _, phone) in &self.phones {
            keys.insert(BlockKey::new(BlockKind::Phone, phone));
        }
        keys.into_iter().collect()
    }

    /// The order of records inside a capped block: the head's surname skeleton, then first name.
    fn sort_key(&self) -> (String, String) {
        match self.head.map(|h| &self.members[h]) {
            Some(head) => (skeleton(&head.last), head.first.joined.clone()),
            None => (String::new(), String::new()),
        }
    }
}

/// How far one part of a name (or a father's name) agreed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Exact,
    Close,
    /// One is a part of the other (see [`is_part_of`]).
    Partial,
    Differs,
}

/// How one part of a name compared: level, similarity and weight.
#[derive(Debug, Clone, Copy)]
struct Part {
    level: Level,
    sim: f32,
    weight: f32,
}

fn close_weight(exact: f32) -> f32 {
    (0.5 * exact + 0.5).clamp(CLOSE_RANGE.0, CLOSE_RANGE.1)
}

fn level_of(a: &NameKey, b: &NameKey) -> (Level, f32) {
    let sim = name_similarity(a, b);
    let level = if sim >= 1.0 {
        Level::Exact
    } else if is_part_of(a, b) {
        Level::Partial
    } else if sim >= CLOSE_SIM {
        Level::Close
    } else {
        Level::Differs
    };
    (level, sim)
}

fn name_part(a: &NameKey, b: &NameKey, wa: f32, wb: f32, differs: f32) -> Option<Part> {
    if a.is_empty() || b.is_empty() {
        return None;
    }
    let (level, sim) = level_of(a, b);
    let weight = match level {
        Level::Exact => wa.min(wb),
        Level::Close => close_weight(wa.min(wb)),
        Level::Partial => PARTIAL,
        Level::Differs => differs,
    };
    Some(Part { level, sim, weight })
}

/// The agreement and weight of a name made of parts (first, last). When one part differs, an
/// agreeing part adds at most [`KIN_PART_MAX`]: relatives share a surname (brothers, a father
/// and his son) or a first name given after a grandparent, so that agreement says little once
/// the other part differs (the weights of independent fields would otherwise add up).
fn combine(parts: [Option<Part>; 2], penalty: f32) -> Option<(Agreement, f32)> {
    let present = || parts.iter().flatten();
    present().next()?;
    let agrees = |p: &Part| matches!(p.level, Level::Exact | Level::Close);
    let any_differs = present().any(|p| !agrees(p));
    let weight: f32 = present()
        .map(|p| {
            if any_differs && agrees(p) {
                p.weight.min(KIN_PART_MAX)
            } else {
                p.weight
            }
        })
        .sum::<f32>()
        - penalty;
    let min_sim = present().map(|p| p.sim).fold(1.0f32, f32::min);
    let agreement = if present().all(|p| p.level == Level::Exact) && penalty == 0.0 {
        Agreement::Exact
    } else if !any_differs {
        Agreement::Close(min_sim)
    } else {
        Agreement::Differs
    };
    Some((agreement, weight))
}

/// Two persons compared: each field's agreement and weight, where both sides have it.
#[derive(Debug, Clone, Copy, Default)]
struct PersonCmp {
    name: Option<(Agreement, f32)>,
    birth: Option<(Agreement, f32)>,
    father: Option<(Agreement, f32)>,
    /// Whether their national IDs are equal, where both have one.
    nid: Option<bool>,
}

impl PersonCmp {
    fn without_nid(&self) -> f32 {
        [self.name, self.birth, self.father]
            .iter()
            .flatten()
            .map(|(_, w)| *w)
            .sum()
    }

    fn nid_weight(&self) -> f32 {
        match self.nid {
            Some(true) => NID_AGREE,
            Some(false) => NID_DIFFERS,
            None => 0.0,
        }
    }

    fn total(&self) -> f32 {
        self.without_nid() + self.nid_weight()
    }
}

fn compare_names(a: &PMember, b: &PMember) -> Option<(Agreement, f32)> {
    let straight = combine(
        [
            name_part(&a.first, &b.first, a.first_w, b.first_w, FIRST_DIFFERS),
            name_part(&a.last, &b.last, a.last_w, b.last_w, LAST_DIFFERS),
        ],
        0.0,
    );
    if matches!(straight, Some((Agreement::Exact | Agreement::Close(_), _))) {
        return straight;
    }
    // First and last name the other way round («رضایی علی» typed into the wrong fields); only
    // worth a second look when the first crossed part is close already.
    let crossed = name_part(&a.first, &b.last, a.first_w, b.last_w, FIRST_DIFFERS);
    if crossed.is_none_or(|p| !matches!(p.level, Level::Exact | Level::Close)) {
        return straight;
    }
    let swapped = combine(
        [
            crossed,
            name_part(&a.last, &b.first, a.last_w, b.first_w, LAST_DIFFERS),
        ],
        NAME_SWAP_PENALTY,
    );
    match (straight, swapped) {
        (Some(s), Some(w)) if w.0.agrees() && w.1 > s.1 => Some(w),
        (s, _) => s,
    }
}

fn compare_births(a: Option<NaiveDate>, b: Option<NaiveDate>) -> Option<(Agreement, f32)> {
    let (a, b) = (a?, b?);
    let days = (a - b).num_days().unsigned_abs();
    Some(if days == 0 {
        (Agreement::Exact, BIRTH_EXACT)
    } else if a.year() == b.year() {
        (Agreement::Close(1.0 - days as f32 / 366.0), BIRTH_SAME_YEAR)
    } else if a.year().abs_diff(b.year()) == 1 {
        (Agreement::Differs, BIRTH_NEXT_YEAR)
    } else {
        (Agreement::Differs, BIRTH_DIFFERS)
    })
}

fn compare_fathers(a: &PMember, b: &PMember) -> Option<(Agreement, f32)> {
    if a.father.is_empty() || b.father.is_empty() {
        return None;
    }
    let (level, sim) = level_of(&a.father, &b.father);
    Some(match level {
        Level::Exact => (Agreement::Exact, a.father_w.min(b.father_w)),
        Level::Close => (Agreement::Close(sim), FATHER_CLOSE),
        Level::Partial => (Agreement::Differs, PARTIAL),
        Level::Differs => (Agreement::Differs, FATHER_DIFFERS),
    })
}

fn compare_persons(a: &PMember, b: &PMember) -> PersonCmp {
    PersonCmp {
        name: compare_names(a, b),
        birth: compare_births(a.birth, b.birth),
        father: compare_fathers(a, b),
        nid: match (a.nid, b.nid) {
            (Some(x), Some(y)) => Some(x == y),
            _ => None,
        },
    }
}

/// The pair of persons the households are compared on first: the heads, or one's head and
/// the other's spouse (a household registered under the other partner), whichever agrees best.
#[derive(Debug, Clone, Copy)]
struct Core {
    a: usize,
    b: usize,
    cmp: PersonCmp,
    role_swap: bool,
}

impl Core {
    fn total(&self) -> f32 {
        self.cmp.total()
            - if self.role_swap {
                ROLE_SWAP_PENALTY
            } else {
                0.0
            }
    }
}

fn core_pair(a: &Prepared, b: &Prepared) -> Option<Core> {
    let mut best: Option<Core> = None;
    if let (Some(x), Some(y)) = (a.head, b.head) {
        let heads = Core {
            a: x,
            b: y,
            cmp: compare_persons(&a.members[x], &b.members[y]),
            role_swap: false,
        };
        // Heads whose names agree are the core; the other partner is looked at only when
        // they do not.
        if heads
            .cmp
            .name
            .is_some_and(|(agreement, _)| agreement.agrees())
        {
            return Some(heads);
        }
        best = Some(heads);
    }
    for (x, y, role_swap) in [(a.head, b.spouse, true), (a.spouse, b.head, true)] {
        let (Some(x), Some(y)) = (x, y) else { continue };
        let core = Core {
            a: x,
            b: y,
            cmp: compare_persons(&a.members[x], &b.members[y]),
            role_swap,
        };
        if best.is_none_or(|b| core.total() > b.total()) {
            best = Some(core);
        }
    }
    best
}

fn shared_count(a: &[u64], b: &[u64]) -> usize {
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            Ordering::Less => i += 1,
            Ordering::Greater => j += 1,
            Ordering::Equal => {
                n += 1;
                i += 1;
                j += 1;
            }
        }
    }
    n
}

fn compare_phones(a: &Prepared, b: &Prepared) -> Option<(Agreement, f32)> {
    if a.phones.is_empty() || b.phones.is_empty() {
        return None;
    }
    let shared = a
        .phones
        .iter()
        .filter(|p| b.phones.iter().any(|q| q.0 == p.0))
        .map(|p| p.1)
        .fold(None, |best: Option<f32>, w| {
            Some(best.map_or(w, |b| b.max(w)))
        });
    Some(match shared {
        Some(w) => (Agreement::Exact, w),
        None => (Agreement::Differs, PHONE_DIFFERS),
    })
}

fn compare_districts(a: &Prepared, b: &Prepared) -> Option<(Agreement, f32)> {
    if a.district.is_empty() || b.district.is_empty() {
        return None;
    }
    Some(if a.district == b.district {
        (Agreement::Exact, a.district_w.min(b.district_w))
    } else {
        (Agreement::Differs, DISTRICT_DIFFERS)
    })
}

fn compare_addresses(a: &Prepared, b: &Prepared) -> Option<(Agreement, f32)> {
    if a.address.is_empty() || b.address.is_empty() {
        return None;
    }
    let sim = address_similarity(&a.address, &b.address);
    Some(if sim >= 1.0 {
        (Agreement::Exact, ADDRESS_EXACT)
    } else if sim >= ADDRESS_CLOSE_SIM {
        (Agreement::Close(sim), ADDRESS_CLOSE)
    } else {
        (Agreement::Differs, ADDRESS_DIFFERS)
    })
}

/// The members of a household not in the core or spouse pairs.
fn others(p: &Prepared, used: [Option<usize>; 2]) -> impl Iterator<Item = usize> + '_ {
    (0..p.members.len()).filter(move |i| !used.contains(&Some(*i)))
}

/// Pairs the other members (not in the core or spouse pairs) greedily, best person score
/// first; returns the reason for them, if both households have any.
fn compare_others(
    a: &Prepared,
    b: &Prepared,
    used_a: [Option<usize>; 2],
    used_b: [Option<usize>; 2],
) -> Option<(Agreement, f32)> {
    let smaller = others(a, used_a).count().min(others(b, used_b).count());
    if smaller == 0 {
        return None;
    }
    let mut pairs: Vec<(f32, f32, usize, usize)> = Vec::new();
    for i in others(a, used_a) {
        for j in others(b, used_b) {
            let cmp = compare_persons(&a.members[i], &b.members[j]);
            if cmp.total() >= MEMBER_MATCH {
                pairs.push((cmp.total(), cmp.without_nid(), i, j));
            }
        }
    }
    pairs.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.2.cmp(&y.2)).then(x.3.cmp(&y.3)));
    let (mut taken_a, mut taken_b) = (Vec::new(), Vec::new());
    let mut gain = 0.0f32;
    for (_, without_nid, i, j) in pairs {
        if taken_a.contains(&i) || taken_b.contains(&j) {
            continue;
        }
        taken_a.push(i);
        taken_b.push(j);
        gain += (MEMBER_FACTOR * without_nid).clamp(0.0, MEMBER_EACH_MAX);
    }
    let matched = taken_a.len();
    let missing = ((smaller - matched) as f32 * MEMBER_MISSING).max(MEMBERS_MISSING_MIN);
    let weight = gain.min(MEMBERS_MAX) + missing;
    let agreement = if matched == smaller {
        Agreement::Exact
    } else if matched == 0 {
        Agreement::Differs
    } else {
        Agreement::Close(matched as f32 / smaller as f32)
    };
    Some((agreement, weight))
}

/// Scores a prepared pair. With `prune`, returns `None` for a pair that cannot reach a band:
/// no shared national ID, and even the most the spouse and the other members could add leaves
/// it below the possible threshold (checked before each of them is compared, which is what
/// detection spends its time on). Never `None` for a pair that would be banded.
pub(crate) fn score_prepared(a: &Prepared, b: &Prepared, prune: bool) -> Option<PairScore> {
    let shared_nids = shared_count(&a.nids, &b.nids);
    let prune = prune && shared_nids == 0;
    let phone = compare_phones(a, b);
    let district = compare_districts(a, b);
    let cheap: f32 = [phone, district].iter().flatten().map(|(_, w)| *w).sum();
    let core = core_pair(a, b);
    let core_total = core.map_or(0.0, |c| c.total());

    // The spouses: the other two of the couples.
    let (mut used_a, mut used_b) = ([None; 2], [None; 2]);
    let mut spouses = None;
    if let Some(c) = core {
        used_a[0] = Some(c.a);
        used_b[0] = Some(c.b);
        let (sa, sb) = match (c.role_swap, Some(c.a) == a.head) {
            (false, _) => (a.spouse, b.spouse),
            (true, true) => (a.spouse, b.head),
            (true, false) => (a.head, b.spouse),
        };
        if let (Some(sa), Some(sb)) = (sa, sb) {
            used_a[1] = Some(sa);
            used_b[1] = Some(sb);
            spouses = Some((sa, sb));
        }
    }
    let smaller_others = others(a, used_a).count().min(others(b, used_b).count());
    let others_max = (smaller_others as f32 * MEMBER_EACH_MAX).min(MEMBERS_MAX);
    let spouse_max = if spouses.is_some() {
        SPOUSE_RANGE.1
    } else {
        0.0
    };
    let address_max = if a.address.is_empty() || b.address.is_empty() {
        0.0
    } else {
        ADDRESS_EXACT
    };
    if prune && core_total + cheap + address_max + spouse_max + others_max < POSSIBLE_THRESHOLD {
        return None;
    }
    let address = compare_addresses(a, b);
    let sure = core_total + cheap + address.map_or(0.0, |x| x.1);
    let spouse = spouses.map(|(sa, sb)| {
        let cmp = compare_persons(&a.members[sa], &b.members[sb]);
        let weight = (SPOUSE_FACTOR * cmp.without_nid()).clamp(SPOUSE_RANGE.0, SPOUSE_RANGE.1);
        let agreement = cmp.name.map_or(Agreement::Differs, |(a, _)| a);
        (agreement, weight)
    });
    if prune && sure + spouse.map_or(0.0, |s| s.1) + others_max < POSSIBLE_THRESHOLD {
        return None;
    }

    let mut reasons = Vec::with_capacity(MatchField::ALL.len());
    let mut push = |field, value: Option<(Agreement, f32)>| {
        if let Some((agreement, weight)) = value {
            reasons.push(Reason {
                field,
                agreement,
                weight,
            });
        }
    };
    // National IDs: the core pair's, then any other shared.
    let core_nid = core.and_then(|c| c.cmp.nid);
    let other_shared = shared_nids - usize::from(core_nid == Some(true));
    let other_weight = (other_shared as f32 * OTHER_NID).min(OTHER_NID_MAX);
    let nid = match (core_nid, other_shared) {
        (None, 0) => None,
        (Some(true), _) | (None, _) => Some(Agreement::Exact),
        (Some(false), 0) => Some(Agreement::Differs),
        (Some(false), n) => Some(Agreement::Close(n as f32 / (n + 1) as f32)),
    };
    let core_nid_weight = core.map_or(0.0, |c| c.cmp.nid_weight());
    push(
        MatchField::NationalId,
        nid.map(|a| (a, core_nid_weight + other_weight)),
    );
    if let Some(c) = core {
        let penalty = if c.role_swap { ROLE_SWAP_PENALTY } else { 0.0 };
        match c.cmp.name {
            Some((agreement, w)) => push(MatchField::HeadName, Some((agreement, w - penalty))),
            None if penalty != 0.0 => {
                push(MatchField::HeadName, Some((Agreement::Differs, -penalty)))
            }
            None => {}
        }
        push(MatchField::BirthDate, c.cmp.birth);
        push(MatchField::FatherName, c.cmp.father);
    }
    push(MatchField::SpouseName, spouse);
    push(MatchField::MemberName, compare_others(a, b, used_a, used_b));
    push(MatchField::Phone, phone);
    push(MatchField::District, district);
    push(MatchField::Address, address);

    let score: f32 = reasons.iter().map(|r| r.weight).sum();
    // A likely pair's head pair must be one person on its own evidence: the same national ID,
    // or an agreeing name and enough besides.
    let same_person = core.is_some_and(|c| {
        c.cmp.nid == Some(true)
            || (c.total() >= CORE_LIKELY_MIN && c.cmp.name.is_some_and(|(a, _)| a.agrees()))
    });
    let band = if score >= LIKELY_THRESHOLD && same_person {
        Some(Band::Likely)
    } else if score >= POSSIBLE_THRESHOLD || shared_nids > 0 {
        Some(Band::Possible)
    } else {
        None
    };
    Some(PairScore {
        score,
        band,
        reasons,
    })
}

/// Scores two households (in either order: the result is the same).
pub fn score_pair(a: &MatchRecord, b: &MatchRecord, population: &Population) -> PairScore {
    let (a, b) = if a.household <= b.household {
        (a, b)
    } else {
        (b, a)
    };
    let (pa, pb) = (Prepared::new(a, population), Prepared::new(b, population));
    score_prepared(&pa, &pb, false).unwrap_or(PairScore {
        score: 0.0,
        band: None,
        reasons: Vec::new(),
    })
}

/// Detection scores on at most this many threads.
const MAX_THREADS: usize = 4;

/// What detection did, for the bench and the tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DetectStats {
    pub records: usize,
    pub blocks: usize,
    /// Blocks over the cap, compared by sorted neighbourhood (see `block::BLOCK_CAP`).
    pub capped_blocks: usize,
    /// Distinct pairs proposed by the blocks and scored.
    pub pairs_compared: usize,
    /// Pairs that landed in a band.
    pub candidates: usize,
}

/// All candidate pairs over `records`, from blocking keys (never all pairs), scored, banded,
/// best first (ties by ids); pairs with no band are dropped.
pub fn detect(records: &[MatchRecord], population: &Population) -> Vec<Candidate> {
    detect_with_stats(records, population).0
}

/// [`detect`], and what it did.
pub fn detect_with_stats(
    records: &[MatchRecord],
    population: &Population,
) -> (Vec<Candidate>, DetectStats) {
    let mut cache = KeyCache::new(population);
    let prepared: Vec<Prepared> = records
        .iter()
        .map(|r| Prepared::with_cache(r, &mut cache))
        .collect();
    let keys: Vec<Vec<BlockKey>> = prepared.iter().map(Prepared::block_keys).collect();
    let hashes: Vec<Vec<u64>> = keys
        .iter()
        .map(|ks| ks.iter().map(|k| fnv1a(k.as_str().as_bytes())).collect())
        .collect();
    let mut order: Vec<(u32, (String, String))> = prepared
        .iter()
        .enumerate()
        .map(|(i, p)| (i as u32, p.sort_key()))
        .collect();
    order.sort_by(|x, y| x.1.cmp(&y.1).then(x.0.cmp(&y.0)));
    let mut rank = vec![0u32; records.len()];
    for (r, (i, _)) in order.iter().enumerate() {
        rank[*i as usize] = r as u32;
    }
    let (pairs, block_stats) = candidate_pairs(&hashes, &rank);

    // Scoring is most of the work and each pair is independent: split it over the cores.
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, MAX_THREADS);
    let chunk = pairs.len().div_ceil(threads).max(1);
    let score_chunk = |chunk: &[(u32, u32)]| -> Vec<Candidate> {
        let mut out = Vec::new();
        for &(i, j) in chunk {
            let (i, j) = (i as usize, j as usize);
            if records[i].household == records[j].household {
                continue;
            }
            let (i, j) = if records[i].household < records[j].household {
                (i, j)
            } else {
                (j, i)
            };
            let Some(score) = score_prepared(&prepared[i], &prepared[j], true) else {
                continue;
            };
            if score.band.is_some() {
                out.push(Candidate {
                    a: records[i].household,
                    b: records[j].household,
                    score,
                    keys: shared_keys(&keys[i], &keys[j]),
                });
            }
        }
        out
    };
    let mut candidates: Vec<Candidate> = if threads == 1 || pairs.len() < 10_000 {
        score_chunk(&pairs)
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = pairs
                .chunks(chunk)
                .map(|c| scope.spawn(move || score_chunk(c)))
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                .collect()
        })
    };
    sort_candidates(&mut candidates);
    let stats = DetectStats {
        records: records.len(),
        blocks: block_stats.blocks,
        capped_blocks: block_stats.capped_blocks,
        pairs_compared: block_stats.pairs,
        candidates: candidates.len(),
    };
    (candidates, stats)
}

fn shared_keys(a: &[BlockKey], b: &[BlockKey]) -> Vec<BlockKey> {
    a.iter()
        .filter(|k| b.binary_search(k).is_ok())
        .cloned()
        .collect()
}

fn sort_candidates(candidates: &mut [Candidate]) {
    candidates.sort_by(|x, y| {
        y.score
            .score
            .total_cmp(&x.score.score)
            .then(x.a.cmp(&y.a))
            .then(x.b.cmp(&y.b))
    });
}

/// Scores `record` (a household being registered or edited) against `others` (what the
/// store's key index returned for its [`super::block_keys`]): the banded pairs, best first.
/// Others that share no key with it, or are the same household, are skipped.
pub fn match_one(
    record: &MatchRecord,
    others: &[MatchRecord],
    population: &Population,
) -> Vec<Candidate> {
    let new = Prepared::new(record, population);
    let new_keys = new.block_keys();
    let mut candidates = Vec::new();
    for other in others.iter().filter(|o| o.household != record.household) {
        let prepared = Prepared::new(other, population);
        let keys = shared_keys(&new_keys, &prepared.block_keys());
        if keys.is_empty() {
            continue;
        }
        let (x, y) = if record.household < other.household {
            (&new, &prepared)
        } else {
            (&prepared, &new)
        };
        let Some(score) = score_prepared(x, y, false) else {
            continue;
        };
        if score.band.is_some() {
            candidates.push(Candidate {
                a: record.household.min(other.household),
                b: record.household.max(other.household),
                score,
                keys,
            });
        }
    }
    sort_candidates(&mut candidates);
    candidates
}

/// A fingerprint of the facts that make a pair a candidate: each shared blocking key as its
/// kind and a hash of its value (`phone:3b1f…`, never the number itself), and each field that
/// agrees (`agrees:head_name`). Sorted and stable across runs and machines, so a "not a
/// duplicate" decision stores it and is re-opened only when a fact appears that it lacks.
pub fn evidence(a: &MatchRecord, b: &MatchRecord) -> Vec<String> {
    let pop = Population::default();
    let (pa, pb) = (Prepared::new(a, &pop), Prepared::new(b, &pop));
    let mut facts: Vec<String> = shared_keys(&pa.block_keys(), &pb.block_keys())
        .iter()
        .map(|k| {
            format!(
                "{}:{:016x}",
                k.kind().prefix(),
                fnv1a(k.as_str().as_bytes())
            )
        })
        .collect();
    let score = score_pair(a, b, &pop);
    facts.extend(
        score
            .reasons
            .iter()
            .filter(|r| r.agreement.agrees())
            .map(|r| format!("agrees:{}", r.field.code())),
    );
    facts.sort();
    facts.dedup();
    facts
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use uuid::Uuid;

    use super::*;
    use crate::matching::labelled::{labelled_pairs, province};
    use crate::matching::{MatchMember, block_keys};

    fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, d)
    }

    fn member(
        first: &str,
        last: &str,
        relation: Relation,
        nid: Option<&str>,
        born: Option<NaiveDate>,
        father: Option<&str>,
    ) -> MatchMember {
        MatchMember {
            first_name: first.into(),
            last_name: last.into(),
            national_id: nid.map(Into::into),
            birth_date: born,
            relation,
            father_name: father.map(Into::into),
        }
    }

    fn record(
        id: u128,
        district: &str,
        address: &str,
        phone: &str,
        members: Vec<MatchMember>,
    ) -> MatchRecord {
        MatchRecord {
            household: Uuid::from_u128(id),
            group: Some("g01".into()),
            district: district.into(),
            address: address.into(),
            phones: if phone.is_empty() {
                Vec::new()
            } else {
                vec![phone.into()]
            },
            members,
        }
    }

    /// A family: Ali Karimi, his wife Zahra Ahmadi and two children.
    fn karimi(id: u128) -> MatchRecord {
        record(
            id,
            "منطقه ۷",
            "خیابان امام، کوچه یاس، پلاک ۱۲",
            "09121234567",
            vec![
                member(
                    "علی",
                    "کریمی",
                    Relation::Head,
                    Some("0499370899"),
                    date(1980, 3, 21),
                    Some("حسن"),
                ),
                member(
                    "زهرا",
                    "احمدی",
                    Relation::Spouse,
                    Some("0067749828"),
                    date(1984, 6, 2),
                    Some("رضا"),
                ),
                member(
                    "مهدی",
                    "کریمی",
                    Relation::Child,
                    None,
                    date(2006, 9, 1),
                    Some("علی"),
                ),
                member(
                    "فاطمه",
                    "کریمی",
                    Relation::Child,
                    None,
                    date(2010, 1, 15),
                    Some("علی"),
                ),
            ],
        )
    }

    /// Realistic frequencies (a generated district's worth of households) plus `extra`.
    fn population_with(extra: &[&MatchRecord]) -> Population {
        let mut records = province(11, 2_000, 0.0).records;
        records.extend(extra.iter().map(|r| (*r).clone()));
        Population::of(&records)
    }

    fn assert_explained(score: &PairScore) {
        assert!(!score.reasons.is_empty());
        let sum: f32 = score.reasons.iter().map(|r| r.weight).sum();
        assert!((sum - score.score).abs() < 1e-3, "{sum} vs {}", score.score);
    }

    #[test]
    fn the_same_registration_twice_is_likely_and_explains_itself() {
        let (a, b) = (karimi(1), karimi(2));
        let pop = population_with(&[&a, &b]);
        let score = score_pair(&a, &b, &pop);
        assert_eq!(score.band, Some(Band::Likely), "{score:?}");
        assert_explained(&score);
        for field in [
            MatchField::NationalId,
            MatchField::HeadName,
            MatchField::BirthDate,
            MatchField::FatherName,
            MatchField::SpouseName,
            MatchField::MemberName,
            MatchField::Phone,
            MatchField::District,
            MatchField::Address,
        ] {
            let reason = score
                .reason(field)
                .unwrap_or_else(|| panic!("{field:?} missing"));
            assert_eq!(reason.agreement, Agreement::Exact, "{field:?}");
            assert!(reason.weight > 0.0, "{field:?}");
        }
    }

    #[test]
    fn scores_do_not_depend_on_the_order() {
        let a = karimi(1);
        let mut b = karimi(2);
        b.members[0].first_name = "عليرضا".into();
        b.members.pop();
        let pop = population_with(&[&a, &b]);
        assert_eq!(score_pair(&a, &b, &pop), score_pair(&b, &a, &pop));
    }

    #[test]
    fn spelling_variants_of_one_family_are_likely() {
        let a = karimi(1);
        let variants: Vec<(&str, Box<dyn Fn(&mut MatchRecord)>)> = vec![
            (
                "arabic letters",
                Box::new(|r| {
                    r.members[0].first_name = "علي".into();
                    r.members[0].last_name = "كريمي".into();
                }),
            ),
            (
                "swapped first and last name",
                Box::new(|r| {
                    r.members[0].first_name = "کریمی".into();
                    r.members[0].last_name = "علی".into();
                }),
            ),
            (
                "a typo",
                Box::new(|r| r.members[0].last_name = "کریمن".into()),
            ),
            (
                "a title",
                Box::new(|r| r.members[0].first_name = "سید علی".into()),
            ),
            (
                "phone with +98",
                Box::new(|r| r.phones = vec!["+98 912 123 4567".into()]),
            ),
            (
                "no national IDs",
                Box::new(|r| r.members.iter_mut().for_each(|m| m.national_id = None)),
            ),
            (
                "moved",
                Box::new(|r| {
                    r.district = "شهرک رسالت".into();
                    r.address = "خیابان آزادی، کوچه لاله، پلاک ۳".into();
                }),
            ),
            (
                "re-married",
                Box::new(|r| {
                    r.members[1] = member(
                        "مریم",
                        "صادقی",
                        Relation::Spouse,
                        None,
                        date(1990, 1, 1),
                        Some("اکبر"),
                    );
                }),
            ),
            (
                "registered under the wife",
                Box::new(|r| {
                    r.members[0].relation = Relation::Spouse;
                    r.members[1].relation = Relation::Head;
                }),
            ),
        ];
        for (what, change) in variants {
            let mut b = karimi(2);
            change(&mut b);
            let pop = population_with(&[&a, &b]);
            let score = score_pair(&a, &b, &pop);
            assert_eq!(score.band, Some(Band::Likely), "{what}: {score:#?}");
            assert_explained(&score);
        }
    }

    #[test]
    fn compound_names_written_joined_or_split_are_one_name() {
        let mut a = karimi(1);
        a.members[0].first_name = "محمدعلی".into();
        a.members[0].last_name = "میرزاده".into();
        for (first, last) in [
            ("محمد علی", "میر زاده"),
            ("محمد\u{200C}علی", "میر\u{200C}زاده"),
        ] {
            let mut b = karimi(2);
            b.members[0].first_name = first.into();
            b.members[0].last_name = last.into();
            let pop = population_with(&[&a, &b]);
            for (x, y) in [(&a, &b), (&b, &a)] {
                let score = score_pair(x, y, &pop);
                let head = score
                    .reason(MatchField::HeadName)
                    .expect("head name compared");
                assert_eq!(head.agreement, Agreement::Exact, "{first} {last}");
                assert_eq!(score.band, Some(Band::Likely));
            }
        }
    }

    /// Two brothers in one building: same surname, same father, same address and phone; their
    /// own first names, national IDs, wives and children.
    fn brothers() -> (MatchRecord, MatchRecord) {
        let address = "خیابان امام، کوچه یاس، پلاک ۱۲";
        let a = record(
            1,
            "منطقه ۷",
            address,
            "09121234567",
            vec![
                member(
                    "علی",
                    "ظهیرپور",
                    Relation::Head,
                    Some("0499370899"),
                    date(1980, 3, 21),
                    Some("غلامحسین"),
                ),
                member(
                    "زهرا",
                    "احمدی",
                    Relation::Spouse,
                    None,
                    date(1984, 6, 2),
                    Some("رضا"),
                ),
                member(
                    "مهدی",
                    "ظهیرپور",
                    Relation::Child,
                    None,
                    date(2006, 9, 1),
                    Some("علی"),
                ),
            ],
        );
        let b = record(
            2,
            "منطقه ۷",
            address,
            "09121234567",
            vec![
                member(
                    "حسن",
                    "ظهیرپور",
                    Relation::Head,
                    Some("0067749828"),
                    date(1981, 5, 2),
                    Some("غلامحسین"),
                ),
                member(
                    "مریم",
                    "صادقی",
                    Relation::Spouse,
                    None,
                    date(1986, 1, 9),
                    Some("اکبر"),
                ),
                member(
                    "سارا",
                    "ظهیرپور",
                    Relation::Child,
                    None,
                    date(2009, 2, 3),
                    Some("حسن"),
                ),
            ],
        );
        (a, b)
    }

    #[test]
    fn brothers_are_not_likely_even_without_national_ids() {
        let (a, b) = brothers();
        let pop = population_with(&[&a, &b]);
        let score = score_pair(&a, &b, &pop);
        assert_ne!(score.band, Some(Band::Likely), "{score:#?}");
        assert_explained(&score);
        let (mut a, mut b) = (a, b);
        for m in a.members.iter_mut().chain(b.members.iter_mut()) {
            m.national_id = None;
        }
        let score = score_pair(&a, &b, &pop);
        assert_ne!(score.band, Some(Band::Likely), "{score:#?}");
        // Their rare shared surname does not outweigh their different first names.
        let head = score.reason(MatchField::HeadName).expect("compared");
        assert_eq!(head.agreement, Agreement::Differs);
        assert!(head.weight < 0.0, "{head:?}");
    }

    #[test]
    fn a_name_that_is_part_of_the_other_is_not_a_close_name() {
        // Brothers «محمد» and «محمدرضا»: Jaro–Winkler alone calls them close (0.91).
        let (mut a, mut b) = brothers();
        a.members[0].first_name = "محمد".into();
        b.members[0].first_name = "محمدرضا".into();
        for m in a.members.iter_mut().chain(b.members.iter_mut()) {
            m.national_id = None;
        }
        let pop = population_with(&[&a, &b]);
        let score = score_pair(&a, &b, &pop);
        assert_ne!(score.band, Some(Band::Likely), "{score:#?}");
        let head = score.reason(MatchField::HeadName).expect("compared");
        assert_eq!(head.agreement, Agreement::Differs);
    }

    #[test]
    fn a_widow_who_moved_to_her_parents_is_at_most_possible() {
        let a = karimi(1);
        // Her parents' household: her father (whose first name is her father's name), her
        // mother, and she as a daughter with her national ID.
        let b = record(
            2,
            "منطقه ۳",
            "خیابان انقلاب، کوچه نرگس، پلاک ۴",
            "09350000001",
            vec![
                member(
                    "رضا",
                    "احمدی",
                    Relation::Head,
                    Some("1270000010"),
                    date(1955, 1, 1),
                    Some("محمود"),
                ),
                member(
                    "طاهره",
                    "نوروزی",
                    Relation::Spouse,
                    None,
                    date(1958, 4, 4),
                    Some("قاسم"),
                ),
                member(
                    "زهرا",
                    "احمدی",
                    Relation::Child,
                    Some("0067749828"),
                    date(1984, 6, 2),
                    Some("رضا"),
                ),
            ],
        );
        let pop = population_with(&[&a, &b]);
        let score = score_pair(&a, &b, &pop);
        // The shared national ID puts the pair in review, never more.
        assert_eq!(score.band, Some(Band::Possible), "{score:#?}");
        assert_eq!(
            score.reason(MatchField::NationalId).map(|r| r.agreement),
            Some(Agreement::Exact)
        );
        // Even if everything else about her agrees and the phone is the same.
        let mut b2 = b.clone();
        b2.phones = a.phones.clone();
        let score = score_pair(&a, &b2, &pop);
        assert_eq!(score.band, Some(Band::Possible), "{score:#?}");
    }

    #[test]
    fn placeholder_national_ids_prove_nothing() {
        let mut a = karimi(1);
        let mut b = brothers().1;
        b.address = "جای دیگر".into();
        b.district = "منطقه ۱".into();
        b.phones.clear();
        for (r, nid) in [(&mut a, "0010000003"), (&mut b, "0010000003")] {
            r.members[0].national_id = Some(nid.into());
        }
        let pop = population_with(&[&a, &b]);
        let score = score_pair(&a, &b, &pop);
        assert_eq!(score.band, None, "{score:#?}");
        assert!(
            !block_keys(&a)
                .iter()
                .any(|k| k.kind() == BlockKind::NationalId && k.as_str().contains("0010000003"))
        );

        // A valid-looking ID that many households give is a placeholder too.
        let filler = "0499370899";
        let mut records: Vec<MatchRecord> = (0..5)
            .map(|i| {
                let mut r = brothers().1;
                r.household = Uuid::from_u128(100 + i);
                r.members[0].national_id = Some(filler.into());
                r
            })
            .collect();
        a.members[0].national_id = Some(filler.into());
        records.push(a.clone());
        let pop = Population::of(&records);
        let score = score_pair(&a, &records[0], &pop);
        assert_eq!(score.band, None, "{score:#?}");
        assert!(score.reason(MatchField::NationalId).is_none());
    }

    #[test]
    fn rare_names_weigh_more_than_common_ones() {
        let mut common = karimi(1);
        common.members[0].first_name = "محمد".into();
        common.members[0].last_name = "محمدی".into();
        let mut rare = karimi(3);
        rare.members[0].first_name = "سیاوش".into();
        rare.members[0].last_name = "ظهیرپور".into();
        let (mut common2, mut rare2) = (common.clone(), rare.clone());
        common2.household = Uuid::from_u128(2);
        rare2.household = Uuid::from_u128(4);
        let pop = population_with(&[&common, &common2, &rare, &rare2]);
        let weight = |a, b| {
            score_pair(a, b, &pop)
                .reason(MatchField::HeadName)
                .map(|r| r.weight)
                .unwrap_or_default()
        };
        let (c, r) = (weight(&common, &common2), weight(&rare, &rare2));
        assert!(r > c + 4.0, "rare {r} common {c}");
    }

    #[test]
    fn a_phone_many_households_give_weighs_less() {
        let (a, b) = (karimi(1), karimi(2));
        let alone = population_with(&[&a, &b]);
        let mut crowd: Vec<MatchRecord> = (0..30)
            .map(|i| {
                let mut r = brothers().1;
                r.household = Uuid::from_u128(100 + i);
                r
            })
            .collect();
        crowd.extend([a.clone(), b.clone()]);
        let crowded = Population::of(&crowd);
        let phone = |pop: &Population| {
            score_pair(&a, &b, pop)
                .reason(MatchField::Phone)
                .map(|r| r.weight)
                .unwrap_or_default()
        };
        assert_eq!(phone(&alone), PHONE_AGREE_MAX);
        assert!(
            phone(&crowded) < PHONE_AGREE_MAX - 4.0,
            "{}",
            phone(&crowded)
        );
    }

    #[test]
    fn population_add_matches_population_of() {
        let records = province(5, 300, 0.05).records;
        let bulk = Population::of(&records);
        let mut one_by_one = Population::default();
        for r in &records {
            one_by_one.add(r);
        }
        assert_eq!(bulk.households, one_by_one.households);
        assert_eq!(bulk.persons, one_by_one.persons);
        assert_eq!(bulk.first, one_by_one.first);
        assert_eq!(bulk.last, one_by_one.last);
        assert_eq!(bulk.father, one_by_one.father);
        assert_eq!(bulk.phones, one_by_one.phones);
        assert_eq!(bulk.nids, one_by_one.nids);
        assert_eq!(bulk.districts, one_by_one.districts);
    }

    #[test]
    fn pruning_never_drops_a_banded_pair() {
        // Every pair of records sharing a key in a small province: detection's shortcut gives
        // None only where the full score has no band.
        let records = province(3, 1_500, 0.05).records;
        let pop = Population::of(&records);
        let prepared: Vec<Prepared> = records.iter().map(|r| Prepared::new(r, &pop)).collect();
        let hashes: Vec<Vec<u64>> = prepared
            .iter()
            .map(|p| {
                p.block_keys()
                    .iter()
                    .map(|k| fnv1a(k.as_str().as_bytes()))
                    .collect()
            })
            .collect();
        let rank: Vec<u32> = (0..records.len() as u32).collect();
        let (pairs, _) = candidate_pairs(&hashes, &rank);
        let mut pairs: Vec<(&Prepared, &Prepared)> = pairs
            .into_iter()
            .map(|(i, j)| (&prepared[i as usize], &prepared[j as usize]))
            .collect();
        // And the labelled pairs, whose odd shapes (a new spouse, roles swapped, a moved
        // daughter) reach the corners of the bound.
        let labelled: Vec<(Prepared, Prepared)> = labelled_pairs(8, 3_000)
            .iter()
            .map(|p| (Prepared::new(&p.a, &pop), Prepared::new(&p.b, &pop)))
            .collect();
        pairs.extend(labelled.iter().map(|(a, b)| (a, b)));
        // Another man recorded as head, the same wife and children: only the spouse and the
        // members lift this pair into a band.
        let mut a = karimi(1);
        let mut b = karimi(2);
        b.members[0] = member(
            "حسین",
            "رضایی",
            Relation::Head,
            None,
            date(1970, 1, 1),
            Some("جواد"),
        );
        for m in a.members.iter_mut().chain(b.members.iter_mut()) {
            m.national_id = None;
        }
        let other_head = (Prepared::new(&a, &pop), Prepared::new(&b, &pop));
        assert!(
            score_prepared(&other_head.0, &other_head.1, false).is_some_and(|s| s.band.is_some())
        );
        pairs.push((&other_head.0, &other_head.1));
        let mut pruned = 0;
        for (a, b) in pairs {
            let full = score_prepared(a, b, false).expect("never None without pruning");
            match score_prepared(a, b, true) {
                None => {
                    pruned += 1;
                    assert_eq!(full.band, None, "{full:#?}");
                }
                Some(s) => assert_eq!(s, full),
            }
        }
        assert!(pruned > 0, "the shortcut was never taken");
    }

    #[test]
    fn detection_compares_candidates_not_all_pairs() {
        let province = province(17, 5_000, 0.03);
        let pop = Population::of(&province.records);
        let (candidates, stats) = detect_with_stats(&province.records, &pop);
        let all_pairs = 5_000 * 4_999 / 2;
        assert!(stats.pairs_compared * 100 < all_pairs, "{stats:?}");
        assert_eq!(stats.candidates, candidates.len());
        // Best first, each banded, ids ordered, each with the keys that proposed it.
        for w in candidates.windows(2) {
            assert!(w[0].score.score >= w[1].score.score);
        }
        for c in &candidates {
            assert!(c.a < c.b);
            assert!(c.score.band.is_some());
            assert!(!c.keys.is_empty());
            assert_explained(&c.score);
        }
        // It finds the planted duplicates.
        let found: std::collections::HashSet<(Uuid, Uuid)> =
            candidates.iter().map(|c| (c.a, c.b)).collect();
        let hits = province
            .duplicates
            .iter()
            .filter(|d| found.contains(d))
            .count();
        assert!(
            hits as f64 >= 0.95 * province.duplicates.len() as f64,
            "{hits} of {}",
            province.duplicates.len()
        );
        // And agrees with scoring each pair on its own.
        for c in candidates.iter().take(50) {
            let a = province
                .records
                .iter()
                .find(|r| r.household == c.a)
                .expect("a");
            let b = province
                .records
                .iter()
                .find(|r| r.household == c.b)
                .expect("b");
            assert_eq!(score_pair(a, b, &pop), c.score);
        }
    }

    #[test]
    fn a_new_registration_is_checked_against_its_block_candidates() {
        let province = province(23, 3_000, 0.0);
        let pop = Population::of(&province.records);
        let existing = province.records[42].clone();
        let mut new = existing.clone();
        new.household = Uuid::from_u128(u128::MAX);
        new.members[0].first_name =
            crate::text::clean_input(&new.members[0].first_name.replace('ی', "ي"));
        // What a store's key index would return: the records sharing a key with the new one.
        let keys = block_keys(&new);
        let found: Vec<MatchRecord> = province
            .records
            .iter()
            .filter(|r| block_keys(r).iter().any(|k| keys.contains(k)))
            .cloned()
            .collect();
        assert!(found.len() < 100, "{}", found.len());
        let candidates = match_one(&new, &found, &pop);
        assert_eq!(
            candidates.first().map(|c| (c.a, c.b)),
            Some((existing.household, new.household))
        );
        assert_eq!(candidates[0].score.band, Some(Band::Likely));
        // Households that share no key are not scored.
        assert!(
            match_one(&new, &[province.records[0].clone()], &pop)
                .iter()
                .all(|c| !c.keys.is_empty())
        );
    }

    #[test]
    fn evidence_names_facts_without_personal_data_and_grows_with_a_new_fact() {
        let a = karimi(1);
        let mut b = karimi(2);
        b.phones.clear();
        for m in &mut b.members {
            m.national_id = None;
        }
        let before = evidence(&a, &b);
        assert!(!before.is_empty());
        assert!(before.windows(2).all(|w| w[0] < w[1]), "sorted, no repeats");
        assert_eq!(before, evidence(&b, &a));
        assert!(before.iter().any(|f| f == "agrees:head_name"));
        assert!(before.iter().any(|f| f.starts_with("skel:")));
        for fact in &before {
            assert!(
                !fact.contains("کریمی") && !fact.contains("9121234567"),
                "{fact}"
            );
        }
        // The same phone appears: a new fact.
        b.phones = a.phones.clone();
        let after = evidence(&a, &b);
        let new: Vec<&String> = after.iter().filter(|f| !before.contains(f)).collect();
        assert!(new.iter().any(|f| f.starts_with("phone:")), "{new:?}");
        assert!(new.iter().any(|f| *f == "agrees:phone"), "{new:?}");
        assert!(before.iter().all(|f| after.contains(f)));
    }

    #[test]
    fn labelled_pairs_keep_their_truth_when_scored_alone() {
        // Scoring without population statistics (an empty population) still separates the
        // generated brothers from duplicates: weights fall back to a default frequency.
        let pairs = labelled_pairs(5, 200);
        let pop = Population::default();
        for p in pairs.iter().filter(|p| p.variation == "brothers") {
            assert_ne!(score_pair(&p.a, &p.b, &pop).band, Some(Band::Likely));
        }
    }
}
