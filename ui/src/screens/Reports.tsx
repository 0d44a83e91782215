// The reports: choose one, narrow it (group, district, worker, a Jalali date range; the cohort
// report also takes the cohort's household ids), run it, then read its chart and table and
// export what is shown to CSV or XLSX. The store computes every report within the worker's
// scope (a field worker sees their own households) and checks the filters: a date that does not
// read comes back as an error naming its field, shown here as it came.
import { useRef, useState } from "preact/hooks";
import {
  api,
  asUiError,
  type ExportFormat,
  type ReportFilterText,
  type ReportInfo,
  type Table,
  type UiError,
} from "../api";
import { errorText, LoadError } from "../components/Errors";
import { JalaliPicker } from "../components/JalaliPicker";
import { ReportChart } from "../components/ReportChart";
import { ReportTable } from "../components/ReportTable";
import { useLoad } from "../components/useLoad";
import { faDigits } from "../format";
import { language, t } from "../i18n";
import { fieldLabel } from "../labels";
import { useWorkers } from "../workers";

/** The report that takes a cohort of households (the only one with the cohort box). */
export const COHORT_REPORT = "cohort";

type FilterKey = "group" | "district" | "worker" | "from" | "to" | "cohort";
type Filters = Record<FilterKey, string>;

const EMPTY_FILTERS: Filters = { group: "", district: "", worker: "", from: "", to: "", cohort: "" };

/** The filter bar as the store takes it: what was left empty is null (no filter), never "". */
export function filterText(filters: Filters, code: string): ReportFilterText {
  const value = (s: string) => (s.trim() === "" ? null : s.trim());
  return {
    group: value(filters.group),
    district: value(filters.district),
    worker: value(filters.worker),
    from: value(filters.from),
    to: value(filters.to),
    // Only the cohort report reads a cohort; another report is not narrowed by a hidden box.
    cohort: code === COHORT_REPORT ? value(filters.cohort) : null,
  };
}

/** Which filter an error names, so its field is marked: `from`, `to`, `cohort`… as the store
 * names them (also `date_from`, `report_to` and the like). */
export function filterOfError(field: string | null): FilterKey | null {
  if (!field) return null;
  const parts = field.split("_");
  const keys: FilterKey[] = ["from", "to", "cohort", "district", "worker", "group"];
  return keys.find((k) => parts.includes(k)) ?? null;
}

interface Run {
  /** Which run this is: a new run is a new result (its export state starts afresh). */
  id: number;
  code: string;
  filter: ReportFilterText;
  table: Table;
}

function title(info: { title_fa: string; title_en: string }): string {
  return language() === "fa" ? info.title_fa : info.title_en;
}

function DateFilter({
  id,
  label,
  value,
  invalid,
  onChange,
}: {
  id: FilterKey;
  label: string;
  value: string;
  invalid: boolean;
  onChange: (value: string) => void;
}) {
  return (
    <label>
      {label}
      <span class="with-picker">
        <input
          id={`report-${id}`}
          data-testid={`filter-${id}`}
          value={value}
          placeholder={t("dateHint")}
          inputMode="numeric"
          aria-invalid={invalid || undefined}
          onInput={(e) => onChange(e.currentTarget.value)}
        />
        <JalaliPicker id={`report-${id}`} value={value} onPick={onChange} />
      </span>
    </label>
  );
}

function Exports({ run }: { run: Run }) {
  const [busy, setBusy] = useState<ExportFormat | null>(null);
  const [path, setPath] = useState<string | null>(null);
  const [error, setError] = useState<UiError | null>(null);
  const save = async (format: ExportFormat) => {
    setBusy(format);
    setError(null);
    setPath(null);
    try {
      // The rows shown: the report and filters of the last run, not what the bar holds now.
      setPath(await api.exportReport(run.code, run.filter, format));
    } catch (e) {
      setError(asUiError(e));
    } finally {
      setBusy(null);
    }
  };
  return (
    <div class="report-exports">
      <div class="actions">
        <button type="button" class="secondary" data-testid="export-csv" disabled={!!busy} onClick={() => save("csv")}>
          {t("exportCsv")}
        </button>
        <button
          type="button"
          class="secondary"
          data-testid="export-xlsx"
          disabled={!!busy}
          onClick={() => save("xlsx")}
        >
          {t("exportXlsx")}
        </button>
        {busy && <span role="status">{t("exporting")}</span>}
      </div>
      {path && (
        <p class="saved" role="status">
          {t("savedTo")}{" "}
          <code data-testid="export-path" dir="ltr">
            {path}
          </code>
        </p>
      )}
      {error && (
        <p class="form-error" role="alert" data-testid="export-error" title={error.message}>
          {t("exportFailed")} {errorText(error)}
        </p>
      )}
    </div>
  );
}

function Result({ run }: { run: Run }) {
  const { table } = run;
  const lang = language();
  return (
    <section class="card report-result" data-report={table.report}>
      <div class="report-head">
        <h3 class="report-heading">{title(table)}</h3>
        {/* Said when a run comes back; the table itself is not read out on arrival. */}
        <span class="count" data-testid="report-count" role="status">
          {faDigits(table.rows.length)} {t("rowsCount")}
        </span>
      </div>
      {table.filters.length > 0 && (
        <ul class="applied-filters" aria-label={t("appliedFilters")} data-testid="report-filters">
          {table.filters.map((f) => (
            <li key={`${f.en}=${f.value}`}>
              <span class="filter-name">{lang === "fa" ? f.fa : f.en}:</span> {f.value}
            </li>
          ))}
        </ul>
      )}
      {table.rows.length === 0 ? (
        <p class="empty" data-testid="report-empty">
          {t("noRows")}
        </p>
      ) : (
        <>
          <ReportChart table={table} lang={lang} />
          <ReportTable key={`${table.report}/${lang}`} table={table} lang={lang} />
        </>
      )}
      <Exports key={run.id} run={run} />
    </section>
  );
}

export function Reports() {
  const workers = useWorkers();
  const reports = useLoad(() => api.reportList(), []);
  const options = useLoad(() => api.reportOptions(), []);
  const [picked, setPicked] = useState<string | null>(null);
  const [filters, setFilters] = useState<Filters>(EMPTY_FILTERS);
  const [run, setRun] = useState<Run | null>(null);
  const [error, setError] = useState<UiError | null>(null);
  const [busy, setBusy] = useState(false);
  // Only the latest run answers: a slow earlier one does not overwrite it.
  const generation = useRef(0);
  const list: ReportInfo[] = reports.data ?? [];
  // The first report until another is chosen.
  const code = picked ?? list[0]?.code ?? null;
  const choose = (next: string) => {
    generation.current++;
    setPicked(next);
    setRun(null);
    setError(null);
    setBusy(false);
  };
  const set = (key: FilterKey) => (value: string) => setFilters({ ...filters, [key]: value });
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!code) return;
    const gen = ++generation.current;
    const filter = filterText(filters, code);
    setBusy(true);
    setError(null);
    try {
      const table = await api.runReport(code, filter);
      if (gen !== generation.current) return;
      setRun({ id: gen, code, filter, table });
    } catch (err) {
      if (gen !== generation.current) return;
      setRun(null);
      setError(asUiError(err));
    } finally {
      if (gen === generation.current) setBusy(false);
    }
  };
  const invalid = filterOfError(error?.field ?? null);
  const chosen = list.find((r) => r.code === code) ?? null;
  const opts = options.data;
  const select = (key: "group" | "district" | "worker", label: string, values: string[], name = (v: string) => v) => (
    <label>
      {label}
      <select
        id={`report-${key}`}
        data-testid={`filter-${key}`}
        value={filters[key]}
        aria-invalid={invalid === key || undefined}
        onChange={(e) => set(key)(e.currentTarget.value)}
      >
        <option value="">{t("all")}</option>
        {values.map((v) => (
          <option value={v} key={v}>
            {name(v)}
          </option>
        ))}
      </select>
    </label>
  );
  return (
    <main class="screen reports" id="reports" data-testid="reports-screen">
      <div class="toolbar">
        <h2>{t("navReports")}</h2>
      </div>
      {reports.error && <LoadError error={reports.error} retry={reports.reload} />}
      {options.error && <LoadError error={options.error} retry={options.reload} />}
      {!reports.data && !reports.error && (
        <p class="empty" role="status">
          {t("loading")}
        </p>
      )}
      {reports.data && list.length === 0 && <p class="empty">{t("noReports")}</p>}
      {list.length > 0 && (
        <div class="reports-layout">
          <aside class="card report-list" aria-label={t("reportsList")}>
            <ul>
              {list.map((r) => (
                <li key={r.code}>
                  <button
                    type="button"
                    class={`report-item${r.code === code ? " current" : ""}`}
                    data-testid={`report-item-${r.code}`}
                    aria-current={r.code === code ? "true" : undefined}
                    onClick={() => choose(r.code)}
                  >
                    <span class="report-title">{title(r)}</span>
                    {language() === "fa" && r.description_fa && <span class="hint">{r.description_fa}</span>}
                  </button>
                </li>
              ))}
            </ul>
          </aside>
          <section class="report-main">
            {chosen ? (
              <form class="card report-filters" onSubmit={submit}>
                <h3 class="report-heading">{title(chosen)}</h3>
                <div class="filter-row">
                  {select("group", t("group"), opts?.groups ?? [])}
                  {select("district", fieldLabel("district"), opts?.districts ?? [])}
                  {select("worker", t("worker"), opts?.workers ?? [], (w) => workers.name(w))}
                  <DateFilter
                    id="from"
                    label={t("dateFrom")}
                    value={filters.from}
                    invalid={invalid === "from"}
                    onChange={set("from")}
                  />
                  <DateFilter
                    id="to"
                    label={t("dateTo")}
                    value={filters.to}
                    invalid={invalid === "to"}
                    onChange={set("to")}
                  />
                </div>
                {chosen.code === COHORT_REPORT && (
                  <label class="cohort">
                    {t("cohort")}
                    <textarea
                      id="report-cohort"
                      data-testid="filter-cohort"
                      rows={3}
                      dir="ltr"
                      value={filters.cohort}
                      aria-invalid={invalid === "cohort" || undefined}
                      onInput={(e) => set("cohort")(e.currentTarget.value)}
                    />
                    <span class="hint">{t("cohortHint")}</span>
                  </label>
                )}
                <div class="actions">
                  <button type="submit" data-testid="report-run" disabled={busy}>
                    {t("runReport")}
                  </button>
                  {busy && (
                    <span role="status" data-testid="report-running">
                      {t("running")}
                    </span>
                  )}
                </div>
                {error && (
                  <p
                    class="form-error"
                    role="alert"
                    data-testid="report-error"
                    data-field={error.field ?? undefined}
                    title={error.message}
                  >
                    {t("reportFailed")} {errorText(error)}
                  </p>
                )}
              </form>
            ) : (
              <p class="empty">{t("chooseReport")}</p>
            )}
            {run && run.code === code && <Result run={run} />}
          </section>
        </div>
      )}
    </main>
  );
}
