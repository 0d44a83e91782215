// A report's rows as a table: headers in the interface's language, values as people read them
// (Persian digits, Jalali dates, rials with separators, percentages, a dash where a value does
// not apply), numbers lined up at the end of their cells. A click on a header sorts by it.
import { useState } from "preact/hooks";
import type { ColumnKind, Table } from "../api";
import { cellText, sortRows } from "../cells";
import { type Language, language } from "../i18n";

const NUMERIC: readonly ColumnKind[] = ["int", "money", "decimal", "percent"];

export function ReportTable({ table, lang }: { table: Table; lang?: Language }) {
  const shown = lang ?? language();
  // The order the report gave until a header is chosen; a second click reverses it.
  const [sort, setSort] = useState<{ column: number; descending: boolean } | null>(null);
  const rows = sort ? sortRows(table.rows, sort.column, sort.descending) : table.rows;
  const choose = (column: number) =>
    setSort(sort?.column === column ? { column, descending: !sort.descending } : { column, descending: false });
  return (
    <div class="report-table-wrap">
      <table class="report-table" data-testid="report-table" data-report={table.report}>
        <thead>
          <tr>
            {table.columns.map((column, i) => {
              const state = sort?.column === i ? (sort.descending ? "descending" : "ascending") : undefined;
              return (
                <th
                  key={column.key}
                  scope="col"
                  data-key={column.key}
                  class={NUMERIC.includes(column.kind) ? "num" : undefined}
                  aria-sort={state}
                >
                  <button type="button" class="sort" onClick={() => choose(i)}>
                    {shown === "fa" ? column.fa : column.en}
                    <span class="sort-mark" aria-hidden="true">
                      {state === "ascending" ? "▲" : state === "descending" ? "▼" : ""}
                    </span>
                  </button>
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody>
          {rows.map((row, r) => (
            // Rows have no id of their own; their position in this order is what they are.
            <tr key={r}>
              {table.columns.map((column, c) => {
                const cell = row[c] ?? { kind: "empty" };
                const classes = [NUMERIC.includes(column.kind) ? "num" : "", cell.kind === "empty" ? "empty-cell" : ""]
                  .filter(Boolean)
                  .join(" ");
                return (
                  <td key={column.key} data-key={column.key} class={classes || undefined}>
                    {cellText(cell)}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
