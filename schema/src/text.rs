//! Persian text: digits in any script, display with Persian digits, and the normalisation that
//! makes search treat ي/ی, ك/ک, ZWNJ and diacritics as the same.

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

fn is_invisible_joiner(c: char) -> bool {
    // ZWNJ, ZWJ, LRM/RLM, the Arabic tatweel and bidi marks: none changes what a word says.
    matches!(
        c,
        '\u{200C}' | '\u{200D}' | '\u{200E}' | '\u{200F}' | '\u{0640}' | '\u{061C}' | '\u{FEFF}'
    )
}

/// The search form of a text: one spelling for letters that Arabic and Persian keyboards type
/// differently, no diacritics or zero-width joiners, Latin digits, lower case, single spaces.
///
/// Used for both the index and the query, so "علي" finds "علی" and "محمد‌رضا" (with ZWNJ) finds
/// "محمدرضا".
pub fn normalize_for_search(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    let mut pending_space = false;
    for c in input.chars() {
        if is_diacritic(c) || is_invisible_joiner(c) {
            continue;
        }
        let c = match c {
            'ي' | 'ى' | 'ئ' => 'ی',
            'ك' => 'ک',
            'ة' | 'ۀ' | 'ە' => 'ه',
            'أ' | 'إ' | 'آ' | 'ٱ' => 'ا',
            'ؤ' => 'و',
            _ => match digit_value(c) {
                Some(d) => char::from_digit(d, 10).unwrap_or(c),
                None => c,
            },
        };
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
    out
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
    fn clean_input_keeps_zwnj_but_fixes_arabic_letters() {
        assert_eq!(clean_input("  مي\u{200C}روم   كار "), "می\u{200C}روم کار");
    }
}
