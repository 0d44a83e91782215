//! Persian text: digits in any script, display with Persian digits, and the normalisation that
//! makes search treat ي/ی, ك/ک, ZWNJ, diacritics, compatibility forms, phone prefixes and
//! joined or split compound names as the same.

use icu_normalizer::ComposingNormalizerBorrowed;

const PERSIAN_DIGITS: [char; 10] = ['۰', '۱', '۲', '۳', '۴', '۵', '۶', '۷', '۸', '۹'];

/// The Latin digit for a Persian (۰–۹), Arabic-Indic (٠–٩) or Latin digit.
pub fn digit_value(c: char) -> Option<u32> {
    match c {
        '0'..='9' => c.to_digit(10),
        '\u{06F0}'..='\u{06F9}' => Some(c as u32 - 0x06F0),
        '\u{0660}'..='\u{0669}' => Some(c as u32 - 0x0660),
        _ => None,
    }
}

/// Replaces Persian and Arabic-Indic digits with Latin ones; everything else is kept.
pub fn latin_digits(input: &str) -> String {
    input
        .chars()
        .map(|c| match digit_value(c) {
            Some(d) => char::from_digit(d, 10).unwrap_or(c),
            None => c,
        })
        .collect()
}

/// Replaces every digit (Latin or Arabic-Indic) with its Persian form, for display.
pub fn persian_digits(input: &str) -> String {
    input
        .chars()
        .map(|c| match digit_value(c) {
            Some(d) => PERSIAN_DIGITS[d as usize],
            None => c,
        })
        .collect()
}

fn is_diacritic(c: char) -> bool {
    // Arabic harakat, tanwin, shadda, sukun, superscript alef, and Quranic marks.
    matches!(c, '\u{064B}'..='\u{065F}' | '\u{0670}' | '\u{06D6}'..='\u{06ED}')
}

/// Bidi formatting characters: LRM, RLM, the Arabic letter mark, embeddings, overrides and
/// isolates. Text copied from right-to-left documents and web pages carries them invisibly.
pub fn is_bidi_mark(c: char) -> bool {
    matches!(
        c,
        '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

fn is_invisible_joiner(c: char) -> bool {
    // ZWNJ, ZWJ, the Arabic tatweel, the BOM and bidi marks: none changes what a word says.
    matches!(c, '\u{200C}' | '\u{200D}' | '\u{0640}' | '\u{FEFF}') || is_bidi_mark(c)
}

/// One letter for the variants keyboards, old code pages and other languages' letters type.
fn fold_letter(c: char) -> char {
    match c {
        'ي' | 'ى' | 'ئ' => 'ی',
        'ك' => 'ک',
        // ھ (heh doachashmee) is what old Persian keyboards typed for ه; ہ and ۂ are Urdu forms.
        'ة' | 'ۀ' | 'ە' | 'ھ' | 'ہ' | 'ۂ' => 'ه',
        'أ' | 'إ' | 'آ' | 'ٱ' => 'ا',
        'ؤ' => 'و',
        _ => match digit_value(c) {
            Some(d) => char::from_digit(d, 10).unwrap_or(c),
            None => c,
        },
    }
}

/// The search form of a text: compatibility forms folded (NFKC: Arabic presentation forms
/// pasted from PDFs, the ligature ﷲ), one spelling for letters that Arabic and Persian keyboards
/// type differently, no diacritics or zero-width joiners, Latin digits, lower case, single
/// spaces, and Iranian phone numbers in their domestic form (`+98 912…` and `0098912…` become
/// `0912…`).
///
/// Used for both the index and the query, so "علي" finds "علی" and "محمد‌رضا" (with ZWNJ) finds
/// "محمدرضا".
pub fn normalize_for_search(input: &str) -> String {
    // NFKC first, so that what it unfolds (a ligature into letters, a presentation form into
    // its letter, a spacing diacritic into a space and a mark) goes through the folding below.
    // It leaves ZWNJ and Persian digits as they are.
    let folded = ComposingNormalizerBorrowed::new_nfkc().normalize(input);
    let mut out = String::with_capacity(folded.len());
    let mut pending_space = false;
    for c in folded.chars() {
        if is_diacritic(c) || is_invisible_joiner(c) {
            continue;
        }
        let c = fold_letter(c);
        if c.is_whitespace() || matches!(c, '،' | '؛' | ',' | ';' | '-' | '_' | '/' | '.') {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.extend(c.to_lowercase());
    }
    if out.contains("98") {
        out = out
            .split(' ')
            .map(domestic_phone)
            .collect::<Vec<_>>()
            .join(" ");
    }
    out
}

/// `09121234567` for `+989121234567`, `00989121234567` or `+9809121234567`; any other word as
/// it is.
fn domestic_phone(word: &str) -> std::borrow::Cow<'_, str> {
    let rest = word
        .strip_prefix("+98")
        .or_else(|| word.strip_prefix("0098"));
    match rest {
        Some(rest) if !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()) => {
            format!("0{}", rest.strip_prefix('0').unwrap_or(rest)).into()
        }
        _ => word.into(),
    }
}

/// A search query made ready for [`normalize_for_search`]: a number typed in groups
/// (`+98 912 123 4567`, `0912-123-4567`, `049 937 0899`) becomes one word, so it is looked up as
/// one number rather than as separate pieces. It counts as a number when it has only digits and
/// separators, and either starts with `+` or `00` (an international phone number) or has at
/// least seven digits (a phone or national ID; a district or house number is shorter).
pub fn join_number_groups(query: &str) -> String {
    let trimmed: String = query.trim().chars().filter(|c| !is_bidi_mark(*c)).collect();
    let digits = trimmed
        .chars()
        .filter(|c| digit_value(*c).is_some())
        .count();
    let body = trimmed.strip_prefix('+').unwrap_or(&trimmed);
    let only_number = digits > 0
        && body.chars().all(|c| {
            digit_value(c).is_some() || c.is_whitespace() || matches!(c, '-' | '.' | '(' | ')')
        });
    let international = trimmed.starts_with('+') || latin_digits(&trimmed).starts_with("00");
    if only_number && (international || digits >= 7) {
        trimmed
            .chars()
            .filter(|c| *c == '+' || digit_value(*c).is_some())
            .collect()
    } else {
        query.to_string()
    }
}

/// The ways a search word typed joined may have been registered split: the word with one space
/// at each inner position that leaves at least two letters on each side. «محمدعلی» gives
/// «محمد علی» (among others), so a name registered as «محمد علی» is found when typed joined; the
/// other way round needs nothing, since each part of a split query is found inside the joined
/// name. Words with digits give none: numbers are not compound names.
pub fn split_spellings(word: &str) -> Vec<String> {
    let chars: Vec<char> = word.chars().collect();
    if chars.len() < 4 || chars.iter().any(|c| !c.is_alphabetic()) {
        return Vec::new();
    }
    (2..=chars.len() - 2)
        .map(|i| {
            let (left, right) = chars.split_at(i);
            format!(
                "{} {}",
                left.iter().collect::<String>(),
                right.iter().collect::<String>()
            )
        })
        .collect()
}

/// Trims a typed value and collapses inner runs of whitespace; keeps ZWNJ (it is part of the
/// correct Persian spelling) and normalises Arabic ي/ك to Persian ی/ک, which is what a Persian
/// keyboard should have produced.
pub fn clean_input(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    for word in input.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.chars().map(|c| match c {
            'ي' | 'ى' => 'ی',
            'ك' => 'ک',
            _ => c,
        }));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_in_any_script_become_latin() {
        assert_eq!(latin_digits("۱۴۰۳-٠٨-15"), "1403-08-15");
    }

    #[test]
    fn display_uses_persian_digits() {
        assert_eq!(persian_digits("1403/08/15"), "۱۴۰۳/۰۸/۱۵");
        assert_eq!(persian_digits("٤٥"), "۴۵");
    }

    #[test]
    fn arabic_yeh_and_kaf_match_persian() {
        assert_eq!(
            normalize_for_search("علي كريمي"),
            normalize_for_search("علی کریمی")
        );
        assert_eq!(normalize_for_search("علي"), "علی");
    }

    #[test]
    fn zwnj_diacritics_and_tatweel_are_ignored() {
        assert_eq!(normalize_for_search("محمد\u{200C}رضا"), "محمدرضا");
        assert_eq!(normalize_for_search("مُحَمَّد"), "محمد");
        assert_eq!(normalize_for_search("مـحـمد"), "محمد");
    }

    #[test]
    fn spaces_and_punctuation_collapse() {
        assert_eq!(
            normalize_for_search("  Ali   REZAEI،  تهران "),
            "ali rezaei تهران"
        );
    }

    #[test]
    fn old_keyboard_heh_and_urdu_forms_are_heh() {
        assert_eq!(normalize_for_search("زھرا"), normalize_for_search("زهرا"));
        assert_eq!(normalize_for_search("ہاشمی"), "هاشمی");
    }

    #[test]
    fn compatibility_forms_fold_to_letters() {
        // The ligature ﷲ (U+FDF2) is the word الله.
        assert_eq!(
            normalize_for_search("عبدﷲ"),
            normalize_for_search("عبدالله")
        );
        // «محمد» in Arabic presentation forms, as a PDF gives it when copied.
        assert_eq!(
            normalize_for_search("\u{FEE3}\u{FEA4}\u{FEE4}\u{FEAA}"),
            "محمد"
        );
        // Lam-alef ligature and presentation forms of Persian keheh and yeh.
        assert_eq!(normalize_for_search("\u{FEFB}\u{FB8F}\u{FBFD}"), "لاکی");
    }

    #[test]
    fn compatibility_folding_keeps_zwnj_handling_and_persian_digits() {
        assert_eq!(normalize_for_search("نعمت\u{200C}آباد ۱۲"), "نعمتاباد 12");
        assert_eq!(normalize_for_search("٤٥"), "45");
        assert_eq!(persian_digits(&normalize_for_search("۰۹۱۲")), "۰۹۱۲");
    }

    #[test]
    fn phone_numbers_take_the_domestic_form() {
        assert_eq!(normalize_for_search("+989121234567"), "09121234567");
        assert_eq!(normalize_for_search("00989121234567"), "09121234567");
        assert_eq!(normalize_for_search("+9809121234567"), "09121234567");
        assert_eq!(normalize_for_search("۰۰۹۸۹۱۲۱۲۳۴۵۶۷"), "09121234567");
        assert_eq!(normalize_for_search("09121234567"), "09121234567");
        // Not phone numbers: left alone.
        assert_eq!(normalize_for_search("پلاک 98"), "پلاک 98");
        assert_eq!(normalize_for_search("+98"), "+98");
    }

    #[test]
    fn numbers_typed_in_groups_are_one_word() {
        let phone = normalize_for_search(&join_number_groups("+98 912 123 4567"));
        assert_eq!(phone, "09121234567");
        assert_eq!(join_number_groups("۰۹۱۲-۱۲۳-۴۵۶۷"), "۰۹۱۲۱۲۳۴۵۶۷");
        assert_eq!(join_number_groups("0098 (912) 123 4567"), "00989121234567");
        assert_eq!(join_number_groups(" 049 937 0899 "), "0499370899");
        // Short numbers and words keep their spaces.
        assert_eq!(join_number_groups("3 4"), "3 4");
        assert_eq!(join_number_groups("علی 0912 123 4567"), "علی 0912 123 4567");
    }

    #[test]
    fn split_spellings_put_one_space_between_two_letter_parts() {
        let splits = split_spellings("محمدعلی");
        assert!(splits.contains(&"محمد علی".to_string()), "{splits:?}");
        assert_eq!(splits.len(), 4, "{splits:?}");
        assert!(
            splits
                .iter()
                .all(|s| s.split(' ').all(|p| p.chars().count() >= 2))
        );
        assert_eq!(split_spellings("علی"), Vec::<String>::new());
        assert_eq!(split_spellings("09121234567"), Vec::<String>::new());
    }

    #[test]
    fn clean_input_keeps_zwnj_but_fixes_arabic_letters() {
        assert_eq!(clean_input("  مي\u{200C}روم   كار "), "می\u{200C}روم کار");
    }
}
