//! Blocking: the keys that propose candidate pairs (any one shared key makes two records a
//! candidate), and the pairs they give, with very large blocks cut down to a sorted
//! neighbourhood so that the cost grows with the number of candidates, not households².

use serde::{Deserialize, Serialize};

use super::MatchRecord;
use super::score::{Population, Prepared};

/// The kind of a blocking key (its prefix).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockKind {
    /// `nid:<10 digits>`: a member's (non-placeholder) national ID.
    NationalId,
    /// `phone:<last 10 digits>`.
    Phone,
    /// `skel:<district key>|<surname skeleton>`: a member's surname skeleton in the district.
    Skeleton,
    /// `father:<father's name key>|<birth year>`: the head's (or spouse's) father's first name
    /// and their own birth year.
    Father,
}

impl BlockKind {
    pub fn prefix(self) -> &'static str {
        match self {
            BlockKind::NationalId => "nid",
            BlockKind::Phone => "phone",
            BlockKind::Skeleton => "skel",
            BlockKind::Father => "father",
        }
    }
}

/// A blocking key in its stable string form (`nid:0499370899`, `phone:9121234567`,
/// `skel:منطقه7|اهمد`, `father:حسن|1975`): what a store indexes to find the households a new one
/// may duplicate with index lookups.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BlockKey(String);

impl BlockKey {
    pub(crate) fn new(kind: BlockKind, value: &str) -> Self {
        BlockKey(format!("{}:{value}", kind.prefix()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn kind(&self) -> BlockKind {
        let prefix = self.0.split(':').next().unwrap_or_default();
        match prefix {
            "nid" => BlockKind::NationalId,
            "phone" => BlockKind::Phone,
            "skel" => BlockKind::Skeleton,
            _ => BlockKind::Father,
        }
    }
}

impl std::fmt::Display for BlockKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The blocking keys of one record, sorted and without repeats:
/// - every member's national ID that is not a placeholder;
/// - every phone's last ten digits;
/// - the head's and the spouse's surname skeleton, with the district's key (so «احمدی» in
///   district 7 and «احمدی» in district 3 are different blocks);
/// - the head's and the spouse's father's first name with their own birth year, where both are
///   known (an household registered under the other partner is still found).
pub fn block_keys(record: &MatchRecord) -> Vec<BlockKey> {
    Prepared::new(record, &Population::default()).block_keys()
}

/// Blocks with more records than this are not compared all against all: their records are
/// sorted by the head's surname skeleton and first name, and each is compared with the next
/// [`WINDOW`] only (the sorted-neighbourhood method). A block that large is a key that many
/// households share (a very common surname in a large district, «محمد» born in 1980, a phone
/// number an office gives for all its clients), which on its own says little.
pub const BLOCK_CAP: usize = 100;

/// How many following records each record of a capped block is compared with.
pub const WINDOW: usize = 20;

/// A deterministic 64-bit hash of a key (FNV-1a): the same on every machine and run. Two keys
/// with the same hash only make one block of two, which costs comparisons, never a miss.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// What candidate generation did: how many blocks and pairs, so that a test and the bench can
/// show it never compares all pairs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BlockStats {
    pub blocks: usize,
    /// Blocks larger than [`BLOCK_CAP`], compared by sorted neighbourhood.
    pub capped_blocks: usize,
    /// Distinct pairs proposed (each is scored once).
    pub pairs: usize,
}

/// The distinct pairs `(i, j)`, `i < j`, of records sharing a key. `keys[i]` are record `i`'s
/// key hashes; `rank[i]` is its place in the order used inside capped blocks.
pub(crate) fn candidate_pairs(keys: &[Vec<u64>], rank: &[u32]) -> (Vec<(u32, u32)>, BlockStats) {
    let mut entries: Vec<(u64, u32)> = Vec::with_capacity(keys.iter().map(Vec::len).sum());
    for (i, record_keys) in keys.iter().enumerate() {
        entries.extend(record_keys.iter().map(|k| (*k, i as u32)));
    }
    entries.sort_unstable();
    entries.dedup();
    let mut stats = BlockStats::default();
    let mut pairs: Vec<u64> = Vec::new();
    let push = |pairs: &mut Vec<u64>, x: u32, y: u32| {
        let (i, j) = if x < y { (x, y) } else { (y, x) };
        pairs.push(u64::from(i) << 32 | u64::from(j));
    };
    let mut block: Vec<u32> = Vec::new();
    let mut start = 0;
    while start < entries.len() {
        let hash = entries[start].0;
        let end = start + entries[start..].partition_point(|e| e.0 == hash);
        if end - start > 1 {
            stats.blocks += 1;
            block.clear();
            block.extend(entries[start..end].iter().map(|e| e.1));
            if block.len() <= BLOCK_CAP {
                for (p, x) in block.iter().enumerate() {
                    for y in &block[p + 1..] {
                        push(&mut pairs, *x, *y);
                    }
                }
            } else {
                stats.capped_blocks += 1;
                block.sort_unstable_by_key(|i| rank[*i as usize]);
                for (p, x) in block.iter().enumerate() {
                    for y in block.iter().skip(p + 1).take(WINDOW) {
                        push(&mut pairs, *x, *y);
                    }
                }
            }
        }
        start = end;
    }
    pairs.sort_unstable();
    pairs.dedup();
    stats.pairs = pairs.len();
    let pairs = pairs
        .into_iter()
        .map(|p| ((p >> 32) as u32, p as u32))
        .collect();
    (pairs, stats)
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use uuid::Uuid;

    use super::*;
    use crate::Relation;
    use crate::matching::MatchMember;

    fn member(first: &str, last: &str, relation: Relation) -> MatchMember {
        MatchMember {
            first_name: first.into(),
            last_name: last.into(),
            national_id: None,
            birth_date: None,
            relation,
            father_name: None,
        }
    }

    #[test]
    fn keys_name_each_rule_in_a_stable_form() {
        let mut head = member("علي", "احمدي", Relation::Head);
        head.national_id = Some("0499370899".into());
        head.father_name = Some("حسن".into());
        head.birth_date = NaiveDate::from_ymd_opt(1975, 3, 1);
        let mut child = member("زهرا", "احمدی", Relation::Child);
        child.national_id = Some("0010000003".into()); // a placeholder
        child.father_name = Some("علی".into());
        child.birth_date = NaiveDate::from_ymd_opt(2005, 3, 1);
        let record = MatchRecord {
            household: Uuid::nil(),
            group: None,
            district: "منطقه ۷".into(),
            address: String::new(),
            phones: vec!["+98 912 123 4567".into(), "0912-123-4567".into()],
            members: vec![head, child],
        };
        let keys = block_keys(&record);
        let strings: Vec<&str> = keys.iter().map(BlockKey::as_str).collect();
        assert_eq!(
            strings,
            [
                "father:حسن|1975",
                "nid:0499370899",
                "phone:9121234567",
                "skel:منطقه7|اهمد",
            ]
        );
        let kinds: Vec<BlockKind> = keys.iter().map(BlockKey::kind).collect();
        assert_eq!(
            kinds,
            [
                BlockKind::Father,
                BlockKind::NationalId,
                BlockKind::Phone,
                BlockKind::Skeleton
            ]
        );
    }

    #[test]
    fn small_blocks_give_all_their_pairs_once() {
        // Records 0, 1, 2 share key 7; records 1 and 2 also share key 9.
        let keys = vec![vec![7], vec![7, 9], vec![7, 9], vec![8]];
        let (pairs, stats) = candidate_pairs(&keys, &[0, 1, 2, 3]);
        assert_eq!(pairs, [(0, 1), (0, 2), (1, 2)]);
        assert_eq!(stats.blocks, 2);
        assert_eq!(stats.capped_blocks, 0);
        assert_eq!(stats.pairs, 3);
    }

    #[test]
    fn large_blocks_compare_neighbours_only() {
        let n = 1_000;
        let keys = vec![vec![1u64]; n];
        let rank: Vec<u32> = (0..n as u32).rev().collect();
        let (pairs, stats) = candidate_pairs(&keys, &rank);
        assert_eq!(stats.capped_blocks, 1);
        // Each record meets its WINDOW following neighbours in rank order, not all n − 1 others.
        let expected: usize = (0..n).map(|p| WINDOW.min(n - 1 - p)).sum();
        assert_eq!(pairs.len(), expected);
        assert!(pairs.len() < n * (n - 1) / 2 / 20);
        // The neighbours are by rank: record 999 (rank 0) meets record 998 (rank 1).
        assert!(pairs.contains(&(998, 999)));
        assert!(!pairs.contains(&(0, 999)));
    }

    #[test]
    fn the_hash_is_stable() {
        // FNV-1a's published test vector: the same on every machine and run.
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
    }
}
