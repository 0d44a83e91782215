//! A report's result as a typed table: the one shape every report returns and every output
//! (the CLI's text table, CSV, XLSX, the desktop app's table and chart) is drawn from, so a
//! report is written once and exported the same way everywhere.

use chrono::NaiveDate;
use serde::Serialize;

/// What a column holds; it decides how a cell is written in each output (a money column is a
/// number with thousands separators in XLSX, a date column is Jalali text plus an ISO date).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ColumnKind {
    Text,
    /// A count or other whole number.
    Int,
    /// An amount in rials (whole numbers).
    Money,
    /// A number with a fractional part (a mean need score, a median of days).
    Decimal,
    /// A share between 0 and 1, shown as a percentage.
    Percent,
    Date,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Column {
    /// A stable machine name (`district`, `sent`, `median_days_approved`), used as the CSV's
    /// English header line and by the desktop app.
    pub key: String,
    /// The header shown to people (Persian).
    pub fa: String,
    /// The English header (the English interface and `--lang en`).
    pub en: String,
    pub kind: ColumnKind,
}

impl Column {
    pub fn new(key: &str, fa: &str, en: &str, kind: ColumnKind) -> Self {
        Self {
            key: key.to_string(),
            fa: fa.to_string(),
            en: en.to_string(),
            kind,
        }
    }
}

/// One value of a row. `Empty` is a value that does not apply (no median when nothing reached
/// that state), never a stand-in for zero.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Cell {
    Empty,
    Text(String),
    Int(#[cfg_attr(feature = "ts", ts(type = "number"))] i64),
    Money(#[cfg_attr(feature = "ts", ts(type = "number"))] i64),
    Decimal(f64),
    Percent(f64),
    /// Serialised as its ISO form (`2025-03-21`).
    Date(#[cfg_attr(feature = "ts", ts(type = "string"))] NaiveDate),
}

/// How the desktop app draws the table when a picture says more than the rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ChartKind {
    /// One bar per row for each series column, side by side.
    Bar,
    /// One bar per row, the series columns stacked (shares of a whole).
    StackedBar,
    /// One point per row along the label column (usually dates), a line per series column.
    Line,
    /// The series columns as successive stages of one flow (sent → approved → disbursed),
    /// a bar group per row.
    Funnel,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ChartHint {
    pub kind: ChartKind,
    /// The column whose cells name the rows (the x axis; a date column gives a Jalali axis).
    pub label_column: usize,
    /// The columns drawn, each a series named by its header.
    pub series_columns: Vec<usize>,
}

/// A filter the report was run with, as shown above the table and in an export's notes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AppliedFilter {
    pub fa: String,
    pub en: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Table {
    /// The report's code (`referral-funnel`), also the export's file name stem.
    pub report: String,
    pub title_fa: String,
    pub title_en: String,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
    pub filters: Vec<AppliedFilter>,
    pub chart: Option<ChartHint>,
}
