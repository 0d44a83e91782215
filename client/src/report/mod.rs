//! Case outcome reports: each report reads the store's projections (never every document) and
//! returns a [`Table`], which the CLI prints and every front end exports as CSV or XLSX.

pub mod export;
pub mod filter;
pub mod reports;
pub mod table;

pub use export::{ExportError, file_name, to_csv, to_text, to_xlsx, to_xlsx_at};
pub use filter::{ReportFilter, ReportFilterText};
pub use reports::{ReportInfo, ReportOptions, catalogue};
pub use table::{AppliedFilter, Cell, ChartHint, ChartKind, Column, ColumnKind, Table};
