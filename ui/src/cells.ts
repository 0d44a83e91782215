// How a report's values read for people, in the table and on the chart alike: Persian digits,
// Persian separators (٬ for thousands, ٫ for the decimal point), Jalali dates, percentages from
// 0..1 shares, and a dash for a value that does not apply (never a zero).
import type { Cell, ColumnKind } from "./api";
import { faDigits, jalali } from "./format";

/** What an empty cell shows: the value does not apply (not zero). */
export const EMPTY = "—";

const THOUSANDS = "٬";
const DECIMAL = "٫";
const PERCENT = "٪";

/** `1234567.5` → `۱٬۲۳۴٬۵۶۷٫۵`, at most `fraction` digits after the point (trailing zeros
 * dropped). Written out by hand rather than by Intl so it reads the same in every webview. */
export function formatNumber(n: number, fraction = 0): string {
  if (!Number.isFinite(n)) return EMPTY;
  const fixed = Math.abs(n).toFixed(fraction);
  const [whole, part = ""] = fixed.split(".");
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, THOUSANDS);
  const decimals = part.replace(/0+$/, "");
  // `-0.001` rounds to zero: no minus sign on a zero.
  const negative = n < 0 && /[1-9]/.test(fixed);
  return faDigits(`${negative ? "−" : ""}${grouped}${decimals ? DECIMAL + decimals : ""}`);
}

/** Rials, whole, with thousands separators. */
export function formatMoney(n: number): string {
  return formatNumber(Math.round(n), 0);
}

/** A share between 0 and 1 as a percentage: `0.125` → `۱۲٫۵٪`. */
export function formatPercent(share: number): string {
  if (!Number.isFinite(share)) return EMPTY;
  return `${formatNumber(share * 100, 1)}${PERCENT}`;
}

/** A number as a column of `kind` shows it. */
export function formatValue(n: number, kind: ColumnKind): string {
  switch (kind) {
    case "int":
      return formatNumber(n, 0);
    case "money":
      return formatMoney(n);
    case "percent":
      return formatPercent(n);
    default:
      // A decimal (a mean need score, a median of days), or an axis between whole counts.
      return formatNumber(n, 2);
  }
}

/** Text with its digits in Persian, unless it holds Latin letters: an id such as `0190b7c4` or
 * a worker code `w1` would become a mix no one could read back or type. */
export function faText(text: string): string {
  return /[A-Za-z]/.test(text) ? text : faDigits(text);
}

/** A cell as the table and the chart's labels show it. */
export function cellText(cell: Cell): string {
  switch (cell.kind) {
    case "empty":
      return EMPTY;
    case "text":
      return faText(cell.value);
    case "date":
      return jalali(cell.value) || cell.value;
    case "int":
    case "money":
    case "decimal":
    case "percent":
      return formatValue(cell.value, cell.kind);
  }
}

/** A cell's number for a chart: null (a gap) for an empty cell or one that is not a number. */
export function cellNumber(cell: Cell | undefined): number | null {
  if (!cell) return null;
  switch (cell.kind) {
    case "int":
    case "money":
    case "decimal":
    case "percent":
      return Number.isFinite(cell.value) ? cell.value : null;
    default:
      return null;
  }
}

/** Orders two cells of one column: numbers by value, dates by ISO date, text by Persian
 * collation; empty cells are left to `sortRows`, which keeps them last. */
export function compareCells(a: Cell, b: Cell): number {
  if (a.kind === "empty" || b.kind === "empty") return 0;
  const x = cellNumber(a);
  const y = cellNumber(b);
  if (x !== null && y !== null) return x - y;
  return String(a.value).localeCompare(String(b.value), "fa");
}

/** Sorts rows by one column; empty cells stay at the bottom in both directions. */
export function sortRows(rows: readonly Cell[][], column: number, descending: boolean): Cell[][] {
  const isEmpty = (r: readonly Cell[]) => !r[column] || r[column].kind === "empty";
  return [...rows].sort((a, b) => {
    if (isEmpty(a) || isEmpty(b)) return Number(isEmpty(a)) - Number(isEmpty(b));
    const c = compareCells(a[column], b[column]);
    return descending ? -c : c;
  });
}
