//! Match keys: the normalised forms the matcher compares (names, surname skeletons, phones,
//! national IDs, districts, addresses). They are derived from what was typed and never shown or
//! stored in its place: display keeps the worker's spelling.

use crate::text::{digit_value, normalize_for_search};

/// Titles and honorifics that are written before a name but are not part of it. Stored in their
/// normalised form (آ is ا); a test checks that normalising them changes nothing.
const TITLES: &[&str] = &[
    "سید",
    "سیده",
    "حاج",
    "حاجی",
    "حاجیه",
    "میرزا",
    "شیخ",
    "کربلایی",
    "کربلای",
    "مشهدی",
    "مشدی",
    "اقا",
    "خانم",
    "دکتر",
    "مهندس",
];

/// Titles that may also be written before a surname («سید حسینی»). «میرزا» is left out: in a
/// surname it is a part of the name («میرزا زاده», «میرزا احمدی»).
const SURNAME_TITLES: &[&str] = &["سید", "سیده", "حاج", "حاجی"];

/// Words of an address that say what kind of place follows (street, alley, plaque, floor)
/// rather than which one; two different addresses share them, so they are not compared.
const ADDRESS_WORDS: &[&str] = &[
    "خیابان",
    "خ",
    "کوچه",
    "ک",
    "بنبست",
    "بن",
    "بست",
    "پلاک",
    "پ",
    "طبقه",
    "واحد",
    "بلوار",
    "میدان",
    "نبش",
    "جنب",
    "روبروی",
    "کوی",
    "محله",
    "شهرک",
    "فرعی",
    "اصلی",
    "شماره",
];

/// Which kind of name a [`NameKey`] is built from: titles are stripped differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NameKind {
    First,
    Last,
}

/// A name as the matcher compares it: its tokens (words, titles removed) in order, both as the
/// joined form (all tokens with nothing between them) and as token boundaries into it, so that
/// «محمدعلی», «محمد علی» and «محمد‌علی» have the same joined form, and a token-by-token
/// comparison is still possible for a missing or reordered part.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct NameKey {
    /// The joined form, as characters (what Jaro–Winkler reads).
    pub chars: Vec<char>,
    /// The end of each token in `chars` (token `i` is `chars[ends[i-1]..ends[i]]`).
    pub ends: Vec<usize>,
    /// The joined form as a string (what population counts and block keys use).
    pub joined: String,
    /// Whether a title was stripped (a separate flag, not a part of the name).
    pub titled: bool,
}

impl NameKey {
    pub fn new(raw: &str, kind: NameKind) -> Self {
        let normal = normalize_for_search(raw);
        let mut words: Vec<&str> = normal.split(' ').filter(|w| !w.is_empty()).collect();
        let titles = match kind {
            NameKind::First => TITLES,
            NameKind::Last => SURNAME_TITLES,
        };
        let mut titled = false;
        // Leading titles only, and never the last word: a name that is nothing but a title
        // («میرزا» as a first name) keeps it.
        while words.len() > 1 && titles.contains(&words[0]) {
            words.remove(0);
            titled = true;
        }
        let mut key = NameKey {
            titled,
            ..Default::default()
        };
        for word in words {
            key.chars.extend(word.chars());
            key.joined.push_str(word);
            key.ends.push(key.chars.len());
        }
        key
    }

    pub fn is_empty(&self) -> bool {
        self.chars.is_empty()
    }

    pub fn tokens(&self) -> impl Iterator<Item = &[char]> {
        let mut start = 0;
        self.ends.iter().map(move |&end| {
            let token = &self.chars[start..end];
            start = end;
            token
        })
    }

    pub fn token_count(&self) -> usize {
        self.ends.len()
    }
}

/// The match key of a free text: the search normalisation of [`normalize_for_search`] (NFKC,
/// ی/ک/ه/ا/و folding, no diacritics, tatweel, ZWNJ/ZWJ or bidi marks, Latin digits, lower case,
/// single spaces).
pub fn match_key(raw: &str) -> String {
    normalize_for_search(raw)
}

/// Letters that sound the same in Persian, folded to one: ث/س/ص, ذ/ز/ض/ظ, ت/ط, ح/ه, غ/ق.
fn sound_fold(c: char) -> char {
    match c {
        'ث' | 'ص' => 'س',
        'ذ' | 'ض' | 'ظ' => 'ز',
        'ط' => 'ت',
        'ح' => 'ه',
        'غ' => 'ق',
        _ => c,
    }
}

/// Letters a skeleton drops after its first letter: the long vowels ا/و/ی and the glottal
/// stops ع/ء/ئ, which are the letters most often added, dropped or confused in spelling.
fn is_skeleton_vowel(c: char) -> bool {
    matches!(c, 'ا' | 'و' | 'ی' | 'ع' | 'ء' | 'ئ' | 'أ')
}

/// The surname skeleton used for blocking: the joined match key (spaces and ZWNJ gone, so
/// «میر زاده» is «میرزاده»), with same-sounding letters folded (see [`sound_fold`]), the long
/// vowels and ع/ء dropped after the first letter (a first ع is written ا: «عباسی» and «اباسی»),
/// and doubled letters written once. «صادقی» and «سادغی» share «سدق»; «احمدی» gives «اهمد».
pub fn skeleton(name: &NameKey) -> String {
    let mut out = String::with_capacity(name.joined.len());
    let mut last = None;
    for (i, c) in name.chars.iter().copied().enumerate() {
        let c = sound_fold(c);
        let c = if i == 0 && matches!(c, 'ع' | 'ء' | 'أ') {
            'ا'
        } else {
            c
        };
        if i > 0 && is_skeleton_vowel(c) {
            continue;
        }
        if last == Some(c) {
            continue;
        }
        out.push(c);
        last = Some(c);
    }
    out
}

/// The digits of a text in Latin form, everything else dropped.
fn digits_of(raw: &str) -> String {
    raw.chars()
        .filter_map(digit_value)
        .filter_map(|d| char::from_digit(d, 10))
        .collect()
}

/// A phone number's match key: its last ten digits, so `+98 912 123 4567`, `0912…`, `912…` and
/// `0098912…` are one number. Fewer than ten digits (a local landline without its area code) or a
/// number that is plainly a placeholder (ten equal digits, or seven or more zeros) gives none:
/// it proves nothing.
pub fn phone_key(raw: &str) -> Option<String> {
    let digits = digits_of(raw);
    if digits.len() < 10 {
        return None;
    }
    let last = &digits[digits.len() - 10..];
    let first = last.as_bytes()[0];
    let zeros = last.bytes().filter(|b| *b == b'0').count();
    if last.bytes().all(|b| b == first) || zeros >= 7 {
        return None;
    }
    Some(last.to_string())
}

/// Check-digit-valid national IDs that are used as test or filler values («0123456789»,
/// «1234567891», «9876543210», and a few more that forms see typed to get past the field).
const TEST_NATIONAL_IDS: &[&str] = &[
    "0123456789",
    "1234567891",
    "9876543210",
    "0000000001",
    "1000000001",
    "0011111111",
    "1111111110",
];

/// Whether ten digits are a national ID that proves nothing: the middle six (the serial) all
/// zero, ten equal digits, a known test value, or only one or two distinct digits (`1212121212`,
/// `0100100100`: typed to fill the field).
pub fn is_placeholder_national_id(ten: &str) -> bool {
    let bytes = ten.as_bytes();
    if bytes.len() != 10 || !bytes.iter().all(u8::is_ascii_digit) {
        return true;
    }
    let mut distinct = bytes.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    bytes[3..9].iter().all(|b| *b == b'0')
        || distinct.len() <= 2
        || TEST_NATIONAL_IDS.contains(&ten)
}

/// A national ID's match key: its ten digits in Latin form (Persian digits, spaces and dashes
/// allowed), or none when it is not ten digits or is a placeholder.
pub fn national_id_key(raw: &str) -> Option<String> {
    let digits = digits_of(raw);
    let others = raw
        .chars()
        .any(|c| digit_value(c).is_none() && !matches!(c, ' ' | '-'));
    if others || digits.len() != 10 || is_placeholder_national_id(&digits) {
        return None;
    }
    Some(digits)
}

/// A district's match key: the match key with the spaces removed («منطقه ۱», «منطقه 1» and
/// «منطقه۱» are one district).
pub fn district_key(raw: &str) -> String {
    normalize_for_search(raw).replace(' ', "")
}

/// An address as compared: its distinctive words (street and alley names, numbers) in order,
/// without the words that only say what kind of place follows (see [`ADDRESS_WORDS`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct AddressKey {
    pub words: Vec<Vec<char>>,
}

impl AddressKey {
    pub fn new(raw: &str) -> Self {
        let normal = normalize_for_search(raw);
        let words = normal
            .split(' ')
            .filter(|w| !w.is_empty() && !ADDRESS_WORDS.contains(w))
            .map(|w| w.chars().collect())
            .collect();
        AddressKey { words }
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first(raw: &str) -> String {
        NameKey::new(raw, NameKind::First).joined
    }

    fn last(raw: &str) -> String {
        NameKey::new(raw, NameKind::Last).joined
    }

    #[test]
    fn arabic_letters_fold_to_persian() {
        assert_eq!(first("علي"), "علی");
        assert_eq!(first("على"), "علی");
        assert_eq!(last("كاظمي"), "کاظمی");
        assert_eq!(first("فاطمة"), "فاطمه");
        assert_eq!(last("ۀ"), "ه");
        assert_eq!(first("أحمد"), "احمد");
        assert_eq!(first("إسماعيل"), "اسماعیل");
        assert_eq!(first("ٱمین"), "امین");
        assert_eq!(first("آمنه"), "امنه");
        assert_eq!(last("مؤمنی"), "مومنی");
        assert_eq!(first("زھرا"), "زهرا");
    }

    #[test]
    fn diacritics_tatweel_joiners_and_bidi_marks_go() {
        assert_eq!(first("مُحَمَّد"), "محمد");
        assert_eq!(first("مـحـمـد"), "محمد");
        assert_eq!(first("محمد\u{200C}رضا"), "محمدرضا");
        assert_eq!(first("محمد\u{200D}رضا"), "محمدرضا");
        assert_eq!(first("\u{200F}علی\u{200E}"), "علی");
        assert_eq!(first("\u{202B}زهرا\u{202C}"), "زهرا");
    }

    #[test]
    fn compatibility_forms_and_digits_fold() {
        // «محمد» in Arabic presentation forms, and the ligature ﷲ.
        assert_eq!(first("\u{FEE3}\u{FEA4}\u{FEE4}\u{FEAA}"), "محمد");
        assert_eq!(first("عبدﷲ"), "عبدالله");
        assert_eq!(district_key("منطقه ۱۲"), "منطقه12");
        assert_eq!(district_key("منطقه ١٢"), "منطقه12");
    }

    #[test]
    fn compound_names_join_both_ways() {
        for (a, b) in [
            ("محمدعلی", "محمد علی"),
            ("محمدعلی", "محمد\u{200C}علی"),
            ("عبدالله", "عبد الله"),
            ("عبدالله", "عبد\u{200C}الله"),
        ] {
            assert_eq!(first(a), first(b), "{a} / {b}");
            assert_eq!(first(b), first(a), "{b} / {a}");
        }
        assert_eq!(last("میرزاده"), last("میر زاده"));
        assert_eq!(last("میر زاده"), last("میرزاده"));
        // The split form keeps its tokens for a token-by-token comparison.
        let split = NameKey::new("محمد علی", NameKind::First);
        assert_eq!(split.token_count(), 2);
        let tokens: Vec<String> = split.tokens().map(|t| t.iter().collect()).collect();
        assert_eq!(tokens, ["محمد", "علی"]);
    }

    #[test]
    fn titles_are_a_flag_not_a_part_of_the_name() {
        let key = NameKey::new("سید علی", NameKind::First);
        assert_eq!(key.joined, "علی");
        assert!(key.titled);
        assert_eq!(first("حاج آقا رضا"), "رضا");
        assert_eq!(first("میرزا حسن"), "حسن");
        assert_eq!(first("کربلایی قاسم"), "قاسم");
        assert!(!NameKey::new("علی", NameKind::First).titled);
        // A name that is only a title keeps it.
        assert_eq!(first("میرزا"), "میرزا");
        // «میرزا» in a surname is a part of it.
        assert_eq!(last("میرزا زاده"), "میرزازاده");
        assert_eq!(last("سید حسینی"), "حسینی");
        // Every title is written in its normalised form, or it would never be recognised.
        for title in TITLES.iter().chain(SURNAME_TITLES) {
            assert_eq!(&normalize_for_search(title), title);
        }
    }

    #[test]
    fn skeletons_fold_sounds_and_drop_vowels() {
        let sk = |raw: &str| skeleton(&NameKey::new(raw, NameKind::Last));
        assert_eq!(sk("صادقی"), sk("سادغی"));
        assert_eq!(sk("ثابتی"), sk("سابطی"));
        assert_eq!(sk("ذاکری"), sk("زاکری"));
        assert_eq!(sk("ضیایی"), sk("ظیائی"));
        assert_eq!(sk("حسینی"), sk("هسینی"));
        assert_eq!(sk("عباسی"), sk("اباسی"));
        assert_eq!(sk("رضایی"), sk("رضائی"));
        assert_eq!(sk("میر زاده"), sk("میرزاده"));
        assert_eq!(sk("نیک‌نام"), sk("نیکنام"));
        assert_eq!(sk("مکی"), sk("مککی"));
        assert_eq!(sk("احمدی"), "اهمد");
        assert_ne!(sk("احمدی"), sk("محمدی"));
        assert_ne!(sk("حسینی"), sk("حسین زاده"));
    }

    #[test]
    fn phones_compare_by_their_last_ten_digits() {
        let want = Some("9121234567".to_string());
        for raw in [
            "09121234567",
            "+989121234567",
            "+98 912 123 4567",
            "00989121234567",
            "9121234567",
            "۰۹۱۲۱۲۳۴۵۶۷",
            "0912-123-4567",
        ] {
            assert_eq!(phone_key(raw), want, "{raw}");
        }
        assert_eq!(phone_key("33445566"), None, "too short to compare");
        assert_eq!(phone_key("09120000000"), None, "placeholder");
        assert_eq!(phone_key("1111111111"), None, "placeholder");
        assert_eq!(phone_key(""), None);
    }

    #[test]
    fn placeholder_national_ids_prove_nothing() {
        // A zero serial: the middle six digits are never all zero on an issued ID.
        assert!(is_placeholder_national_id("0010000003"));
        assert!(is_placeholder_national_id("1111111111"));
        assert!(is_placeholder_national_id("0000000000"));
        assert!(is_placeholder_national_id("0123456789"));
        assert!(is_placeholder_national_id("1234567891"));
        assert!(is_placeholder_national_id("9876543210"));
        assert!(is_placeholder_national_id("1212121212"));
        assert!(is_placeholder_national_id("12345"));
        assert!(!is_placeholder_national_id("0499370899"));
        assert_eq!(national_id_key("0010000003"), None);
        assert_eq!(national_id_key("۰۴۹۹۳۷۰۸۹۹"), Some("0499370899".into()));
        assert_eq!(national_id_key("049-937089-9"), Some("0499370899".into()));
        assert_eq!(national_id_key("04993708990"), None);
        assert_eq!(national_id_key("0499x70899"), None);
    }

    #[test]
    fn addresses_keep_their_distinctive_words() {
        let a = AddressKey::new("خیابان امام، کوچه یاس، پلاک ۱۲");
        let b = AddressKey::new("خ امام - ک یاس پلاک 12");
        assert_eq!(a, b);
        assert_eq!(a.words.len(), 3);
        assert!(AddressKey::new("پلاک").is_empty());
    }
}
