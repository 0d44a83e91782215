// The supervisor's review queue: visits awaiting review (or returned, or approved), oldest
// first, filtered by group and worker; each approved, or returned with a comment on the visit or
// one of its fields, in place.
import { useState } from "preact/hooks";
import { api, asUiError, type ReviewItem, type Standing, type UiError, type Visit } from "../api";
import type { ReviewState } from "../bindings/ReviewState";
import { LoadError } from "../components/Errors";
import { ReviewActions, ReviewBadge, ReviewThread } from "../components/Review";
import { useLoad } from "../components/useLoad";
import { faDigits, jalali } from "../format";
import { t } from "../i18n";
import { fieldLabel, label, vocabularies } from "../labels";
import { useWorkers } from "../workers";

const PAGE = 200;

/** What the visit says (observations, needs, follow-up) and its review so far, read from its
 * household when the reviewer opens it: the queue itself stays one cheap query. */
function VisitContent({ item }: { item: ReviewItem }) {
  const [visit, setVisit] = useState<Visit | null>(null);
  const [error, setError] = useState<UiError | null>(null);
  const load = () => {
    setError(null);
    api.household(item.household_id).then(
      (h) => setVisit(h.visits.find((v) => v.id === item.visit_id) ?? null),
      (e) => setError(asUiError(e)),
    );
  };
  return (
    <details class="visit-content" onToggle={(e) => e.currentTarget.open && !visit && load()}>
      <summary>{t("showVisit")}</summary>
      {error && <LoadError error={error} retry={load} />}
      {visit && (
        <div>
          {visit.observations && <p class="observations">{visit.observations}</p>}
          <div>
            {Object.entries(visit.needs)
              .map(([d, s]) => `${label(vocabularies.NeedDomain, d)}: ${faDigits(s ?? "")}`)
              .join("، ")}
          </div>
          {visit.followup_date && (
            <div>
              {fieldLabel("followup_date")}: {jalali(visit.followup_date)}
            </div>
          )}
          <ReviewThread visit={visit} />
        </div>
      )}
    </details>
  );
}

function Item({ item, open, done }: { item: ReviewItem; open: (id: string) => void; done: () => void }) {
  const workers = useWorkers();
  return (
    <li class="card review-item" data-visit={item.visit_id} data-household={item.household_id}>
      <div class="item-head">
        <button type="button" class="link open-household" onClick={() => open(item.household_id)}>
          {item.head_name}
        </button>
        <span>{jalali(item.date)}</span>
        <span>{label(vocabularies.VisitKind, item.kind)}</span>
        <span>
          {t("worker")}: {item.worker_name ?? workers.name(item.worker_id)}
        </span>
        {item.assigned_group && (
          <span>
            {t("group")}: <bdi>{item.assigned_group}</bdi>
          </span>
        )}
        {item.max_need !== null && (
          <span>
            {fieldLabel("need")}: {faDigits(item.max_need)}
          </span>
        )}
        <ReviewBadge state={item.state} />
      </div>
      <VisitContent item={item} />
      {item.state === "awaiting" && <ReviewActions visit={item.visit_id} done={done} />}
    </li>
  );
}

export function ReviewQueue({
  standing,
  open,
  changed,
}: {
  standing: Standing;
  open: (id: string) => void;
  /** Tells the navigation a visit was reviewed (its count changes). */
  changed: () => void;
}) {
  const workers = useWorkers();
  const [state, setState] = useState<ReviewState>("awaiting");
  const [group, setGroup] = useState("");
  const [worker, setWorker] = useState("");
  const queue = useLoad(() => api.reviewQueue({ state, group, worker }, PAGE, 0), [state, group, worker]);
  const done = () => {
    queue.reload();
    changed();
  };
  return (
    <main class="screen" id="review-queue">
      <div class="toolbar">
        <h2>{t("reviewQueue")}</h2>
        <select
          id="review-state"
          aria-label={t("stateFilter")}
          value={state}
          onChange={(e) => setState(e.currentTarget.value as ReviewState)}
        >
          {vocabularies.ReviewState.map((s) => (
            <option value={s.code} key={s.code}>
              {label(vocabularies.ReviewState, s.code)}
            </option>
          ))}
        </select>
        {standing.role === "coordinator" && (
          <select
            id="review-group"
            aria-label={t("group")}
            value={group}
            onChange={(e) => setGroup(e.currentTarget.value)}
          >
            <option value="">
              {t("group")}: {t("all")}
            </option>
            {workers.groups.map((g) => (
              <option value={g} key={g}>
                {g}
              </option>
            ))}
          </select>
        )}
        <select
          id="review-worker"
          aria-label={t("worker")}
          value={worker}
          onChange={(e) => setWorker(e.currentTarget.value)}
        >
          <option value="">
            {t("worker")}: {t("all")}
          </option>
          {workers.list.map((w) => (
            <option value={w.worker_id ?? ""} key={`${w.group_id}/${w.worker_id}`}>
              {w.worker_name}
            </option>
          ))}
        </select>
        {queue.data && (
          <span class="count" id="review-count">
            {faDigits(queue.data.total)} {t("visitsCount")}
          </span>
        )}
      </div>
      {queue.error && <LoadError error={queue.error} retry={queue.reload} />}
      {queue.data && queue.data.items.length === 0 && <p class="empty">{t("queueEmpty")}</p>}
      {queue.data && (
        <ol class="items">
          {queue.data.items.map((item) => (
            <Item key={item.visit_id} item={item} open={open} done={done} />
          ))}
        </ol>
      )}
    </main>
  );
}
