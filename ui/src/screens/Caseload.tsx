// The caseload: search, filters and sort over a virtualised list of households. Pages of rows
// are fetched as they scroll into view; a failed load says so and offers to try again.
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from "preact/hooks";
import {
  api,
  asUiError,
  type HouseholdSummary,
  type ListText,
  type QuarantinedHousehold,
  type ReturnedVisit,
  type UiError,
} from "../api";
import { LoadError } from "../components/Errors";
import { faDigits, isOverdue, jalali } from "../format";
import { t } from "../i18n";
import { fieldLabel, label, vocabularies } from "../labels";
import { reportPainted } from "../launch";
import { Followups } from "./Followups";

const ROW_HEIGHT = 56;
const PAGE = 100;
const SEARCH_LIMIT = 500;

function Row({ h, index, open }: { h: HouseholdSummary | undefined; index: number; open: (id: string) => void }) {
  const activate = () => h && open(h.id);
  return (
    // biome-ignore lint/a11y/useSemanticElements: a grid row of the virtualised list, not a form button
    <div
      class="row"
      style={{ top: `${index * ROW_HEIGHT}px`, height: `${ROW_HEIGHT}px` }}
      role="button"
      tabIndex={0}
      data-id={h?.id ?? ""}
      onClick={activate}
      onKeyDown={(e) => e.key === "Enter" && activate()}
    >
      {h ? (
        <>
          <span class="name">
            {h.head_name}
            {h.returned_visits > 0 && <span class="badge warn">{t("returnedBadge")}</span>}
            {h.conflict_count > 0 && <span class="badge warn">{t("conflict")}</span>}
            {h.merged_into && <span class="badge">{t("mergedBadge")}</span>}
            {h.needs_update && (
              <span class="badge warn" title={t("needsUpdateHint")}>
                {t("needsUpdate")}
              </span>
            )}
          </span>
          <span>{faDigits(h.head_national_id ?? "")}</span>
          <span>{h.district}</span>
          <span>
            {t("lastVisit")}: {jalali(h.last_visit) || "—"}
          </span>
          <span class={isOverdue(h.next_followup) ? "overdue" : ""} data-followup={h.next_followup ?? ""}>
            {t("nextFollowup")}: {jalali(h.next_followup) || "—"}
          </span>
        </>
      ) : (
        <span class="loading">…</span>
      )}
    </div>
  );
}

/** Households whose changes from the server could not be applied: kept and set aside, with
 * the reason, so the worker can tell the supervisor. Shown only when there are some. */
function SetAside() {
  const [items, setItems] = useState<QuarantinedHousehold[]>([]);
  useEffect(() => {
    api.quarantined().then(setItems, () => setItems([]));
  }, []);
  if (items.length === 0) return null;
  return (
    <section class="card" id="set-aside" role="status">
      <h3>
        {t("setAside")} ({faDigits(items.length)})
      </h3>
      <p>{t("setAsideHint")}</p>
      <ul>
        {items.map((q) => (
          <li key={q.household} data-id={q.household}>
            <code dir="ltr">{q.household.slice(0, 8)}</code> — {q.reason}
          </li>
        ))}
      </ul>
    </section>
  );
}

/** This worker's visits a supervisor returned for correction, with the comment: the worker's
 * tasks, first on the caseload. Shown only when there are some. */
function ReturnedTasks({ open }: { open: (id: string) => void }) {
  const [items, setItems] = useState<ReturnedVisit[]>([]);
  const [error, setError] = useState<UiError | null>(null);
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    api.returnedVisits(false).then(
      (r) => {
        setItems(r);
        setError(null);
      },
      (e) => setError(asUiError(e)),
    );
  }, [attempt]);
  if (error) return <LoadError error={error} retry={() => setAttempt((a) => a + 1)} />;
  if (items.length === 0) return null;
  return (
    <section class="card tasks" id="returned-tasks" role="status">
      <h3>
        {t("returnedTasks")} ({faDigits(items.length)})
      </h3>
      <p class="hint">{t("returnedHint")}</p>
      <ul>
        {items.map((r) => (
          <li key={r.visit_id} data-visit={r.visit_id}>
            <button type="button" class="link open-task" onClick={() => open(r.household_id)}>
              {r.head_name} — {jalali(r.date)}
            </button>
            {r.field && <span class="badge warn">{fieldLabel(r.field)}</span>}
            <p class="comment">{r.comment}</p>
          </li>
        ))}
      </ul>
    </section>
  );
}

/** The caseload. `onListed` is told once the first page is in (or failed): what else the
 * shell loads then waits for it, so the first page's query is the first to reach the store. */
export function Caseload({
  open,
  create,
  onListed,
}: {
  open: (id: string) => void;
  create: () => void;
  onListed?: () => void;
}) {
  const [query, setQuery] = useState("");
  const [district, setDistrict] = useState("");
  const [status, setStatus] = useState("");
  const [overdue, setOverdue] = useState(false);
  const [minNeed, setMinNeed] = useState("");
  const [worker, setWorker] = useState("");
  const [sort, setSort] = useState("name");
  const [total, setTotal] = useState(0);
  const [rows, setRows] = useState<Map<number, HouseholdSummary>>(new Map());
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(600);
  const [loadError, setLoadError] = useState<UiError | null>(null);
  const [attempt, setAttempt] = useState(0);
  // Whether the first page of rows (or "nothing") has been rendered, for the launch's mark.
  const [loaded, setLoaded] = useState(false);
  const box = useRef<HTMLDivElement>(null);
  const listed = useRef(onListed);
  listed.current = onListed;
  const generation = useRef(0);
  const filters = useMemo<ListText>(
    () => ({ district, status, worker, overdue, min_need: minNeed, sort, conflicted: false }),
    [district, status, worker, overdue, minNeed, sort],
  );

  // A new search or filter (or a retry) starts afresh; pages are fetched as they scroll into view.
  useEffect(() => {
    const gen = ++generation.current;
    const load = async () => {
      if (query.trim()) {
        const found = await api.search(query, SEARCH_LIMIT);
        if (gen !== generation.current) return;
        setRows(new Map(found.map((h, i) => [i, h])));
        setTotal(found.length);
      } else {
        const page = await api.list(filters, PAGE, 0);
        if (gen !== generation.current) return;
        setRows(new Map(page.items.map((h, i) => [i, h])));
        setTotal(page.total);
      }
      setLoadError(null);
      setLoaded(true);
      if (box.current) box.current.scrollTop = 0;
    };
    load()
      .catch((e) => gen === generation.current && setLoadError(asUiError(e)))
      .finally(() => listed.current?.());
  }, [query, filters, attempt]);

  useEffect(() => {
    if (box.current) setHeight(box.current.clientHeight || 600);
  }, []);

  // The launch's last mark: the first page's rows on the screen (see launch.ts).
  useLayoutEffect(() => {
    if (loaded) reportPainted("first_page");
  }, [loaded]);

  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - 5);
  const last = Math.min(total, Math.ceil((scrollTop + height) / ROW_HEIGHT) + 5);
  useEffect(() => {
    if (query.trim() || loadError) return;
    const missing = [...Array(Math.max(0, last - first)).keys()].map((i) => i + first).find((i) => !rows.has(i));
    if (missing === undefined) return;
    const offset = Math.floor(missing / PAGE) * PAGE;
    const gen = generation.current;
    api
      .list(filters, PAGE, offset)
      .then((page) => {
        if (gen !== generation.current) return;
        setRows((old) => {
          const next = new Map(old);
          page.items.forEach((h, i) => {
            next.set(offset + i, h);
          });
          return next;
        });
      })
      .catch((e) => gen === generation.current && setLoadError(asUiError(e)));
  }, [first, last, rows, query, filters, loadError]);

  const visible = [];
  for (let i = first; i < last; i++) visible.push(<Row key={i} h={rows.get(i)} index={i} open={open} />);

  return (
    <main class="caseload">
      {/* Loaded after the first page: its query goes first to the store, which serves one at a time. */}
      {(loaded || loadError) && (
        <>
          <SetAside />
          <ReturnedTasks open={open} />
          <Followups open={open} />
        </>
      )}
      <div class="toolbar">
        <input
          id="search"
          type="search"
          placeholder={t("search")}
          value={query}
          onInput={(e) => setQuery(e.currentTarget.value)}
          // biome-ignore lint/a11y/noAutofocus: the caseload is a search screen; typing starts at once
          autoFocus
        />
        <input
          id="filter-district"
          placeholder={fieldLabel("district")}
          value={district}
          onChange={(e) => setDistrict(e.currentTarget.value)}
        />
        <input
          id="filter-worker"
          placeholder={fieldLabel("assigned_worker")}
          value={worker}
          onChange={(e) => setWorker(e.currentTarget.value)}
        />
        <select id="filter-status" value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
          <option value="">
            {fieldLabel("status")}: {t("all")}
          </option>
          {vocabularies.HouseholdStatus.map((s) => (
            <option value={s.code} key={s.code}>
              {label(vocabularies.HouseholdStatus, s.code)}
            </option>
          ))}
        </select>
        <select id="filter-need" value={minNeed} onChange={(e) => setMinNeed(e.currentTarget.value)}>
          <option value="">
            {fieldLabel("need")}: {t("all")}
          </option>
          {[1, 2, 3, 4].map((n) => (
            <option value={n} key={n}>
              {fieldLabel("need")} ≥ {faDigits(n)}
            </option>
          ))}
        </select>
        <label class="check">
          <input type="checkbox" checked={overdue} onChange={(e) => setOverdue(e.currentTarget.checked)} />
          {t("overdue")}
        </label>
        <select id="sort" value={sort} onChange={(e) => setSort(e.currentTarget.value)}>
          <option value="name">
            {t("sort")}: {t("sortName")}
          </option>
          <option value="need">
            {t("sort")}: {t("sortNeed")}
          </option>
          <option value="last-visit">
            {t("sort")}: {t("sortLastVisit")}
          </option>
          <option value="followup">
            {t("sort")}: {t("sortFollowup")}
          </option>
        </select>
        <span class="count" id="result-count">
          {faDigits(total)} {t("households")}
        </span>
        <button type="button" id="new-household" onClick={create}>
          {t("newHousehold")}
        </button>
      </div>
      {loadError ? (
        <LoadError error={loadError} retry={() => setAttempt((a) => a + 1)} />
      ) : (
        <div class="list" ref={box} onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}>
          {total === 0 ? (
            <p class="empty">{t("nothing")}</p>
          ) : (
            <div style={{ height: `${total * ROW_HEIGHT}px`, position: "relative" }}>{visible}</div>
          )}
        </div>
      )}
    </main>
  );
}
