// Each worker's caseload (households, visits this month, overdue follow-ups, returned visits,
// visits awaiting review, high need), and reassignment: choose a worker's households, then
// another worker of the group (a coordinator: another group too), see what would move, and
// move it. The move goes through the server (`POST /v1/assignments`), which checks the role
// and scope, logs it and moves each household's whole history.
import { useState } from "preact/hooks";
import {
  api,
  asUiError,
  type Caseload,
  type HouseholdSummary,
  type Reassignment,
  type Standing,
  type UiError,
} from "../api";
import { errorText, LoadError } from "../components/Errors";
import { useLoad } from "../components/useLoad";
import { faDigits } from "../format";
import { t } from "../i18n";
import { useWorkers } from "../workers";

/** A caseload row's key: its group and worker (none: the group as a whole). */
function keyOf(l: { group_id: string | null; worker_id: string | null }): string {
  return `${l.group_id ?? ""}/${l.worker_id ?? ""}`;
}

function who(l: Caseload): string {
  return l.worker_name ?? l.worker_id ?? t("wholeGroup");
}

/** A target "group/worker" as the select holds it. */
function parseTarget(target: string): { group: string | null; worker: string | null } {
  const [group, worker] = target.split("/");
  return { group: group || null, worker: worker || null };
}

function Reassign({
  standing,
  from,
  households,
  open,
  done,
}: {
  standing: Standing;
  from: Caseload;
  households: HouseholdSummary[];
  open: (id: string) => void;
  done: () => void;
}) {
  const workers = useWorkers();
  const [chosen, setChosen] = useState<Set<string>>(new Set());
  const [target, setTarget] = useState("");
  const [preview, setPreview] = useState<Reassignment | null>(null);
  const [result, setResult] = useState<Reassignment | null>(null);
  const [error, setError] = useState<UiError | null>(null);
  const [busy, setBusy] = useState(false);
  const names = new Map(households.map((h) => [h.id, h.head_name]));
  // A supervisor moves households between the group's workers; a coordinator between groups too.
  // (A worker of no group, such as the coordinator, holds no caseload.)
  const targets = workers.list.filter(
    (w) => w.group_id && keyOf(w) !== keyOf(from) && (standing.role === "coordinator" || w.group_id === from.group_id),
  );
  const groups = standing.role === "coordinator" ? workers.groups.filter((g) => g !== from.group_id) : [];
  const toggle = (id: string) => {
    const next = new Set(chosen);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setChosen(next);
    setPreview(null);
  };
  const run = async (dryRun: boolean) => {
    const { group, worker } = parseTarget(target);
    setBusy(true);
    try {
      const answer = await api.assign([...chosen], group, worker, dryRun);
      setError(null);
      if (dryRun) setPreview(answer);
      else {
        setPreview(null);
        setResult(answer);
        setChosen(new Set());
        done();
      }
    } catch (e) {
      setError(asUiError(e));
    } finally {
      setBusy(false);
    }
  };
  const place = (p: { group_id: string | null; worker_id: string | null }) =>
    p.worker_id ? workers.name(p.worker_id) : `${t("wholeGroup")} ${p.group_id ?? ""}`;
  return (
    <section class="card" id="reassign">
      <h3>
        {t("reassign")}: {who(from)}
      </h3>
      {households.length === 0 ? (
        <p class="empty">{t("nothing")}</p>
      ) : (
        <>
          <label class="check">
            <input
              type="checkbox"
              id="select-all"
              checked={chosen.size === households.length}
              onChange={(e) => {
                setChosen(e.currentTarget.checked ? new Set(households.map((h) => h.id)) : new Set());
                setPreview(null);
              }}
            />
            {t("selectAll")}
          </label>
          <ul class="pick" id="reassign-households">
            {households.map((h) => (
              <li key={h.id}>
                <label class="check">
                  <input
                    type="checkbox"
                    class="pick-household"
                    data-id={h.id}
                    checked={chosen.has(h.id)}
                    onChange={() => toggle(h.id)}
                  />
                  {h.head_name} — {h.district}
                </label>
                <button type="button" class="link" onClick={() => open(h.id)}>
                  {t("openHousehold")}
                </button>
              </li>
            ))}
          </ul>
        </>
      )}
      <div class="toolbar">
        <label>
          {t("moveTo")}
          <select
            id="reassign-target"
            value={target}
            onChange={(e) => {
              setTarget(e.currentTarget.value);
              setPreview(null);
            }}
          >
            <option value="">—</option>
            {targets.map((w) => (
              <option value={`${w.group_id ?? ""}/${w.worker_id ?? ""}`} key={keyOf(w)}>
                {w.worker_name} ({w.group_id})
              </option>
            ))}
            {groups.map((g) => (
              <option value={`${g}/`} key={g}>
                {t("wholeGroup")} {g}
              </option>
            ))}
          </select>
        </label>
        <button
          type="button"
          id="reassign-preview"
          class="secondary"
          disabled={busy || chosen.size === 0 || !target}
          onClick={() => run(true)}
        >
          {t("preview")}
        </button>
        <button type="button" id="reassign-apply" disabled={busy || !preview} onClick={() => run(false)}>
          {t("applyReassign")}
        </button>
      </div>
      {error && (
        <p class="form-error" role="alert" title={error.message}>
          {errorText(error)}
        </p>
      )}
      {preview && (
        <div id="reassign-preview-list">
          <p>
            {faDigits(preview.moved)} {t("willMove")}، {faDigits(preview.unchanged)} {t("unchangedN")}
          </p>
          <ul>
            {preview.moves.map((m) => (
              <li key={m.household} data-id={m.household}>
                {names.get(m.household) ?? m.household.slice(0, 8)}: {place(m.from)} ← {place(m.to)}
              </li>
            ))}
          </ul>
        </div>
      )}
      {result && (
        <p id="reassign-result" role="status">
          {faDigits(result.moved)} {t("movedN")}
        </p>
      )}
    </section>
  );
}

export function Caseloads({ standing, open }: { standing: Standing; open: (id: string) => void }) {
  const loads = useLoad(() => api.caseloads(), []);
  const [selected, setSelected] = useState<Caseload | null>(null);
  const households = useLoad(async () => {
    if (!selected) return [];
    const page = await api.list(
      {
        group: selected.group_id ?? undefined,
        worker: selected.worker_id ?? undefined,
        overdue: false,
        conflicted: false,
      },
      500,
      0,
    );
    // The group's row: only households assigned to the group as a whole.
    return selected.worker_id ? page.items : page.items.filter((h) => !h.assigned_worker);
  }, [selected && keyOf(selected)]);
  const reload = () => {
    loads.reload();
    households.reload();
  };
  return (
    <main class="screen" id="caseloads">
      <div class="toolbar">
        <h2>{t("navCaseloads")}</h2>
      </div>
      {loads.error && <LoadError error={loads.error} retry={loads.reload} />}
      {loads.data && (
        <div class="card">
          <table id="caseload-table">
            <thead>
              <tr>
                <th>{t("worker")}</th>
                <th>{t("group")}</th>
                <th>{t("colHouseholds")}</th>
                <th>{t("colVisitsMonth")}</th>
                <th>{t("colOverdue")}</th>
                <th>{t("colReturned")}</th>
                <th>{t("colAwaiting")}</th>
                <th>{t("colHighNeed")}</th>
              </tr>
            </thead>
            <tbody>
              {loads.data.map((l) => (
                <tr
                  key={keyOf(l)}
                  data-worker={l.worker_id ?? ""}
                  class={selected && keyOf(selected) === keyOf(l) ? "selected" : ""}
                >
                  <td>
                    <button type="button" class="link choose-worker" onClick={() => setSelected(l)}>
                      {who(l)}
                    </button>
                  </td>
                  <td>{l.group_id ?? "—"}</td>
                  <td>{faDigits(l.households)}</td>
                  <td>{faDigits(l.visits_this_month)}</td>
                  <td class={l.overdue_followups > 0 ? "overdue" : ""}>{faDigits(l.overdue_followups)}</td>
                  <td>{faDigits(l.returned_visits)}</td>
                  <td>{faDigits(l.awaiting_review)}</td>
                  <td>{faDigits(l.high_need)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <p class="hint">{t("caseloadsHint")}</p>
        </div>
      )}
      {selected && households.error && <LoadError error={households.error} retry={households.reload} />}
      {selected && households.data && (
        <Reassign
          key={keyOf(selected)}
          standing={standing}
          from={selected}
          households={households.data}
          open={open}
          done={reload}
        />
      )}
    </main>
  );
}
