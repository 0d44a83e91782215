//! Dates: parse what a worker types (Jalali or ISO, any digits) and show Solar Hijri dates.
//!
//! Dates are stored as ISO `NaiveDate`s; the Jalali calendar is only for input and display.
//! Conversion is ICU4X's Persian calendar, not hand-written arithmetic.

use chrono::{Datelike, NaiveDate};
use icu_calendar::{Date, Iso, cal::Persian};

use crate::error::ValidationError;
use crate::field::Field;
use crate::text::{latin_digits, persian_digits};

/// Years from this one on are read as Gregorian; below it, as Solar Hijri. Jalali 1700 is
/// Gregorian 2321, and Gregorian 1700 is long before any record we keep.
const FIRST_GREGORIAN_YEAR: i32 = 1700;
const FIRST_JALALI_YEAR: i32 = 1200;

/// A Jalali (Solar Hijri) calendar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JalaliDate {
    pub year: i32,
    pub month: u8,
    pub day: u8,
}

/// Converts a Gregorian date to Jalali.
pub fn to_jalali(date: NaiveDate) -> JalaliDate {
    // chrono's NaiveDate always holds a valid ISO date, which ICU accepts for every year we use.
    match Date::try_new_iso(date.year(), date.month() as u8, date.day() as u8) {
        Ok(iso) => {
            let p = iso.to_calendar(Persian);
            JalaliDate {
                year: p.year().extended_year(),
                month: p.month().ordinal,
                day: p.day_of_month().0,
            }
        }
        Err(_) => JalaliDate {
            year: 0,
            month: 1,
            day: 1,
        },
    }
}

/// Converts a Jalali date to Gregorian; `None` when no such day exists (month 13, 1403-12-31, …).
pub fn from_jalali(year: i32, month: u8, day: u8) -> Option<NaiveDate> {
    let p = Date::try_new_persian(year, month, day).ok()?;
    if p.year().extended_year() != year || p.month().ordinal != month || p.day_of_month().0 != day {
        return None;
    }
    let iso = p.to_calendar(Iso);
    NaiveDate::from_ymd_opt(
        iso.year().extended_year(),
        u32::from(iso.month().ordinal),
        u32::from(iso.day_of_month().0),
    )
}

/// Parses a date typed in the Jalali calendar (`1403-08-15`, `۱۴۰۳/۸/۱۵`) or in ISO form
/// (`2024-11-05`). The calendar is told apart by the year.
pub fn parse_date(field: Field, input: &str) -> Result<NaiveDate, ValidationError> {
    let bad = || ValidationError::Date {
        field,
        input: input.to_string(),
    };
    let latin = latin_digits(input.trim());
    let parts: Vec<&str> = latin.split(['-', '/', '.']).collect();
    if parts.len() != 3 || parts.iter().any(|p| p.is_empty() || p.len() > 4) {
        return Err(bad());
    }
    let year: i32 = parts[0].parse().map_err(|_| bad())?;
    let month: u8 = parts[1].parse().map_err(|_| bad())?;
    let day: u8 = parts[2].parse().map_err(|_| bad())?;
    let no_such_day = |calendar| ValidationError::NoSuchDay {
        field,
        input: input.to_string(),
        calendar,
    };
    if year >= FIRST_GREGORIAN_YEAR {
        NaiveDate::from_ymd_opt(year, u32::from(month), u32::from(day))
            .ok_or_else(|| no_such_day("Gregorian"))
    } else if year >= FIRST_JALALI_YEAR {
        from_jalali(year, month, day).ok_or_else(|| no_such_day("Jalali"))
    } else {
        Err(bad())
    }
}

/// How dates are stored in documents and sent on the wire: ISO `YYYY-MM-DD`.
pub const ISO_DATE: &str = "%Y-%m-%d";

/// A date in its stored form, `2024-11-05`.
pub fn iso_date(date: NaiveDate) -> String {
    date.format(ISO_DATE).to_string()
}

/// Reads a date in its stored form; anything else is refused (stored dates are never Jalali).
pub fn parse_iso_date(field: Field, input: &str) -> Result<NaiveDate, ValidationError> {
    NaiveDate::parse_from_str(input, ISO_DATE).map_err(|_| ValidationError::Date {
        field,
        input: input.to_string(),
    })
}

/// `1403-08-15` in Latin digits: the Jalali form used in JSON output and the CLI.
pub fn format_jalali(date: NaiveDate) -> String {
    let j = to_jalali(date);
    format!("{:04}-{:02}-{:02}", j.year, j.month, j.day)
}

/// `۱۴۰۳/۰۸/۱۵`: the Jalali form shown to people.
pub fn format_date(date: NaiveDate) -> String {
    let j = to_jalali(date);
    persian_digits(&format!("{:04}/{:02}/{:02}", j.year, j.month, j.day))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid test date")
    }

    #[test]
    fn nowruz_dates_convert_both_ways() {
        // Nowruz (1 Farvardin) of known years.
        for (g, j) in [
            (d(2024, 3, 20), (1403, 1, 1)),
            (d(2025, 3, 21), (1404, 1, 1)),
            (d(2023, 3, 21), (1402, 1, 1)),
            (d(1979, 3, 21), (1358, 1, 1)),
        ] {
            assert_eq!(
                to_jalali(g),
                JalaliDate {
                    year: j.0,
                    month: j.1,
                    day: j.2
                }
            );
            assert_eq!(from_jalali(j.0, j.1, j.2), Some(g));
        }
    }

    #[test]
    fn known_date_pairs() {
        assert_eq!(from_jalali(1403, 8, 15), Some(d(2024, 11, 5)));
        assert_eq!(from_jalali(1357, 11, 22), Some(d(1979, 2, 11)));
        assert_eq!(from_jalali(1399, 10, 11), Some(d(2020, 12, 31)));
        assert_eq!(
            to_jalali(d(2026, 11, 23)),
            JalaliDate {
                year: 1405,
                month: 9,
                day: 2
            }
        );
    }

    #[test]
    fn leap_years_have_a_thirtieth_of_esfand() {
        // 1403 is a leap year in the Solar Hijri calendar; 1402 and 1404 are not.
        assert_eq!(from_jalali(1403, 12, 30), Some(d(2025, 3, 20)));
        assert_eq!(from_jalali(1399, 12, 30), Some(d(2021, 3, 20)));
        assert_eq!(from_jalali(1402, 12, 30), None);
        assert_eq!(from_jalali(1404, 12, 30), None);
        assert_eq!(from_jalali(1403, 13, 1), None);
        assert_eq!(
            from_jalali(1403, 7, 31),
            None,
            "months 7–12 have at most 30 days"
        );
        assert_eq!(from_jalali(1403, 6, 31), Some(d(2024, 9, 21)));
    }

    #[test]
    fn parse_accepts_jalali_and_iso_in_any_digits() {
        assert_eq!(parse_date(Field::Date, "1403-08-15"), Ok(d(2024, 11, 5)));
        assert_eq!(parse_date(Field::Date, "۱۴۰۳/۸/۱۵"), Ok(d(2024, 11, 5)));
        assert_eq!(parse_date(Field::Date, "٢٠٢٤-١١-٠٥"), Ok(d(2024, 11, 5)));
        assert_eq!(parse_date(Field::Date, "2024-11-05"), Ok(d(2024, 11, 5)));
    }

    #[test]
    fn parse_refuses_nonsense_with_the_field_name() {
        for bad in [
            "",
            "yesterday",
            "1403-08",
            "1403-08-15-1",
            "0999-01-01",
            "1403--1",
        ] {
            let err = parse_date(Field::VisitDate, bad).unwrap_err();
            assert!(err.to_string().starts_with("visit date"), "{err}");
        }
        assert!(matches!(
            parse_date(Field::Date, "1402-12-30"),
            Err(ValidationError::NoSuchDay {
                calendar: "Jalali",
                ..
            })
        ));
        assert!(matches!(
            parse_date(Field::Date, "2023-02-29"),
            Err(ValidationError::NoSuchDay {
                calendar: "Gregorian",
                ..
            })
        ));
    }

    #[test]
    fn display_is_jalali_with_persian_digits() {
        assert_eq!(format_date(d(2024, 11, 5)), "۱۴۰۳/۰۸/۱۵");
        assert_eq!(format_jalali(d(2024, 11, 5)), "1403-08-15");
    }
}
