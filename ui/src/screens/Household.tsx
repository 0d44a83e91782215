// One household: its members (added and corrected in place), its empowerment plan and graduation
// (PlanPanel), its need history, visits with their review, the referral ledger
// (ReferralLedger), conflicting values and history; the banners of a merge (this household was
// merged into another, or the id asked for was merged into this one) and the households merged
// into it, which a coordinator can take out again.
import { useState } from "preact/hooks";
import {
  type AccessEntry,
  api,
  asUiError,
  type ChangeInfo,
  type HouseholdDetails,
  type Identity,
  type Standing,
  type UiError,
  type Visit,
} from "../api";
import { errorText, FieldError, LoadError } from "../components/Errors";
import { ReviewActions, ReviewBadge, ReviewThread } from "../components/Review";
import { useLoad } from "../components/useLoad";
import { faDigits, jalali, jalaliTime, normaliseJalali } from "../format";
import { language, t } from "../i18n";
import { fieldLabel, label, vocabularies } from "../labels";
import { useWorkers } from "../workers";
import { MemberForm } from "./MemberForm";
import { NeedHistoryCard, PlanPanel } from "./PlanPanel";
import { ReferralLedger } from "./ReferralLedger";

function Members({ h, reload, open }: { h: HouseholdDetails; reload: () => void; open: (id: string) => void }) {
  const [adding, setAdding] = useState(false);
  const [editing, setEditing] = useState<string | null>(null);
  return (
    <section class="card">
      <h3>
        {t("members")} ({faDigits(h.members.length)})
        {!adding && (
          <button type="button" class="link" id="add-member" onClick={() => setAdding(true)}>
            {t("newMember")}
          </button>
        )}
      </h3>
      {adding && (
        <MemberForm
          id={h.id}
          open={open}
          done={(saved) => {
            setAdding(false);
            if (saved) reload();
          }}
        />
      )}
      <table id="members">
        <tbody>
          {h.members.map((m) =>
            editing === m.id ? (
              <tr key={m.id}>
                <td colSpan={5}>
                  <MemberForm
                    id={h.id}
                    member={m}
                    done={(saved) => {
                      setEditing(null);
                      if (saved) reload();
                    }}
                  />
                </td>
              </tr>
            ) : (
              <tr key={m.id} data-member={m.id}>
                <td>
                  {m.first_name} {m.last_name}
                </td>
                <td>{label(vocabularies.Relation, m.relation)}</td>
                <td>{faDigits(m.national_id ?? "—")}</td>
                <td>{jalali(m.birth_date)}</td>
                <td>
                  <button type="button" class="link edit-member" onClick={() => setEditing(m.id)}>
                    {t("edit")}
                  </button>
                </td>
              </tr>
            ),
          )}
        </tbody>
      </table>
    </section>
  );
}

/** The worker's correction of a returned visit: the fields the return may be about, changed
 * where the worker changed them, then sent back for review with what was corrected. */
function CorrectVisit({ visit, done }: { visit: Visit; done: () => void }) {
  const initial = {
    date: jalali(visit.date),
    kind: visit.kind as string,
    observations: visit.observations,
    followup: jalali(visit.followup_date),
    needs: Object.fromEntries(Object.entries(visit.needs).map(([d, s]) => [d, String(s)])) as Record<string, string>,
  };
  const [form, setForm] = useState(initial);
  const [comment, setComment] = useState("");
  const [error, setError] = useState<UiError | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    try {
      const changed = (k: "date" | "kind" | "observations" | "followup") => form[k] !== initial[k];
      const needsChanged = JSON.stringify(form.needs) !== JSON.stringify(initial.needs);
      if (changed("date") || changed("kind") || changed("observations") || changed("followup") || needsChanged) {
        await api.editVisit(visit.id, {
          date: changed("date") ? (normaliseJalali(form.date) ?? form.date) : undefined,
          kind: changed("kind") ? form.kind : undefined,
          observations: changed("observations") ? form.observations : undefined,
          // Empty clears the follow-up.
          followup: changed("followup") ? (normaliseJalali(form.followup) ?? form.followup) : undefined,
          needs: needsChanged ? Object.entries(form.needs).map(([d, s]) => `${d}=${s}`) : [],
        });
      }
      await api.resubmitVisit(visit.id, comment);
      setError(null);
      done();
    } catch (err) {
      setError(asUiError(err));
    } finally {
      setBusy(false);
    }
  };
  const setNeed = (domain: string, value: string) => {
    const needs = { ...form.needs };
    if (value === "") delete needs[domain];
    else needs[domain] = value;
    setForm({ ...form, needs });
  };
  return (
    <form class="correct-visit" data-visit={visit.id} onSubmit={submit}>
      <h4>{t("correctResubmit")}</h4>
      <label>
        {fieldLabel("visit_date")}
        <input
          class="correct-date"
          value={form.date}
          onInput={(e) => setForm({ ...form, date: e.currentTarget.value })}
        />
      </label>
      <FieldError error={error} field="visit_date" />
      <label>
        {fieldLabel("visit_kind")}
        <select
          class="correct-kind"
          value={form.kind}
          onChange={(e) => setForm({ ...form, kind: e.currentTarget.value })}
        >
          {vocabularies.VisitKind.map((k) => (
            <option value={k.code} key={k.code}>
              {label(vocabularies.VisitKind, k.code)}
            </option>
          ))}
        </select>
      </label>
      <label>
        {fieldLabel("observations")}
        <textarea
          class="correct-observations"
          rows={3}
          value={form.observations}
          onInput={(e) => setForm({ ...form, observations: e.currentTarget.value })}
        />
      </label>
      <FieldError error={error} field="observations" />
      <fieldset>
        <legend>{t("needs")}</legend>
        {vocabularies.NeedDomain.map((d) => (
          <label class="need" key={d.code}>
            {label(vocabularies.NeedDomain, d.code)}
            <select
              class="correct-need"
              data-need={d.code}
              value={form.needs[d.code] ?? ""}
              onChange={(e) => setNeed(d.code, e.currentTarget.value)}
            >
              <option value="">—</option>
              {[0, 1, 2, 3, 4].map((n) => (
                <option value={n} key={n}>
                  {faDigits(n)}
                </option>
              ))}
            </select>
          </label>
        ))}
      </fieldset>
      <label>
        {fieldLabel("followup_date")}
        <input
          class="correct-followup"
          value={form.followup}
          onInput={(e) => setForm({ ...form, followup: e.currentTarget.value })}
        />
      </label>
      <FieldError error={error} field="followup_date" />
      <label>
        {t("resubmitComment")}
        <textarea
          class="resubmit-comment"
          rows={2}
          value={comment}
          onInput={(e) => setComment(e.currentTarget.value)}
        />
      </label>
      {error && !["visit_date", "observations", "followup_date"].includes(error.field ?? "") && (
        <div class="form-error" role="alert" title={error.message}>
          {errorText(error)}
        </div>
      )}
      <div class="actions">
        <button type="submit" class="resubmit" disabled={busy}>
          {t("correctResubmit")}
        </button>
      </div>
    </form>
  );
}

function Visits({
  h,
  standing,
  identity,
  reload,
}: {
  h: HouseholdDetails;
  standing: Standing;
  identity: Identity;
  reload: () => void;
}) {
  const workers = useWorkers();
  const reviewer = standing.role !== "field";
  return (
    <section class="card">
      <h3>
        {t("visits")} ({faDigits(h.visits.length)})
      </h3>
      <ol class="timeline" id="visits">
        {[...h.visits].reverse().map((v) => {
          const state = reviewState(v);
          return (
            <li key={v.id} data-visit={v.id} data-review={state}>
              <strong>{jalali(v.date)}</strong> — {label(vocabularies.VisitKind, v.kind)} — {workers.name(v.worker_id)}{" "}
              <ReviewBadge state={state} />
              <div>
                {Object.entries(v.needs)
                  .map(([d, s]) => `${label(vocabularies.NeedDomain, d)}: ${faDigits(s ?? "")}`)
                  .join("، ")}
              </div>
              {v.observations && <p>{v.observations}</p>}
              {v.followup_date && (
                <div>
                  {fieldLabel("followup_date")}: {jalali(v.followup_date)}
                </div>
              )}
              <ReviewThread visit={v} />
              {reviewer && state === "awaiting" && <ReviewActions visit={v.id} done={reload} />}
              {state === "returned" && v.worker_id === identity.worker_id && <CorrectVisit visit={v} done={reload} />}
            </li>
          );
        })}
      </ol>
    </section>
  );
}

/** Where a visit stands in review: what its latest step says (as `Visit::review_state`). */
function reviewState(v: Visit): "awaiting" | "approved" | "returned" {
  const last = v.review.at(-1)?.action;
  if (last === "approved") return "approved";
  if (last === "returned") return "returned";
  return "awaiting";
}

/** The merge banners: this household merged into another (whose group now handles it), or the
 * id asked for merged into this one. */
function MergeBanners({ h }: { h: HouseholdDetails }) {
  return (
    <>
      {h.merged && (
        <p class="banner" id="merged-banner" role="status">
          {t("mergedInto")} (<code dir="ltr">{h.merged.survivor.slice(0, 8)}</code>)
          {h.merged.survivor_group && (
            <>
              ؛ {t("handledBy")}{" "}
              <strong>
                <bdi>{h.merged.survivor_group}</bdi>
              </strong>
            </>
          )}
          . {t("mergedIntoHint")}
        </p>
      )}
      {h.redirected_from && (
        <p class="banner" id="redirect-banner" role="status">
          {t("redirected")} (<code dir="ltr">{h.redirected_from.slice(0, 8)}</code>)
        </p>
      )}
    </>
  );
}

/** The households merged into this one; a coordinator can undo each merge. */
function MergedFrom({ h, standing, reload }: { h: HouseholdDetails; standing: Standing; reload: () => void }) {
  const workers = useWorkers();
  const [error, setError] = useState<UiError | null>(null);
  if (h.merged_from.length === 0) return null;
  const undo = async (other: string) => {
    try {
      await api.unmergeHouseholds(h.id, other);
      setError(null);
      reload();
    } catch (e) {
      setError(asUiError(e));
    }
  };
  return (
    <section class="card" id="merged-from">
      <h3>{t("mergedFrom")}</h3>
      <ul>
        {h.merged_from.map((a) => (
          <li key={a.id} data-id={a.id}>
            {a.head_name} — {t("group")}: <bdi>{a.assigned_group ?? "—"}</bdi> — {t("registeredBy")}{" "}
            {workers.name(a.created_by)} ({jalali(a.created_at.slice(0, 10))}) — {t("mergedOn")} {jalaliTime(a.link.at)}{" "}
            {t("by")} {workers.name(a.link.by)}
            {standing.role === "coordinator" && (
              <button type="button" class="link undo-merge" onClick={() => undo(a.id)}>
                {t("undoMerge")}
              </button>
            )}
          </li>
        ))}
      </ul>
      {error && (
        <p class="form-error" role="alert" title={error.message}>
          {errorText(error)}
        </p>
      )}
    </section>
  );
}

/** An author's name: from the server's records when verified, else the change's own claim, marked. */
function author(c: { worker_name: string; verified: boolean }): string {
  return c.verified ? c.worker_name : `${c.worker_name} (${t("unverified")})`;
}

function History({ changes }: { changes: ChangeInfo[] }) {
  return (
    <section class="card">
      <h3>{t("history")}</h3>
      <ul class="history">
        {changes.map((c) => (
          <li key={c.hash}>
            {jalaliTime(c.time) || "—"} — {author(c)} — {label(vocabularies.Action, c.action)}
          </li>
        ))}
      </ul>
    </section>
  );
}

/** Who pushed, pulled or reassigned the household (the server's audit), asked for on demand:
 * it needs the network, and only supervisors and coordinators may read it. */
function Access({ id }: { id: string }) {
  const allowed = useLoad(() => api.mayReadAccessHistory(), []);
  const [entries, setEntries] = useState<AccessEntry[] | null>(null);
  const [error, setError] = useState<UiError | null>(null);
  if (!allowed.data) return null;
  const load = () => {
    setError(null);
    api.householdAccess(id).then(setEntries, (e: UiError) => setError(e));
  };
  return (
    <section class="card" id="access-history">
      <h3>
        {t("accessHistory")}
        {entries === null && (
          <button type="button" class="link" id="show-access" onClick={load}>
            {t("show")}
          </button>
        )}
      </h3>
      {error && <LoadError error={error} retry={load} />}
      {entries && entries.length === 0 && <p>{t("nothingYet")}</p>}
      {entries && (
        <ul class="history">
          {entries.map((e) => (
            <li key={String(e.seq)}>
              {jalaliTime(e.at)} — {e.worker_name ?? e.device_id ?? "—"} — {label(vocabularies.AuditAction, e.action)}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

export function HouseholdPage({
  id,
  standing,
  identity,
  back,
  open,
  visit,
  changed,
}: {
  id: string;
  standing: Standing;
  identity: Identity;
  back: () => void;
  open: (id: string) => void;
  visit: () => void;
  /** Tells the navigation something it counts changed (a visit reviewed or resubmitted). */
  changed: () => void;
}) {
  const loaded = useLoad(() => Promise.all([api.household(id), api.history(id)]), [id]);
  const reload = () => {
    loaded.reload();
    changed();
  };
  if (loaded.error) {
    return (
      <main class="card" id="household-error">
        <LoadError error={loaded.error} retry={loaded.reload} />
        <button type="button" class="secondary" onClick={back}>
          {t("back")}
        </button>
      </main>
    );
  }
  if (!loaded.data) return <main class="card">…</main>;
  const [h, history] = loaded.data;
  const head = h.members.find((m) => m.id === h.head_member_id);
  const conflicted = new Set(h.conflicts.map((c) => c.path));
  return (
    <main class="household" id="household-page" data-id={h.id}>
      <div class="toolbar">
        <button type="button" class="secondary" onClick={back}>
          {t("back")}
        </button>
        <h2 id="household-head">{head ? `${head.first_name} ${head.last_name}` : ""}</h2>
        {h.status === "graduated" && (
          <span class="badge graduated" data-testid="graduated-badge">
            {label(vocabularies.HouseholdStatus, "graduated")}
          </span>
        )}
        {!h.merged && (
          <button type="button" id="new-visit" onClick={visit}>
            {t("newVisit")}
          </button>
        )}
      </div>
      <MergeBanners h={h} />
      <section class="card">
        <p>
          {fieldLabel("district")}: {h.district} — {fieldLabel("address")}: {h.address}
        </p>
        <p>
          {fieldLabel("phone")}: <span dir="ltr">{faDigits(h.phone ?? "—")}</span>
          {conflicted.has("household.phone") && <span class="badge warn">{t("conflict")}</span>}
        </p>
        {h.conflicts.map((c) => (
          <div class="conflict" key={c.path} data-path={c.path}>
            <strong>{language() === "fa" ? c.label_fa : c.label_en}</strong>:{" "}
            {c.values.map((v, i) => (
              // Each value isolated, so a phone written +98… keeps its order in a Persian line.
              <span key={`${v.device_id}/${v.value}`}>
                {i > 0 && " ⟷ "}
                <bdi>{faDigits(v.value)}</bdi> ({author(v)}، {jalaliTime(v.time)})
              </span>
            ))}
          </div>
        ))}
      </section>
      <Members h={h} reload={loaded.reload} open={open} />
      <MergedFrom h={h} standing={standing} reload={reload} />
      <PlanPanel h={h} standing={standing} reload={reload} />
      <NeedHistoryCard h={h} />
      <Visits h={h} standing={standing} identity={identity} reload={reload} />
      <ReferralLedger h={h} reload={reload} />
      <History changes={history} />
      <Access id={h.id} />
    </main>
  );
}
