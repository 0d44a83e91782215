//! String similarity for match keys: Jaro–Winkler on characters, and a token-aligned name
//! similarity that tolerates a compound name written joined or split, a missing part and a
//! different word order. Nothing here allocates for names of ordinary length (the detection
//! loop calls it millions of times).

use super::key::{AddressKey, NameKey};

/// Names longer than this take the allocating path (none does in practice: a name is at most
/// 100 characters and almost always under 20).
const STACK: usize = 64;

/// Jaro similarity of two character sequences, 0 (nothing in common) to 1 (equal).
pub fn jaro(a: &[char], b: &[char]) -> f32 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    if a.len() <= STACK && b.len() <= STACK {
        let mut a_used = [false; STACK];
        let mut b_used = [false; STACK];
        jaro_with(a, b, &mut a_used[..a.len()], &mut b_used[..b.len()])
    } else {
        jaro_with(a, b, &mut vec![false; a.len()], &mut vec![false; b.len()])
    }
}

fn jaro_with(a: &[char], b: &[char], a_used: &mut [bool], b_used: &mut [bool]) -> f32 {
    let window = (a.len().max(b.len()) / 2).saturating_sub(1);
    let mut matches = 0usize;
    for (i, ca) in a.iter().enumerate() {
        let lo = i.saturating_sub(window);
        let hi = (i + window + 1).min(b.len());
        for j in lo..hi {
            if !b_used[j] && b[j] == *ca {
                a_used[i] = true;
                b_used[j] = true;
                matches += 1;
                break;
            }
        }
    }
    if matches == 0 {
        return 0.0;
    }
    // Half the number of matched characters that appear in a different order.
    let mut transpositions = 0usize;
    let mut j = 0usize;
    for (i, ca) in a.iter().enumerate() {
        if !a_used[i] {
            continue;
        }
        while !b_used[j] {
            j += 1;
        }
        if *ca != b[j] {
            transpositions += 1;
        }
        j += 1;
    }
    let m = matches as f32;
    let t = (transpositions / 2) as f32;
    (m / a.len() as f32 + m / b.len() as f32 + (m - t) / m) / 3.0
}

/// Jaro–Winkler similarity (prefix scale 0.1, prefix of at most four characters), 0 to 1.
pub fn jaro_winkler(a: &[char], b: &[char]) -> f32 {
    let j = jaro(a, b);
    let prefix = a.iter().zip(b).take(4).take_while(|(x, y)| x == y).count() as f32;
    j + prefix * 0.1 * (1.0 - j)
}

/// How much a token-by-token alignment is discounted when one name has more tokens than the
/// other («محمد علی» against «علی»): the missing part is likely but not certainly a shortening.
const MISSING_TOKEN_FACTOR: f32 = 0.92;

/// The similarity of two names, 0 to 1: 1 when their joined forms are equal (so a compound
/// name written joined, split or with ZWNJ is the same name), else the better of Jaro–Winkler
/// on the joined forms and a token alignment (each token of the name with fewer tokens takes
/// its best match among the other's tokens, in any order; the mean is discounted by
/// [`MISSING_TOKEN_FACTOR`] when the counts differ).
pub(crate) fn name_similarity(a: &NameKey, b: &NameKey) -> f32 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    if a.chars == b.chars {
        return 1.0;
    }
    let joined = jaro_winkler(&a.chars, &b.chars);
    if a.token_count() <= 1 && b.token_count() <= 1 {
        return joined;
    }
    let (short, long) = if a.token_count() <= b.token_count() {
        (a, b)
    } else {
        (b, a)
    };
    let mut total = 0.0;
    for s in short.tokens() {
        let best = long
            .tokens()
            .map(|l| jaro_winkler(s, l))
            .fold(0.0f32, f32::max);
        total += best;
    }
    let mut aligned = total / short.token_count() as f32;
    if short.token_count() != long.token_count() {
        aligned *= MISSING_TOKEN_FACTOR;
    }
    joined.max(aligned)
}

/// Whether one name is a part of the other: all its tokens are tokens of the other, or its
/// joined form begins or ends the other's with at least two more letters («محمد» of «محمدرضا»,
/// «علی» of «محمد علی», «حسین» of «حسین‌زاده»). Jaro–Winkler ranks such pairs high (a shared
/// prefix is its bonus), but they are as often two relatives («محمد» and «محمدرضا» are
/// brothers' names) as one person called by a part of a compound name.
pub(crate) fn is_part_of(a: &NameKey, b: &NameKey) -> bool {
    let (short, long) = if a.chars.len() <= b.chars.len() {
        (a, b)
    } else {
        (b, a)
    };
    if short.is_empty() || long.chars.len() < short.chars.len() + 2 {
        return false;
    }
    let n = short.chars.len();
    long.chars[..n] == short.chars[..]
        || long.chars[long.chars.len() - n..] == short.chars[..]
        || short.tokens().all(|s| long.tokens().any(|l| l == s))
}

/// The similarity of two addresses, 0 to 1: each distinctive word of the shorter address takes
/// its best match in the other (numbers — plaques, alley numbers — only when equal), the mean
/// weighted by the share of words the shorter one covers.
pub(crate) fn address_similarity(a: &AddressKey, b: &AddressKey) -> f32 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    if a == b {
        return 1.0;
    }
    let (short, long) = if a.words.len() <= b.words.len() {
        (a, b)
    } else {
        (b, a)
    };
    let mut total = 0.0;
    for s in &short.words {
        let numeric = s.iter().all(|c| c.is_ascii_digit());
        let best = long
            .words
            .iter()
            .map(|l| {
                if numeric || l.iter().all(|c| c.is_ascii_digit()) {
                    if s == l { 1.0 } else { 0.0 }
                } else {
                    jaro_winkler(s, l)
                }
            })
            .fold(0.0f32, f32::max);
        total += best;
    }
    let coverage = short.words.len() as f32 / long.words.len() as f32;
    total / short.words.len() as f32 * (0.8 + 0.2 * coverage)
}

#[cfg(test)]
mod tests {
    use super::super::key::NameKind;
    use super::*;

    fn chars(s: &str) -> Vec<char> {
        s.chars().collect()
    }

    fn jw(a: &str, b: &str) -> f32 {
        jaro_winkler(&chars(a), &chars(b))
    }

    fn close(x: f32, want: f32) -> bool {
        (x - want).abs() < 0.001
    }

    #[test]
    fn jaro_winkler_known_values() {
        // The textbook values (Winkler 1990; the same in every implementation).
        assert!(close(jaro(&chars("MARTHA"), &chars("MARHTA")), 0.9444));
        assert!(
            close(jw("MARTHA", "MARHTA"), 0.9611),
            "{}",
            jw("MARTHA", "MARHTA")
        );
        assert!(
            close(jw("DWAYNE", "DUANE"), 0.84),
            "{}",
            jw("DWAYNE", "DUANE")
        );
        assert!(
            close(jw("DIXON", "DICKSONX"), 0.8133),
            "{}",
            jw("DIXON", "DICKSONX")
        );
        assert!(close(jw("JELLYFISH", "SMELLYFISH"), 0.8963));
        assert!(close(jw("abc", "abc"), 1.0));
        assert!(close(jw("abc", "xyz"), 0.0));
        assert!(close(jw("", ""), 1.0));
        assert!(close(jw("a", ""), 0.0));
        // Symmetric.
        assert!(close(jw("DUANE", "DWAYNE"), jw("DWAYNE", "DUANE")));
    }

    #[test]
    fn long_strings_take_the_allocating_path_and_agree() {
        let a: String = "ab".repeat(50);
        let b: String = "ba".repeat(50);
        let x = jw(&a, &b);
        assert!(x > 0.5 && x <= 1.0, "{x}");
        assert!(close(jw(&a, &a), 1.0));
    }

    #[test]
    fn persian_typos_stay_close_and_different_names_do_not() {
        assert!(jw("رضایی", "رضائی") > 0.88);
        assert!(jw("کاظمی", "کاظی") > 0.9);
        assert!(
            jw("محمدرضا", "محمدعلی") < 0.88,
            "{}",
            jw("محمدرضا", "محمدعلی")
        );
        assert!(jw("علی", "رضا") < 0.5);
    }

    fn name(raw: &str) -> NameKey {
        NameKey::new(raw, NameKind::First)
    }

    #[test]
    fn names_align_by_tokens() {
        // Compound forms: equal whichever way they are written.
        assert_eq!(name_similarity(&name("محمدعلی"), &name("محمد علی")), 1.0);
        assert_eq!(name_similarity(&name("عبد الله"), &name("عبدالله")), 1.0);
        // A missing part: close, not equal.
        let missing = name_similarity(&name("محمد علی"), &name("علی"));
        assert!((0.88..1.0).contains(&missing), "{missing}");
        // Another order.
        let swapped = name_similarity(&name("علی اکبر"), &name("اکبر علی"));
        assert!(swapped > 0.95, "{swapped}");
        // Different compound names sharing a part are not close.
        let brothers = name_similarity(&name("محمد رضا"), &name("محمد علی"));
        assert!(brothers < 0.88, "{brothers}");
        assert_eq!(name_similarity(&name(""), &name("علی")), 0.0);
    }

    #[test]
    fn a_part_of_a_name_is_recognised() {
        assert!(is_part_of(&name("محمد"), &name("محمدرضا")));
        assert!(is_part_of(&name("محمدرضا"), &name("محمد")));
        assert!(is_part_of(&name("علی"), &name("محمد علی")));
        assert!(is_part_of(&name("علی"), &name("محمدعلی")));
        assert!(is_part_of(&name("حسین"), &name("حسین‌زاده")));
        // One letter more is a spelling, not a part: «احمد» / «احمدی».
        assert!(!is_part_of(&name("احمد"), &name("احمدی")));
        assert!(!is_part_of(&name("علی"), &name("علی")));
        assert!(!is_part_of(&name("رضا"), &name("محمدعلی")));
        assert!(!is_part_of(&name(""), &name("علی")));
    }

    #[test]
    fn addresses_compare_words_and_exact_numbers() {
        let a = AddressKey::new("خیابان امام، کوچه یاس، پلاک ۱۲");
        assert_eq!(
            address_similarity(&a, &AddressKey::new("خ امام ک یاس پ 12")),
            1.0
        );
        let other_plaque = address_similarity(&a, &AddressKey::new("خیابان امام کوچه یاس پلاک 13"));
        assert!(other_plaque < 0.7, "{other_plaque}");
        let other_alley = address_similarity(&a, &AddressKey::new("خیابان امام کوچه لاله پلاک 3"));
        assert!(other_alley < 0.6, "{other_alley}");
        let typo = address_similarity(&a, &AddressKey::new("خیابان امام کوچه یاسمن پلاک 12"));
        assert!(typo > 0.85, "{typo}");
        assert_eq!(address_similarity(&a, &AddressKey::default()), 0.0);
    }
}
