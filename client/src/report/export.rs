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
            if column.kind == ColumnKind::Date {
                if let Cell::Date(d) = cell {
                    let shown =
                        write_xlsx_iso_date(&mut sheet, sheet_row, first + 1, *d, &formats)?;
                    widths[c + 1] = widths[c + 1].max(shown);
                }
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
        .map(|i| table.columns.get(i).is_some_and(|c| is_numeric(c)))
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
        if i > 0 && (digits.len() - i) % 3 == 0 {
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
