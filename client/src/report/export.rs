//! Turns a report's [`Table`] into files and terminal text: CSV (UTF-8 with a BOM, for Excel),
//! XLSX (right-to-left sheets, numbers as numbers, dates as Jalali text plus a real ISO date) and
//! an aligned plain-text table for the CLI.
//!
//! The column's kind decides the layout (a date column is always two columns in CSV and XLSX, so
//! every row has the same shape); each cell is written by its own kind, so a cell that does not
//! match its column is still written as what it is rather than dropped.

use chrono::{Datelike, Local, NaiveDate, NaiveDateTime};
use madadkar_schema::date::{format_jalali, format_jalali_date_time, iso_date};
use rust_xlsxwriter::{ExcelDateTime, Format, FormatAlign, Workbook, Worksheet, XlsxError};

use super::table::{Cell, Column, ColumnKind, Table};

/// Why a table could not be written as XLSX. The messages name rows and column keys, never a
/// cell's text (which may be a household's notes).
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("row {row} has {cells} cells but the table has {columns} columns")]
    RowWidth {
        row: usize,
        cells: usize,
        columns: usize,
    },
    #[error("{rows} rows do not fit in one spreadsheet (at most {max} below the header)")]
    TooManyRows { rows: usize, max: usize },
    #[error(
        "{columns} columns do not fit in one spreadsheet (at most {max}, date columns count twice)"
    )]
    TooManyColumns { columns: usize, max: usize },
    #[error("row {row}, column `{column}`: {value} is not a number a spreadsheet can hold")]
    NotFinite {
        row: usize,
        column: String,
        value: f64,
    },
    #[error("row {row}, column `{column}`: {value} is too large for a spreadsheet to hold exactly")]
    NumberTooLarge {
        row: usize,
        column: String,
        value: i64,
    },
    #[error(
        "row {row}, column `{column}`: a text of {length} characters is longer than a spreadsheet cell holds ({max})"
    )]
    TextTooLong {
        row: usize,
        column: String,
        length: usize,
        max: usize,
    },
    /// Anything else rust_xlsxwriter refused, as its message.
    #[error("writing the XLSX file: {0}")]
    Xlsx(String),
}

impl From<XlsxError> for ExportError {
    fn from(e: XlsxError) -> Self {
        ExportError::Xlsx(e.to_string())
    }
}

/// The suffix of the ISO column a date column gets beside its Jalali text.
const ISO_SUFFIX: &str = " (ISO)";
/// The suffix of a percentage column's CSV header (the CSV holds 12.5, not 12.5%).
const PERCENT_SUFFIX: &str = " (٪)";
/// The second sheet of an XLSX export: what the report is and how it was run.
const ABOUT_SHEET: &str = "گزارش";
/// The first sheet's name when the title leaves nothing Excel accepts.
const DATA_SHEET_FALLBACK: &str = "داده‌ها";

/// Excel's limits (rows include the header row).
const XLSX_MAX_ROWS: usize = 1_048_576;
const XLSX_MAX_COLUMNS: usize = 16_384;
const XLSX_MAX_TEXT: usize = 32_767;
const XLSX_MAX_SHEET_NAME: usize = 31;
/// The largest whole number an f64 (so a spreadsheet cell) holds exactly.
const MAX_EXACT_INTEGER: i64 = 1 << 53;

// ---------------------------------------------------------------------------------------------
// CSV

/// The table as CSV: UTF-8 with a BOM (without it Excel reads the Persian as mojibake), RFC 4180
/// quoting, CRLF line ends, the Persian headers. A date column becomes the Jalali date as text
/// (`1403-08-15`, sortable) and an ISO date column; money and counts are plain integers,
/// decimals have up to 2 places, percentages are 0–100 with up to 1 place. Text that a
/// spreadsheet would run as a formula gets a leading `'`.
pub fn to_csv(table: &Table) -> Vec<u8> {
    let mut out = String::with_capacity(64 + table.rows.len() * table.columns.len() * 12);
    out.push('\u{FEFF}');

    let mut header = Vec::new();
    for column in &table.columns {
        match column.kind {
            ColumnKind::Date => {
                header.push(column.fa.clone());
                header.push(format!("{}{ISO_SUFFIX}", column.fa));
            }
            ColumnKind::Percent => header.push(format!("{}{PERCENT_SUFFIX}", column.fa)),
            _ => header.push(column.fa.clone()),
        }
    }
    push_csv_record(&mut out, header.iter().map(String::as_str));

    let mut fields: Vec<String> = Vec::new();
    for row in &table.rows {
        fields.clear();
        for (i, cell) in row.iter().enumerate() {
            let date_column = table.columns.get(i).map(|c| c.kind) == Some(ColumnKind::Date);
            if date_column {
                // Always two fields, so every record lines up with the header.
                match cell {
                    Cell::Date(d) => {
                        fields.push(format_jalali(*d));
                        fields.push(iso_date(*d));
                    }
                    other => {
                        fields.push(csv_value(other));
                        fields.push(String::new());
                    }
                }
            } else {
                fields.push(csv_value(cell));
            }
        }
        push_csv_record(&mut out, fields.iter().map(String::as_str));
    }
    out.into_bytes()
}

/// One cell's CSV text, before quoting.
fn csv_value(cell: &Cell) -> String {
    match cell {
        Cell::Empty => String::new(),
        Cell::Text(s) => guard_formula(s),
        Cell::Int(n) | Cell::Money(n) => n.to_string(),
        Cell::Decimal(x) => trimmed_decimal(*x, 2),
        Cell::Percent(x) => trimmed_decimal(*x * 100.0, 1),
        Cell::Date(d) => format_jalali(*d),
    }
}

/// A text that a spreadsheet would take for a formula (`=HYPERLINK(…)`, `+1`, `-2`, `@SUM`, or one
/// hidden behind a leading tab or CR) gets a leading `'`, so it is shown as typed and never run.
fn guard_formula(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

fn push_csv_record<'a>(out: &mut String, fields: impl Iterator<Item = &'a str>) {
    for (i, field) in fields.enumerate() {
        if i > 0 {
            out.push(',');
        }
        if field.contains([',', '"', '\n', '\r']) {
            out.push('"');
            out.push_str(&field.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(field);
        }
    }
    out.push_str("\r\n");
}

/// `x` with at most `places` decimals and no trailing zeros (`2.50` → `2.5`, `3.00` → `3`).
/// A value that is not finite is written as Rust spells it (`NaN`, `inf`): visible, not blank.
fn trimmed_decimal(x: f64, places: usize) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    let mut s = format!("{x:.places$}");
    if s.contains('.') {
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
    }
    // -0.001 rounds to "-0", which is just 0.
    if s == "-0" {
        s = "0".to_string();
    }
    s
}

// ---------------------------------------------------------------------------------------------
// XLSX

/// The table as an XLSX workbook, stamped with the current local time. See [`to_xlsx_at`].
pub fn to_xlsx(table: &Table) -> Result<Vec<u8>, ExportError> {
    to_xlsx_at(table, Local::now().naive_local())
}

/// The table as an XLSX workbook. The first sheet (named after the Persian title) is
/// right-to-left with a bold, frozen header row of the Persian headers and an autofilter; numbers
/// are numbers (money `#,##0`, decimals `0.00`, percentages real fractions shown `0.0%`), a date
/// column is the Jalali date as text plus a real Excel date shown `yyyy-mm-dd`, empty cells are
/// blank. The second sheet, `گزارش`, holds the title, the filters, `generated` and the row count.
pub fn to_xlsx_at(table: &Table, generated: NaiveDateTime) -> Result<Vec<u8>, ExportError> {
    let layout = Layout::of(table);
    check_xlsx(table, &layout)?;

    let mut workbook = Workbook::new();
    workbook.push_worksheet(data_sheet(table, &layout)?);
    workbook.push_worksheet(about_sheet(table, generated)?);
    Ok(workbook.save_to_buffer()?)
}

/// Where each of the table's columns lands in the sheet: a date column takes two.
struct Layout {
    /// The first sheet column of each table column.
    first: Vec<u16>,
    /// The sheet's column count.
    width: usize,
}

impl Layout {
    fn of(table: &Table) -> Self {
        let mut first = Vec::with_capacity(table.columns.len());
        let mut width = 0usize;
        for column in &table.columns {
            // Saturates only past Excel's limit, which check_xlsx refuses before any use.
            first.push(u16::try_from(width).unwrap_or(u16::MAX));
            width += if column.kind == ColumnKind::Date {
                2
            } else {
                1
            };
        }
        Self { first, width }
    }
}

/// Refuses, with the row and column, what a sheet cannot hold, before anything is written.
fn check_xlsx(table: &Table, layout: &Layout) -> Result<(), ExportError> {
    if table.rows.len() >= XLSX_MAX_ROWS {
        return Err(ExportError::TooManyRows {
            rows: table.rows.len(),
            max: XLSX_MAX_ROWS - 1,
        });
    }
    if layout.width > XLSX_MAX_COLUMNS {
        return Err(ExportError::TooManyColumns {
            columns: layout.width,
            max: XLSX_MAX_COLUMNS,
        });
    }
    for (r, row) in table.rows.iter().enumerate() {
        // Rows are numbered as in the sheet (the header is row 1).
        let row_number = r + 2;
        if row.len() != table.columns.len() {
            return Err(ExportError::RowWidth {
                row: row_number,
                cells: row.len(),
                columns: table.columns.len(),
            });
        }
        for (cell, column) in row.iter().zip(&table.columns) {
            match cell {
                Cell::Int(n) | Cell::Money(n) if n.unsigned_abs() > MAX_EXACT_INTEGER as u64 => {
                    return Err(ExportError::NumberTooLarge {
                        row: row_number,
                        column: column.key.clone(),
                        value: *n,
                    });
                }
                Cell::Decimal(x) | Cell::Percent(x) if !x.is_finite() => {
                    return Err(ExportError::NotFinite {
                        row: row_number,
                        column: column.key.clone(),
                        value: *x,
                    });
                }
                Cell::Text(s) => {
                    let length = s.encode_utf16().count();
                    if length > XLSX_MAX_TEXT {
                        return Err(ExportError::TextTooLong {
                            row: row_number,
                            column: column.key.clone(),
                            length,
                            max: XLSX_MAX_TEXT,
                        });
                    }
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// The cell formats of the data sheet, made once.
struct Formats {
    header: Format,
    int: Format,
    money: Format,
    decimal: Format,
    percent: Format,
    date: Format,
}

impl Formats {
    fn new() -> Self {
        Self {
            header: Format::new().set_bold().set_align(FormatAlign::Center),
            int: Format::new().set_num_format("0"),
            money: Format::new().set_num_format("#,##0"),
            decimal: Format::new().set_num_format("0.00"),
            percent: Format::new().set_num_format("0.0%"),
            date: Format::new().set_num_format("yyyy-mm-dd"),
        }
    }
}

fn data_sheet(table: &Table, layout: &Layout) -> Result<Worksheet, ExportError> {
    let formats = Formats::new();
    let mut sheet = Worksheet::new();
    sheet.set_name(data_sheet_name(table))?;
    sheet.set_right_to_left(true);
    if layout.width == 0 {
        return Ok(sheet);
    }

    // Column widths in characters, grown as cells are written.
    let mut widths = vec![0usize; layout.width];
    for (column, &first) in table.columns.iter().zip(&layout.first) {
        let c = usize::from(first);
        sheet.write_string_with_format(0, first, &column.fa, &formats.header)?;
        widths[c] = display_width(&column.fa);
        if column.kind == ColumnKind::Date {
            let iso = format!("{}{ISO_SUFFIX}", column.fa);
            sheet.write_string_with_format(0, first + 1, &iso, &formats.header)?;
            widths[c + 1] = display_width(&iso);
        }
    }

    for (r, row) in table.rows.iter().enumerate() {
        // check_xlsx has bounded the row count below Excel's limit, which fits in u32.
        let sheet_row = u32::try_from(r + 1).map_err(|_| ExportError::TooManyRows {
            rows: table.rows.len(),
            max: XLSX_MAX_ROWS - 1,
        })?;
        for ((cell, column), &first) in row.iter().zip(&table.columns).zip(&layout.first) {
            let c = usize::from(first);
            let shown = write_xlsx_cell(&mut sheet, sheet_row, first, cell, &formats)?;
            widths[c] = widths[c].max(shown);
            // The ISO half of a date column; blank for an empty (or non-date) cell.
            if let (ColumnKind::Date, Cell::Date(d)) = (column.kind, cell) {
                let shown = write_xlsx_iso_date(&mut sheet, sheet_row, first + 1, *d, &formats)?;
                widths[c + 1] = widths[c + 1].max(shown);
            }
        }
    }

    for (c, width) in widths.iter().enumerate() {
        // Room for the filter button beside a header; long notes are cut off, not a 200-wide
        // column.
        let chars = (*width + 3).clamp(8, 60);
        let col = u16::try_from(c).unwrap_or(u16::MAX);
        sheet.set_column_width(col, chars as f64)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    let last_row = u32::try_from(table.rows.len()).unwrap_or(u32::MAX);
    let last_col = u16::try_from(layout.width - 1).unwrap_or(u16::MAX);
    sheet.autofilter(0, 0, last_row, last_col)?;
    Ok(sheet)
}

/// Writes one cell by its own kind; returns the width it shows at (for the column's width).
fn write_xlsx_cell(
    sheet: &mut Worksheet,
    row: u32,
    col: u16,
    cell: &Cell,
    formats: &Formats,
) -> Result<usize, ExportError> {
    Ok(match cell {
        Cell::Empty => 0,
        // A string cell is never evaluated, so no formula guard here (unlike CSV).
        Cell::Text(s) => {
            sheet.write_string(row, col, s)?;
            display_width(s)
        }
        // check_xlsx has refused magnitudes an f64 does not hold exactly.
        Cell::Int(n) => {
            sheet.write_number_with_format(row, col, *n as f64, &formats.int)?;
            n.to_string().len()
        }
        Cell::Money(n) => {
            sheet.write_number_with_format(row, col, *n as f64, &formats.money)?;
            grouped(*n).len()
        }
        Cell::Decimal(x) => {
            sheet.write_number_with_format(row, col, *x, &formats.decimal)?;
            format!("{x:.2}").len()
        }
        Cell::Percent(x) => {
            sheet.write_number_with_format(row, col, *x, &formats.percent)?;
            format!("{:.1}%", x * 100.0).len()
        }
        Cell::Date(d) => {
            let jalali = format_jalali(*d);
            sheet.write_string(row, col, &jalali)?;
            jalali.len()
        }
    })
}

/// The ISO half of a date column: a real Excel date, or the ISO text for a date Excel's calendar
/// does not reach (before 1900), so the value is never lost.
fn write_xlsx_iso_date(
    sheet: &mut Worksheet,
    row: u32,
    col: u16,
    date: NaiveDate,
    formats: &Formats,
) -> Result<usize, ExportError> {
    let excel = u16::try_from(date.year())
        .ok()
        .and_then(|y| ExcelDateTime::from_ymd(y, date.month() as u8, date.day() as u8).ok());
    match excel {
        Some(excel) => {
            sheet.write_datetime_with_format(row, col, &excel, &formats.date)?;
        }
        None => {
            sheet.write_string(row, col, iso_date(date))?;
        }
    }
    Ok(10)
}

/// The Persian title as a sheet name Excel accepts: without `[]:*?/\` (and control
/// characters), at most 31 characters, not starting or ending with `'`, and not the about
/// sheet's name.
fn data_sheet_name(table: &Table) -> String {
    let cleaned: String = table
        .title_fa
        .chars()
        .filter(|c| !matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\') && !c.is_control())
        .collect();
    let mut name = String::new();
    let mut units = 0;
    // Excel counts UTF-16 units; Persian letters are one, an emoji two.
    for c in cleaned.trim().chars() {
        units += c.len_utf16();
        if units > XLSX_MAX_SHEET_NAME {
            break;
        }
        name.push(c);
    }
    let name = name.trim().trim_matches('\'').trim().to_string();
    // Sheet names are unique regardless of case; Excel keeps `History` for itself.
    if name.is_empty()
        || name.to_lowercase() == ABOUT_SHEET.to_lowercase()
        || name.to_lowercase() == "history"
    {
        DATA_SHEET_FALLBACK.to_string()
    } else {
        name
    }
}

fn about_sheet(table: &Table, generated: NaiveDateTime) -> Result<Worksheet, ExportError> {
    let bold = Format::new().set_bold();
    let mut sheet = Worksheet::new();
    sheet.set_name(ABOUT_SHEET)?;
    sheet.set_right_to_left(true);

    // Three columns: the Persian label, the value, the English label.
    let mut rows: Vec<(String, String, String)> = vec![
        ("عنوان".into(), table.title_fa.clone(), "Title".into()),
        (
            "عنوان انگلیسی".into(),
            table.title_en.clone(),
            "Title (English)".into(),
        ),
        ("کد گزارش".into(), table.report.clone(), "Report".into()),
    ];
    if table.filters.is_empty() {
        rows.push(("فیلتر".into(), "بدون فیلتر".into(), "Filters: none".into()));
    }
    for filter in &table.filters {
        rows.push((filter.fa.clone(), filter.value.clone(), filter.en.clone()));
    }
    rows.push((
        "زمان تهیه".into(),
        format_jalali_date_time(generated),
        "Generated".into(),
    ));

    let mut widths = [0usize; 3];
    let mut r: u32 = 0;
    for (fa, value, en) in &rows {
        sheet.write_string_with_format(r, 0, fa, &bold)?;
        sheet.write_string(r, 1, value)?;
        sheet.write_string(r, 2, en)?;
        for (w, s) in widths.iter_mut().zip([fa, value, en]) {
            *w = (*w).max(display_width(s));
        }
        r += 1;
    }
    sheet.write_string_with_format(r, 0, "تعداد ردیف‌ها", &bold)?;
    sheet.write_number(r, 1, table.rows.len() as f64)?;
    sheet.write_string(r, 2, "Rows")?;

    for (c, w) in widths.iter().enumerate() {
        let col = u16::try_from(c).unwrap_or(u16::MAX);
        sheet.set_column_width(col, (*w + 2).clamp(10, 60) as f64)?;
    }
    Ok(sheet)
}

// ---------------------------------------------------------------------------------------------
// Plain text

/// The table as aligned plain text for a terminal: a header line (Persian, or English when
/// `english`), a rule, then the rows; every line ends in `\n` and nothing follows. Numbers are
/// right-aligned in Latin digits (money with thousands separators), dates Jalali (`1403-08-15`),
/// percentages `12.5%`, empty cells `-`. Control characters in text (newlines, escape sequences a
/// terminal would run) are shown as spaces or `�`.
pub fn to_text(table: &Table, english: bool) -> String {
    let width = table
        .rows
        .iter()
        .map(Vec::len)
        .max()
        .unwrap_or(0)
        .max(table.columns.len());

    let header: Vec<String> = (0..width)
        .map(|i| match table.columns.get(i) {
            Some(c) if english => terminal_safe(&c.en),
            Some(c) => terminal_safe(&c.fa),
            None => String::new(),
        })
        .collect();
    let body: Vec<Vec<String>> = table
        .rows
        .iter()
        .map(|row| row.iter().map(text_value).collect())
        .collect();

    let mut widths: Vec<usize> = header.iter().map(|h| display_width(h)).collect();
    for row in &body {
        for (w, s) in widths.iter_mut().zip(row) {
            *w = (*w).max(display_width(s));
        }
    }
    let right: Vec<bool> = (0..width)
        .map(|i| table.columns.get(i).is_some_and(is_numeric))
        .collect();

    let mut out = String::new();
    push_text_line(&mut out, &header, &widths, &right);
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    push_text_line(&mut out, &rule, &widths, &right);
    for row in &body {
        push_text_line(&mut out, row, &widths, &right);
    }
    out
}

fn is_numeric(column: &Column) -> bool {
    matches!(
        column.kind,
        ColumnKind::Int | ColumnKind::Money | ColumnKind::Decimal | ColumnKind::Percent
    )
}

fn text_value(cell: &Cell) -> String {
    match cell {
        Cell::Empty => "-".to_string(),
        Cell::Text(s) => terminal_safe(s),
        Cell::Int(n) => n.to_string(),
        Cell::Money(n) => grouped(*n),
        Cell::Decimal(x) => trimmed_decimal(*x, 2),
        Cell::Percent(x) => format!("{}%", trimmed_decimal(*x * 100.0, 1)),
        Cell::Date(d) => format_jalali(*d),
    }
}

fn push_text_line(out: &mut String, cells: &[String], widths: &[usize], right: &[bool]) {
    let mut line = String::new();
    for (i, (cell, width)) in cells.iter().zip(widths).enumerate() {
        if i > 0 {
            line.push_str("  ");
        }
        let pad = width.saturating_sub(display_width(cell));
        if right.get(i).copied().unwrap_or(false) {
            line.extend(std::iter::repeat_n(' ', pad));
            line.push_str(cell);
        } else {
            line.push_str(cell);
            line.extend(std::iter::repeat_n(' ', pad));
        }
    }
    out.push_str(line.trim_end_matches(' '));
    out.push('\n');
}

/// Text with its control characters made harmless for a terminal: whitespace ones (newline,
/// tab) become a space so the row stays on one line, the rest (ESC, which would start a terminal
/// escape sequence) become `�`.
fn terminal_safe(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\n' | '\r' | '\t' => ' ',
            c if c.is_control() => '\u{FFFD}',
            c => c,
        })
        .collect()
}

/// How many terminal cells a text takes: one a character, except the invisible ones — ZWNJ and
/// ZWJ (inside Persian words), bidi marks, and the Arabic-script vowel marks that sit on the
/// letter before them.
fn display_width(text: &str) -> usize {
    text.chars()
        .filter(|c| {
            !matches!(
                c,
                '\u{200B}'..='\u{200F}'
                    | '\u{061C}'
                    | '\u{202A}'..='\u{202E}'
                    | '\u{2066}'..='\u{2069}'
                    | '\u{FEFF}'
                    | '\u{064B}'..='\u{065F}'
                    | '\u{0670}'
            )
        })
        .count()
}

/// A whole number with `,` between thousands: `-1,234,567`.
fn grouped(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// File names

/// An export's file name: `<report>-<jalali date>.<extension>` (`referral-funnel-1403-08-15.xlsx`),
/// the stem holding only `[a-z0-9-]` so it is safe on every file system and in a shell.
pub fn file_name(table: &Table, extension: &str, today: NaiveDate) -> String {
    let mut report = String::new();
    for c in table.report.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            report.push(c);
        } else if !report.ends_with('-') {
            report.push('-');
        }
    }
    let report = report.trim_matches('-');
    let report = if report.is_empty() { "report" } else { report };
    let stem = format!("{report}-{}", format_jalali(today));
    let extension: String = extension
        .trim_start_matches('.')
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if extension.is_empty() {
        stem
    } else {
        format!("{stem}.{extension}")
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Cursor, Read};

    use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};

    use super::*;
    use crate::report::table::AppliedFilter;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("a real date")
    }

    /// Excel's serial number of a date (days since 1899-12-30, right for dates after 1900-02-28).
    fn serial(d: NaiveDate) -> f64 {
        (d - date(1899, 12, 30)).num_days() as f64
    }

    fn text(s: &str) -> Cell {
        Cell::Text(s.to_string())
    }

    /// Every column kind; text with an ASCII comma, a quote, a newline, formula-looking text, an
    /// empty cell in every kind of column, dates.
    fn sample() -> Table {
        Table {
            report: "referral-funnel".into(),
            title_fa: "قیف ارجاع‌ها: [استان]/۱۴۰۳".into(),
            title_en: "Referral funnel".into(),
            columns: vec![
                Column::new("household", "خانوار", "Household", ColumnKind::Text),
                Column::new("notes", "یادداشت", "Notes", ColumnKind::Text),
                Column::new("sent", "ارسال‌شده", "Sent", ColumnKind::Int),
                Column::new("amount", "مبلغ (ریال)", "Amount (rials)", ColumnKind::Money),
                Column::new("score", "میانگین نمره", "Mean score", ColumnKind::Decimal),
                Column::new("share", "سهم", "Share", ColumnKind::Percent),
                Column::new("since", "تاریخ ارسال", "Sent on", ColumnKind::Date),
            ],
            rows: vec![
                vec![
                    text("خانواده احمدی"),
                    text("دارو, اجاره، قبض"),
                    Cell::Int(3),
                    Cell::Money(12_500_000),
                    Cell::Decimal(2.456),
                    Cell::Percent(0.125),
                    Cell::Date(date(2024, 11, 5)),
                ],
                vec![
                    text("خانواده \"رضایی\""),
                    text("خط اول\r\nخط دوم"),
                    Cell::Int(0),
                    Cell::Money(-1_000),
                    Cell::Decimal(3.0),
                    Cell::Percent(1.0),
                    Cell::Empty,
                ],
                vec![
                    text("=HYPERLINK(\"http://x.invalid\",\"بزنید\")"),
                    text("-2+3"),
                    Cell::Empty,
                    Cell::Empty,
                    Cell::Empty,
                    Cell::Empty,
                    Cell::Date(date(2025, 3, 21)),
                ],
                vec![
                    text("@SUM(A1)"),
                    text("\tپنهان"),
                    Cell::Int(7),
                    Cell::Money(0),
                    Cell::Decimal(-0.001),
                    Cell::Percent(0.9999),
                    Cell::Date(date(2025, 3, 20)),
                ],
                vec![
                    text("+98 912"),
                    text("\r=1+1"),
                    Cell::Int(-4),
                    Cell::Money(1),
                    Cell::Decimal(10.1),
                    Cell::Percent(0.0),
                    Cell::Date(date(1999, 1, 1)),
                ],
            ],
            filters: vec![
                AppliedFilter {
                    fa: "شهرستان".into(),
                    en: "District".into(),
                    value: "ری".into(),
                },
                AppliedFilter {
                    fa: "از تاریخ".into(),
                    en: "From".into(),
                    value: "1404-01-01".into(),
                },
            ],
            chart: None,
        }
    }

    /// A strict RFC 4180 reader: CRLF record ends, `"` quoting with `""` escapes; a quote inside
    /// an unquoted field or a bare LF outside quotes fails the test.
    fn read_csv(bytes: &[u8]) -> Vec<Vec<String>> {
        let body = bytes
            .strip_prefix(b"\xEF\xBB\xBF")
            .expect("the CSV starts with a UTF-8 BOM");
        let body = std::str::from_utf8(body).expect("the CSV is UTF-8");
        let mut records = Vec::new();
        let mut record = Vec::new();
        let mut field = String::new();
        let mut chars = body.chars().peekable();
        let mut quoted = false;
        let mut field_started = false;
        while let Some(c) = chars.next() {
            if quoted {
                if c == '"' {
                    if chars.peek() == Some(&'"') {
                        chars.next();
                        field.push('"');
                    } else {
                        quoted = false;
                    }
                } else {
                    field.push(c);
                }
                continue;
            }
            match c {
                '"' => {
                    assert!(!field_started, "a quote inside an unquoted field");
                    quoted = true;
                    field_started = true;
                }
                ',' => {
                    record.push(std::mem::take(&mut field));
                    field_started = false;
                }
                '\r' => {
                    assert_eq!(chars.next(), Some('\n'), "a record ends in CRLF");
                    record.push(std::mem::take(&mut field));
                    records.push(std::mem::take(&mut record));
                    field_started = false;
                }
                '\n' => panic!("a bare LF outside quotes"),
                c => {
                    field.push(c);
                    field_started = true;
                }
            }
        }
        assert!(!quoted, "an unterminated quoted field");
        assert!(
            field.is_empty() && record.is_empty(),
            "the last record ends in CRLF"
        );
        records
    }

    #[test]
    fn csv_has_bom_persian_headers_two_date_columns_and_plain_numbers() {
        let bytes = to_csv(&sample());
        assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
        let records = read_csv(&bytes);
        assert_eq!(records.len(), 6);
        assert_eq!(
            records[0],
            [
                "خانوار",
                "یادداشت",
                "ارسال‌شده",
                "مبلغ (ریال)",
                "میانگین نمره",
                "سهم (٪)",
                "تاریخ ارسال",
                "تاریخ ارسال (ISO)"
            ]
        );
        assert_eq!(
            records[1],
            [
                "خانواده احمدی",
                "دارو, اجاره، قبض",
                "3",
                "12500000",
                "2.46",
                "12.5",
                "1403-08-15",
                "2024-11-05"
            ]
        );
        assert_eq!(
            records[2],
            [
                "خانواده \"رضایی\"",
                "خط اول\r\nخط دوم",
                "0",
                "-1000",
                "3",
                "100",
                "",
                ""
            ]
        );
        assert_eq!(
            records[3][2..],
            ["", "", "", "", "1404-01-01", "2025-03-21"]
        );
        assert_eq!(
            records[4][2..],
            ["7", "0", "0", "100", "1403-12-30", "2025-03-20"]
        );
        assert_eq!(
            records[5][2..],
            ["-4", "1", "10.1", "0", "1377-10-11", "1999-01-01"]
        );
        for record in &records {
            assert_eq!(record.len(), 8, "every record has the header's width");
        }
    }

    #[test]
    fn csv_guards_text_that_looks_like_a_formula_but_not_numbers() {
        let records = read_csv(&to_csv(&sample()));
        assert_eq!(records[3][0], "'=HYPERLINK(\"http://x.invalid\",\"بزنید\")");
        assert_eq!(records[3][1], "'-2+3");
        assert_eq!(records[4][0], "'@SUM(A1)");
        assert_eq!(records[4][1], "'\tپنهان");
        assert_eq!(records[5][0], "'+98 912");
        assert_eq!(records[5][1], "'\r=1+1");
        // Negative numbers are numbers, not formulas.
        assert_eq!(records[2][3], "-1000");
        assert_eq!(records[5][2], "-4");
        // Ordinary text is untouched.
        assert_eq!(records[1][0], "خانواده احمدی");
    }

    #[test]
    fn csv_quotes_only_what_needs_it_and_writes_non_finite_numbers_visibly() {
        let csv = String::from_utf8(to_csv(&sample())).expect("UTF-8");
        assert!(csv.contains("\r\n\"خانواده \"\"رضایی\"\"\",\"خط اول\r\nخط دوم\",0,"));
        assert!(csv.contains("\r\nخانواده احمدی,\"دارو, اجاره، قبض\",3,"));

        let mut table = sample();
        table.rows[0][4] = Cell::Decimal(f64::NAN);
        table.rows[0][5] = Cell::Percent(f64::INFINITY);
        let records = read_csv(&to_csv(&table));
        assert_eq!(records[1][4..6], ["NaN", "inf"]);
    }

    #[test]
    fn decimals_are_trimmed_and_never_negative_zero() {
        assert_eq!(trimmed_decimal(2.456, 2), "2.46");
        assert_eq!(trimmed_decimal(2.5, 2), "2.5");
        assert_eq!(trimmed_decimal(3.0, 2), "3");
        assert_eq!(trimmed_decimal(-0.001, 2), "0");
        assert_eq!(trimmed_decimal(-1.25, 1), "-1.2");
        assert_eq!(trimmed_decimal(120.0, 1), "120");
        assert_eq!(grouped(1_234_567), "1,234,567");
        assert_eq!(grouped(-1_000), "-1,000");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(i64::MIN), "-9,223,372,036,854,775,808");
    }

    fn open_xlsx(bytes: &[u8]) -> Xlsx<Cursor<Vec<u8>>> {
        open_workbook_from_rs(Cursor::new(bytes.to_vec())).expect("the XLSX opens")
    }

    fn zipped_file(bytes: &[u8], name: &str) -> String {
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).expect("an XLSX is a zip");
        let mut file = archive.by_name(name).expect("the part exists");
        let mut xml = String::new();
        file.read_to_string(&mut xml).expect("the part is UTF-8");
        xml
    }

    fn number(cell: Option<&Data>) -> f64 {
        match cell {
            Some(Data::Float(x)) => *x,
            Some(Data::Int(n)) => *n as f64,
            other => panic!("expected a number, got {other:?}"),
        }
    }

    fn string(cell: Option<&Data>) -> &str {
        match cell {
            Some(Data::String(s)) => s,
            other => panic!("expected a string, got {other:?}"),
        }
    }

    fn is_blank(cell: Option<&Data>) -> bool {
        matches!(cell, None | Some(Data::Empty))
    }

    #[test]
    fn xlsx_reads_back_with_persian_headers_typed_cells_and_dates() {
        let generated = date(2024, 11, 5).and_hms_opt(10, 31, 0).expect("a time");
        let bytes = to_xlsx_at(&sample(), generated).expect("exports");
        let mut book = open_xlsx(&bytes);
        let names = book.sheet_names();
        assert_eq!(names, ["قیف ارجاع‌ها استان۱۴۰۳", "گزارش"]);

        let data = book.worksheet_range(&names[0]).expect("the data sheet");
        assert_eq!(data.start(), Some((0, 0)));
        assert_eq!(data.get_size(), (6, 8));
        let headers: Vec<&str> = (0..8).map(|c| string(data.get((0, c)))).collect();
        assert_eq!(
            headers,
            [
                "خانوار",
                "یادداشت",
                "ارسال‌شده",
                "مبلغ (ریال)",
                "میانگین نمره",
                "سهم",
                "تاریخ ارسال",
                "تاریخ ارسال (ISO)"
            ]
        );

        // Row 1: every kind.
        assert_eq!(string(data.get((1, 0))), "خانواده احمدی");
        assert_eq!(string(data.get((1, 1))), "دارو, اجاره، قبض");
        assert_eq!(number(data.get((1, 2))), 3.0);
        assert_eq!(number(data.get((1, 3))), 12_500_000.0);
        assert_eq!(number(data.get((1, 4))), 2.456);
        assert_eq!(
            number(data.get((1, 5))),
            0.125,
            "a percentage is a fraction"
        );
        assert_eq!(string(data.get((1, 6))), "1403-08-15");
        match data.get((1, 7)) {
            Some(Data::DateTime(d)) => assert_eq!(d.as_f64(), serial(date(2024, 11, 5))),
            other => panic!("expected a date, got {other:?}"),
        }

        // Row 2: newline kept, negative money, an empty date is two blank cells.
        assert_eq!(string(data.get((2, 0))), "خانواده \"رضایی\"");
        assert_eq!(string(data.get((2, 1))), "خط اول\r\nخط دوم");
        assert_eq!(number(data.get((2, 3))), -1_000.0);
        assert!(is_blank(data.get((2, 6))) && is_blank(data.get((2, 7))));

        // Row 3: formula-looking text is a string as typed (a string cell never runs); the empty
        // numbers are blank, not zero.
        assert_eq!(
            string(data.get((3, 0))),
            "=HYPERLINK(\"http://x.invalid\",\"بزنید\")"
        );
        assert_eq!(string(data.get((3, 1))), "-2+3");
        for c in 2..6 {
            assert!(is_blank(data.get((3, c))), "column {c} of row 3 is blank");
        }
        match data.get((3, 7)) {
            Some(Data::DateTime(d)) => assert_eq!(d.as_f64(), serial(date(2025, 3, 21))),
            other => panic!("expected a date, got {other:?}"),
        }

        // Nothing was written as a formula.
        let formulas = book.worksheet_formula(&names[0]).expect("formulas");
        assert!(formulas.used_cells().all(|(_, _, f)| f.is_empty()));

        let about = book.worksheet_range("گزارش").expect("the about sheet");
        let rows: Vec<Vec<String>> = about
            .rows()
            .map(|r| r.iter().map(|c| c.to_string()).collect())
            .collect();
        assert_eq!(rows[0], ["عنوان", "قیف ارجاع‌ها: [استان]/۱۴۰۳", "Title"]);
        assert_eq!(
            rows[1],
            ["عنوان انگلیسی", "Referral funnel", "Title (English)"]
        );
        assert_eq!(rows[2], ["کد گزارش", "referral-funnel", "Report"]);
        assert_eq!(rows[3], ["شهرستان", "ری", "District"]);
        assert_eq!(rows[4], ["از تاریخ", "1404-01-01", "From"]);
        assert_eq!(rows[5], ["زمان تهیه", "1403-08-15 10:31", "Generated"]);
        assert_eq!(rows[6][0], "تعداد ردیف‌ها");
        assert_eq!(number(about.get((6, 1))), 5.0);
    }

    #[test]
    fn xlsx_sheets_are_right_to_left_with_a_frozen_filtered_header_and_number_formats() {
        let bytes = to_xlsx(&sample()).expect("exports");
        let data = zipped_file(&bytes, "xl/worksheets/sheet1.xml");
        assert!(data.contains("rightToLeft=\"1\""), "{data}");
        assert!(data.contains("ySplit=\"1\"") && data.contains("state=\"frozen\""));
        assert!(data.contains("<autoFilter ref=\"A1:H6\""));
        assert!(data.contains("<cols>"), "column widths are set");
        let about = zipped_file(&bytes, "xl/worksheets/sheet2.xml");
        assert!(about.contains("rightToLeft=\"1\""));
        let styles = zipped_file(&bytes, "xl/styles.xml");
        for code in ["#,##0", "0.00", "0.0%", "yyyy-mm-dd"] {
            assert!(
                styles.contains(&format!("formatCode=\"{code}\"")),
                "{code} in {styles}"
            );
        }
        assert!(styles.contains("<b/>"), "the header is bold");
    }

    #[test]
    fn xlsx_writes_a_date_excel_cannot_hold_as_iso_text() {
        let mut table = sample();
        table.rows[0][6] = Cell::Date(date(1850, 6, 1));
        let bytes = to_xlsx(&table).expect("exports");
        let mut book = open_xlsx(&bytes);
        let name = book.sheet_names()[0].clone();
        let data = book.worksheet_range(&name).expect("the data sheet");
        assert_eq!(string(data.get((1, 7))), "1850-06-01");
        assert_eq!(string(data.get((1, 6))), format_jalali(date(1850, 6, 1)));
    }

    #[test]
    fn xlsx_refuses_what_a_sheet_cannot_hold_naming_row_and_column() {
        let mut table = sample();
        table.rows[1].pop();
        assert!(matches!(
            to_xlsx(&table),
            Err(ExportError::RowWidth {
                row: 3,
                cells: 6,
                columns: 7
            })
        ));

        let mut table = sample();
        table.rows[0][4] = Cell::Decimal(f64::NAN);
        match to_xlsx(&table) {
            Err(ExportError::NotFinite { row: 2, column, .. }) => assert_eq!(column, "score"),
            other => panic!("expected NotFinite, got {other:?}"),
        }

        let mut table = sample();
        table.rows[4][3] = Cell::Money(MAX_EXACT_INTEGER + 1);
        match to_xlsx(&table) {
            Err(ExportError::NumberTooLarge { row: 6, column, .. }) => assert_eq!(column, "amount"),
            other => panic!("expected NumberTooLarge, got {other:?}"),
        }
        table.rows[4][3] = Cell::Money(-MAX_EXACT_INTEGER);
        assert!(to_xlsx(&table).is_ok(), "2^53 itself is exact");

        let mut table = sample();
        table.rows[2][1] = Cell::Text("ی".repeat(XLSX_MAX_TEXT + 1));
        let err = to_xlsx(&table).expect_err("too long");
        assert!(matches!(err, ExportError::TextTooLong { row: 4, .. }));
        assert!(
            !err.to_string().contains('ی'),
            "the message never holds the text"
        );
    }

    #[test]
    fn sheet_names_follow_excels_rules() {
        let mut table = sample();
        table.title_fa = "گزارش بسیار بلند درباره وضعیت ارجاع‌های وام در همه شهرستان‌ها".into();
        let name = data_sheet_name(&table);
        assert!(name.encode_utf16().count() <= XLSX_MAX_SHEET_NAME);
        assert!(table.title_fa.starts_with(&name));
        assert!(to_xlsx(&table).is_ok());

        table.title_fa = "گزارش".into();
        assert_eq!(data_sheet_name(&table), DATA_SHEET_FALLBACK);
        assert!(to_xlsx(&table).is_ok(), "no clash with the about sheet");
        table.title_fa = "[]:*?/\\".into();
        assert_eq!(data_sheet_name(&table), DATA_SHEET_FALLBACK);
        table.title_fa = "'نقل'".into();
        assert_eq!(data_sheet_name(&table), "نقل");
        table.title_fa = "History".into();
        assert_eq!(data_sheet_name(&table), DATA_SHEET_FALLBACK);
    }

    #[test]
    fn xlsx_of_an_empty_table_still_has_its_header_and_about_sheet() {
        let mut table = sample();
        table.rows.clear();
        let mut book = open_xlsx(&to_xlsx(&table).expect("exports"));
        let name = book.sheet_names()[0].clone();
        let data = book.worksheet_range(&name).expect("the data sheet");
        assert_eq!(data.get_size(), (1, 8));

        table.columns.clear();
        assert!(to_xlsx(&table).is_ok());
    }

    #[test]
    fn a_large_table_exports_to_xlsx_and_reads_back() {
        const ROWS: usize = 50_000;
        let mut table = sample();
        table.columns.push(Column::new(
            "district",
            "شهرستان",
            "District",
            ColumnKind::Text,
        ));
        table
            .columns
            .push(Column::new("visits", "بازدیدها", "Visits", ColumnKind::Int));
        table
            .columns
            .push(Column::new("loan", "وام", "Loan", ColumnKind::Money));
        table.rows = (0..ROWS)
            .map(|i| {
                let n = i as i64;
                vec![
                    Cell::Text(format!("خانوار {i}")),
                    Cell::Text("یادداشت کوتاه".into()),
                    Cell::Int(n % 17),
                    Cell::Money(n * 1_000),
                    Cell::Decimal(n as f64 / 7.0),
                    Cell::Percent((n % 100) as f64 / 100.0),
                    Cell::Date(date(2024, 1, 1) + chrono::Days::new((n % 700) as u64)),
                    Cell::Text(format!("شهرستان {}", i % 30)),
                    Cell::Int(n % 5),
                    Cell::Money(n),
                ]
            })
            .collect();
        let started = std::time::Instant::now();
        let bytes = to_xlsx(&table).expect("exports");
        let elapsed = started.elapsed();
        let mut book = open_xlsx(&bytes);
        let name = book.sheet_names()[0].clone();
        let data = book.worksheet_range(&name).expect("the data sheet");
        assert_eq!(data.get_size(), (ROWS + 1, 11));
        assert_eq!(number(data.get((ROWS, 3))), (ROWS as f64 - 1.0) * 1_000.0);
        eprintln!("{ROWS} rows exported in {elapsed:?}");
    }

    fn small() -> Table {
        Table {
            report: "x".into(),
            title_fa: "آزمایش".into(),
            title_en: "Test".into(),
            columns: vec![
                Column::new("name", "نام", "Name", ColumnKind::Text),
                Column::new("amount", "مبلغ", "Amount", ColumnKind::Money),
                Column::new("share", "سهم", "Share", ColumnKind::Percent),
                Column::new("on", "تاریخ", "Date", ColumnKind::Date),
            ],
            rows: vec![
                vec![
                    // 7 letters and a ZWNJ: 7 cells wide.
                    text("می\u{200C}خواهم"),
                    Cell::Money(1_234_567),
                    Cell::Percent(0.125),
                    Cell::Date(date(2024, 11, 5)),
                ],
                vec![text("a\nb"), Cell::Empty, Cell::Percent(1.0), Cell::Empty],
            ],
            filters: vec![],
            chart: None,
        }
    }

    #[test]
    fn text_table_is_aligned_by_display_width() {
        let expected = [
            "Name        Amount  Share  Date",
            "-------  ---------  -----  ----------",
            "می\u{200C}خواهم  1,234,567  12.5%  1403-08-15",
            "a b              -   100%  -",
        ]
        .map(|l| format!("{l}\n"))
        .concat();
        assert_eq!(to_text(&small(), true), expected);

        let persian = to_text(&small(), false);
        let header = format!(
            "نام{}مبلغ{}سهم  تاریخ\n",
            " ".repeat(4 + 2 + 5),
            " ".repeat(2 + 2)
        );
        assert!(persian.starts_with(&header), "{persian}");
        assert_eq!(persian.lines().count(), 4);
    }

    #[test]
    fn text_table_neutralises_terminal_escapes() {
        let mut table = small();
        table.rows[1][0] = text("\u{1b}[2J\u{7}");
        let out = to_text(&table, true);
        assert!(!out.chars().any(|c| c.is_control() && c != '\n'));
        assert!(out.contains("\u{FFFD}[2J\u{FFFD}"));
    }

    #[test]
    fn file_names_are_report_and_jalali_date_in_safe_characters() {
        let today = date(2024, 11, 5);
        let mut table = sample();
        assert_eq!(
            file_name(&table, "xlsx", today),
            "referral-funnel-1403-08-15.xlsx"
        );
        assert_eq!(
            file_name(&table, ".CSV", today),
            "referral-funnel-1403-08-15.csv"
        );
        table.report = "Referral  Funnel/../گزارش!".into();
        assert_eq!(
            file_name(&table, "xlsx", today),
            "referral-funnel-1403-08-15.xlsx"
        );
        table.report = "گزارش".into();
        assert_eq!(file_name(&table, "csv", today), "report-1403-08-15.csv");
    }
}
