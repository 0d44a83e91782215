//! Case outcome reports: each report reads the store's projections (never every document) and
//! returns a [`Table`], which the CLI prints and every front end exports as CSV or XLSX.

pub mod table;

pub use table::{AppliedFilter, Cell, ChartHint, ChartKind, Column, ColumnKind, Table};
