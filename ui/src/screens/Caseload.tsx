// The caseload: search, filters and sort over a virtualised list of households. Pages of rows
// are fetched as they scroll into view; how many households there are in all is asked for once
// per filter, after the first page is painted (counting reads every household). A failed load
// says so and offers to try again.
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from "preact/hooks";
import {
  api,
  asUiError,
  type HouseholdSummary,
  type ListPage,
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
import { OPENING_FILTERS, PAGE } from "../unlocked";
import { Followups } from "./Followups";

const ROW_HEIGHT = 56;
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

/** Rows by their place in the list. */
function placed(items: HouseholdSummary[], offset = 0): Map<number, HouseholdSummary> {
  return new Map(items.map((h, i) => [offset + i, h]));
}

/** How many households a first page says there are: all of them when none follow it, else not
 * known until counted. */
function totalOf(page: ListPage): number | null {
  return page.more ? null : page.items.length;
}

/** The caseload. `opening` gives the first page when it was read as the store opened (once: see
 * unlocked.ts), so the first render holds its rows. `onListed` is told once the first page is
 * on the screen and counted (or failed): what else the shell loads waits for it, so the first
 * page's query is the first to reach the store, and the count the next. */
export function Caseload({
  open,
  create,
  onListed,
  opening,
}: {
  open: (id: string) => void;
  create: () => void;
  onListed?: () => void;
  opening?: () => ListPage | undefined;
}) {
  const [query, setQuery] = useState("");
  const [district, setDistrict] = useState(OPENING_FILTERS.district ?? "");
  const [status, setStatus] = useState(OPENING_FILTERS.status ?? "");
  const [overdue, setOverdue] = useState(OPENING_FILTERS.overdue);
  const [minNeed, setMinNeed] = useState(OPENING_FILTERS.min_need ?? "");
  const [worker, setWorker] = useState(OPENING_FILTERS.worker ?? "");
  const [sort, setSort] = useState(OPENING_FILTERS.sort ?? "name");
  // The first page read ahead, if any: shown by the first render, not asked for again.
  const [first] = useState(() => opening?.());
  // How many households the list holds; null until counted.
  const [total, setTotal] = useState<number | null>(first ? totalOf(first) : 0);
  // Whether households follow the last page read, while they are not counted.
  const [more, setMore] = useState(first?.more ?? false);
  const [rows, setRows] = useState<Map<number, HouseholdSummary>>(() => placed(first?.items ?? []));
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(600);
  const [loadError, setLoadError] = useState<UiError | null>(null);
  const [attempt, setAttempt] = useState(0);
  // Whether the first page of rows (or "nothing") has been rendered, for the launch's mark.
  const [loaded, setLoaded] = useState(first !== undefined);
  // Whether the first page was shown and counted (or failed): the panels and the shell's other
  // reads follow then, once.
  const [settled, setSettled] = useState(false);
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
    // The first page was read ahead with these filters: it is on the screen already.
    if (gen === 1 && first) return;
    const load = async () => {
      if (query.trim()) {
        const found = await api.search(query, SEARCH_LIMIT);
        if (gen !== generation.current) return;
        setRows(placed(found));
        setTotal(found.length);
        setMore(false);
      } else {
        const page = await api.list(filters, PAGE, 0);
        if (gen !== generation.current) return;
        setRows(placed(page.items));
        setTotal(totalOf(page));
        setMore(page.more);
      }
      setLoadError(null);
      setLoaded(true);
      if (box.current) box.current.scrollTop = 0;
    };
    load().catch((e) => gen === generation.current && setLoadError(asUiError(e)));
  }, [query, filters, attempt]);

  // The count, once the page is painted (an effect runs after the frame): it reads every
  // household the filters match, which the first page's rows need not wait for.
  useEffect(() => {
    if (!loaded || total !== null || loadError || query.trim()) return;
    const gen = generation.current;
    api
      .count(filters)
      .then((n) => gen === generation.current && setTotal(n))
      .catch((e) => gen === generation.current && setLoadError(asUiError(e)));
  }, [loaded, total, loadError, query, filters]);

  useEffect(() => {
    if (settled || !((loaded && total !== null) || loadError)) return;
    setSettled(true);
    listed.current?.();
  }, [settled, loaded, total, loadError]);

  useEffect(() => {
    if (box.current) setHeight(box.current.clientHeight || 600);
  }, []);

  // The launch's last mark: the first page's rows on the screen (see launch.ts).
  useLayoutEffect(() => {
    if (loaded) reportPainted("first_page");
  }, [loaded]);

  // Until counted, the list is as long as the rows read, and one more row when more follow.
  const length = total ?? rows.size + (more ? 1 : 0);
  const top = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - 5);
  const bottom = Math.min(length, Math.ceil((scrollTop + height) / ROW_HEIGHT) + 5);
  useEffect(() => {
    if (query.trim() || loadError) return;
    const missing = [...Array(Math.max(0, bottom - top)).keys()].map((i) => i + top).find((i) => !rows.has(i));
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
        // The last page tells where the list ends: before the count came, or when households
        // left it since (else the rows past its end would be asked for again and again).
        if (!page.more) setTotal(offset + page.items.length);
      })
      .catch((e) => gen === generation.current && setLoadError(asUiError(e)));
  }, [top, bottom, rows, query, filters, loadError]);

  const visible = [];
  for (let i = top; i < bottom; i++) visible.push(<Row key={i} h={rows.get(i)} index={i} open={open} />);

  return (
    <main class="caseload">
      {/* Loaded after the first page and its count: they go first to the store, which serves one at a time. */}
      {settled && (
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
          {total === null ? "…" : faDigits(total)} {t("households")}
        </span>
        <button type="button" id="new-household" onClick={create}>
          {t("newHousehold")}
        </button>
      </div>
      {loadError ? (
        <LoadError error={loadError} retry={() => setAttempt((a) => a + 1)} />
      ) : (
        <div class="list" ref={box} onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}>
          {length === 0 ? (
            <p class="empty">{t("nothing")}</p>
          ) : (
            <div style={{ height: `${length * ROW_HEIGHT}px`, position: "relative" }}>{visible}</div>
          )}
        </div>
      )}
    </main>
  );
}
