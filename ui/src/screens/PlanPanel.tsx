// A household's empowerment plan: goals by domain with their steps (what, who, which partner, by
// when, where each stands; overdue ones in red), forms to add a goal and a step (the partner
// chosen from the directory, never typed), and the graduation box: what is still unmet, or
// "graduation proposed" with the confirmation a supervisor or coordinator gives; a graduated
// household's re-entry. Also the need history: the trend badge and a small chart of the scores.
import { useState } from "preact/hooks";
import {
  api,
  asUiError,
  type Goal,
  type HouseholdDetails,
  type Partner,
  type PlanView,
  type Standing,
  type Step,
  type UiError,
} from "../api";
import type { Field } from "../bindings/Field";
import type { GoalDomain } from "../bindings/GoalDomain";
import type { PartnerKind } from "../bindings/PartnerKind";
import { errorText, FieldError, FormError, LoadError } from "../components/Errors";
import { ReportChart } from "../components/ReportChart";
import { useLoad } from "../components/useLoad";
import { faDigits, jalali, normaliseJalali } from "../format";
import { both, type Key, language, t } from "../i18n";
import { fieldLabel, label, vocabularies } from "../labels";
import { useWorkers } from "../workers";

function invalid(field: Field, key: Key): UiError {
  return { code: "invalid", field, ...both(key) };
}

/** A partner as lists show it: the organisation and its branch. */
export function partnerName(p: Partner): string {
  return p.branch ? `${p.name} — ${p.branch}` : p.name;
}

/** The partners a new step or referral may name: active ones of `kind`, by name. */
export function partnersOf(partners: readonly Partner[], kind: PartnerKind): Partner[] {
  return partners
    .filter((p) => p.active && p.kind === kind)
    .sort((a, b) => partnerName(a).localeCompare(partnerName(b), "fa"));
}

/** The kind of partner a goal's steps most likely go to, for the step form's first choice. */
function likelyPartnerKind(domain: GoalDomain): PartnerKind {
  if (domain === "income") return "bank";
  if (domain === "employment" || domain === "skills") return "training_centre";
  if (domain === "health") return "clinic";
  return "other";
}

/** Whether a step is still to be done (planned or in progress). */
export function isOpen(step: Step): boolean {
  const status = step.progress.at(-1)?.status ?? "planned";
  return status === "planned" || status === "in_progress";
}

function stepStatus(step: Step) {
  return step.progress.at(-1)?.status ?? "planned";
}

/** A partner select: its kind first, then the active partners of that kind. */
export function PartnerSelect({
  partners,
  kind,
  onKind,
  value,
  onChange,
  testid,
  kinds = vocabularies.PartnerKind.map((k) => k.code),
}: {
  partners: readonly Partner[];
  kind: PartnerKind | null;
  /** Absent when the kind is fixed (a referral's kind decides it). */
  onKind?: (kind: PartnerKind) => void;
  value: string;
  onChange: (code: string) => void;
  testid: string;
  kinds?: readonly PartnerKind[];
}) {
  const offered = kind ? partnersOf(partners, kind) : [];
  return (
    <>
      {onKind && (
        <label>
          {t("partnerKind")}
          <select
            data-testid={`${testid}-kind`}
            value={kind ?? ""}
            onChange={(e) => {
              onKind(e.currentTarget.value as PartnerKind);
              onChange("");
            }}
          >
            {kinds.map((k) => (
              <option value={k} key={k}>
                {label(vocabularies.PartnerKind, k)}
              </option>
            ))}
          </select>
        </label>
      )}
      <label>
        {fieldLabel("partner")}
        <select data-testid={testid} value={value} onChange={(e) => onChange(e.currentTarget.value)}>
          <option value="">{t("choose")}</option>
          {offered.map((p) => (
            <option value={p.code} key={p.code}>
              {partnerName(p)}
            </option>
          ))}
        </select>
      </label>
      {partners.length === 0 && <p class="hint">{t("noPartners")}</p>}
    </>
  );
}

const GOAL_FIELDS: readonly Field[] = ["goal_domain", "goal_title"];

function GoalForm({ household, done }: { household: string; done: (saved: boolean) => void }) {
  const [domain, setDomain] = useState<GoalDomain>("income");
  const [title, setTitle] = useState("");
  const [error, setError] = useState<UiError | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    try {
      await api.addGoal(household, { domain, title });
      done(true);
    } catch (err) {
      setError(asUiError(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="goal-form" onSubmit={submit}>
      <label>
        {fieldLabel("goal_domain")}
        <select
          data-testid="goal-domain"
          value={domain}
          onChange={(e) => setDomain(e.currentTarget.value as GoalDomain)}
        >
          {vocabularies.GoalDomain.map((d) => (
            <option value={d.code} key={d.code}>
              {label(vocabularies.GoalDomain, d.code)}
            </option>
          ))}
        </select>
      </label>
      <FieldError error={error} field="goal_domain" />
      <label>
        {fieldLabel("goal_title")}
        <input data-testid="goal-title" value={title} onInput={(e) => setTitle(e.currentTarget.value)} />
      </label>
      <FieldError error={error} field="goal_title" />
      <FormError error={error} fields={GOAL_FIELDS} />
      <div class="actions">
        <button type="submit" data-testid="goal-save" disabled={busy}>
          {t("save")}
        </button>
        <button type="button" class="secondary" onClick={() => done(false)}>
          {t("cancel")}
        </button>
      </div>
    </form>
  );
}

const STEP_FIELDS: readonly Field[] = ["step_what", "step_owner", "partner", "target_date"];

function StepForm({
  household,
  goal,
  partners,
  done,
}: {
  household: string;
  goal: Goal;
  partners: readonly Partner[];
  done: (saved: boolean) => void;
}) {
  const [what, setWhat] = useState("");
  const [owner, setOwner] = useState("worker");
  const [kind, setKind] = useState<PartnerKind>(likelyPartnerKind(goal.domain));
  const [partner, setPartner] = useState("");
  const [target, setTarget] = useState("");
  const [error, setError] = useState<UiError | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const byPartner = owner === "partner";
    if (byPartner && !partner) return setError(invalid("partner", "partnerRequired"));
    const date = target.trim() ? normaliseJalali(target) : "";
    if (date === null) return setError(invalid("target_date", "badTargetDate"));
    setBusy(true);
    try {
      await api.addStep(household, goal.id, {
        what,
        owner,
        // A partner is named only when a partner carries the step out (the store refuses it
        // otherwise).
        partner: byPartner ? partner : undefined,
        target_date: date || undefined,
      });
      done(true);
    } catch (err) {
      setError(asUiError(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="step-form" onSubmit={submit}>
      <label>
        {fieldLabel("step_what")}
        <input data-testid="step-what" value={what} onInput={(e) => setWhat(e.currentTarget.value)} />
      </label>
      <FieldError error={error} field="step_what" />
      <label>
        {fieldLabel("step_owner")}
        <select data-testid="step-owner" value={owner} onChange={(e) => setOwner(e.currentTarget.value)}>
          {vocabularies.StepOwner.map((o) => (
            <option value={o.code} key={o.code}>
              {label(vocabularies.StepOwner, o.code)}
            </option>
          ))}
        </select>
      </label>
      {owner === "partner" && (
        <PartnerSelect
          partners={partners}
          kind={kind}
          onKind={setKind}
          value={partner}
          onChange={setPartner}
          testid="step-partner"
        />
      )}
      <FieldError error={error} field="partner" />
      <label>
        {fieldLabel("target_date")}
        <input
          data-testid="step-target"
          placeholder={faDigits("1405/01/15")}
          value={target}
          onInput={(e) => setTarget(e.currentTarget.value)}
        />
      </label>
      <FieldError error={error} field="target_date" />
      <FormError error={error} fields={STEP_FIELDS} />
      <div class="actions">
        <button type="submit" data-testid="step-save" disabled={busy}>
          {t("save")}
        </button>
        <button type="button" class="secondary" onClick={() => done(false)}>
          {t("cancel")}
        </button>
      </div>
    </form>
  );
}

function Steps({ goal, plan }: { goal: Goal; plan: PlanView }) {
  const overdue = new Set(plan.overdue_steps);
  const names = new Map(plan.partners.map((p) => [p.code, partnerName(p)]));
  if (goal.steps.length === 0) return null;
  return (
    <table class="steps">
      <thead>
        <tr>
          <th>{fieldLabel("step_what")}</th>
          <th>{fieldLabel("step_owner")}</th>
          <th>{fieldLabel("partner")}</th>
          <th>{fieldLabel("target_date")}</th>
          <th>{fieldLabel("step_status")}</th>
        </tr>
      </thead>
      <tbody>
        {goal.steps.map((s) => {
          const late = overdue.has(s.id);
          const latest = s.progress.at(-1);
          return (
            <tr key={s.id} data-testid={`step-${s.id}`} data-status={stepStatus(s)} class={late ? "overdue" : ""}>
              <td>
                {s.what}
                {latest?.comment && <div class="hint">{latest.comment}</div>}
              </td>
              <td>{label(vocabularies.StepOwner, s.owner)}</td>
              <td>
                <bdi>{s.partner ? (names.get(s.partner) ?? s.partner) : ""}</bdi>
              </td>
              <td>{jalali(s.target_date)}</td>
              <td>
                {label(vocabularies.StepStatus, stepStatus(s))}
                {late && <span class="badge stalled">{t("stepOverdue")}</span>}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/** The criteria, and for a supervisor or coordinator a form to change them. */
function Criteria({ h, plan, reviewer, done }: { h: string; plan: PlanView; reviewer: boolean; done: () => void }) {
  const [editing, setEditing] = useState(false);
  const [threshold, setThreshold] = useState(String(plan.criteria.threshold));
  const [visits, setVisits] = useState(String(plan.criteria.visits));
  const [error, setError] = useState<UiError | null>(null);
  const save = async (e: Event) => {
    e.preventDefault();
    try {
      await api.setGraduationCriteria(h, threshold, visits);
      setEditing(false);
      setError(null);
      done();
    } catch (err) {
      setError(asUiError(err));
    }
  };
  return (
    <div class="criteria">
      <p>
        {fieldLabel("graduation_threshold")}: {faDigits(plan.criteria.threshold)} — {fieldLabel("graduation_visits")}:{" "}
        {faDigits(plan.criteria.visits)}
        {plan.recent_highest.length > 0 && (
          <>
            {" "}
            — {t("recentNeeds")}: {faDigits(plan.recent_highest.join("، "))}
          </>
        )}
        {reviewer && !editing && (
          <button type="button" class="link" data-testid="criteria-edit" onClick={() => setEditing(true)}>
            {t("changeCriteria")}
          </button>
        )}
      </p>
      {editing && (
        <form class="criteria-form" onSubmit={save}>
          <label>
            {fieldLabel("graduation_threshold")}
            <input
              data-testid="criteria-threshold"
              value={threshold}
              onInput={(e) => setThreshold(e.currentTarget.value)}
            />
          </label>
          <FieldError error={error} field="graduation_threshold" />
          <label>
            {fieldLabel("graduation_visits")}
            <input data-testid="criteria-visits" value={visits} onInput={(e) => setVisits(e.currentTarget.value)} />
          </label>
          <FieldError error={error} field="graduation_visits" />
          <FormError error={error} fields={["graduation_threshold", "graduation_visits"]} />
          <div class="actions">
            <button type="submit" data-testid="criteria-save">
              {t("save")}
            </button>
            <button type="button" class="secondary" onClick={() => setEditing(false)}>
              {t("cancel")}
            </button>
          </div>
        </form>
      )}
    </div>
  );
}

/** A reason and a button: what confirming a graduation and a re-entry both ask for. */
function ReasonAction({
  prefix,
  action,
  act,
}: {
  prefix: "graduate" | "reenter";
  action: string;
  act: (reason: string) => Promise<unknown>;
}) {
  const [reason, setReason] = useState("");
  const [error, setError] = useState<UiError | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!reason.trim()) return setError(invalid("reason", "reasonRequired"));
    setBusy(true);
    try {
      await act(reason.trim());
      setError(null);
    } catch (err) {
      setError(asUiError(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="reason-action" onSubmit={submit}>
      <label>
        {t("graduationReason")}
        <textarea
          data-testid={`${prefix}-reason`}
          rows={2}
          value={reason}
          onInput={(e) => setReason(e.currentTarget.value)}
        />
      </label>
      {error && (
        <p class={error.field ? "field-error" : "form-error"} role="alert" title={error.message}>
          {errorText(error)}
        </p>
      )}
      <div class="actions">
        <button type="submit" data-testid={`${prefix}-confirm`} disabled={busy}>
          {action}
        </button>
      </div>
    </form>
  );
}

function GraduationBox({
  h,
  plan,
  reviewer,
  done,
}: {
  h: HouseholdDetails;
  plan: PlanView;
  reviewer: boolean;
  done: () => void;
}) {
  const workers = useWorkers();
  const last = h.status_events.at(-1);
  if (h.status === "graduated") {
    return (
      <div class="graduation" data-testid="graduation-box" data-state="graduated">
        <h4>{t("graduation")}</h4>
        <p>
          <span class="badge graduated">{label(vocabularies.HouseholdStatus, "graduated")}</span>
          {last && (
            <>
              {" "}
              {t("graduatedOn")} {jalali(last.at)} {t("by")} {workers.name(last.worker_id)}: {last.reason}
            </>
          )}
        </p>
        {reviewer && (
          <ReasonAction prefix="reenter" action={t("reenter")} act={(r) => api.reenter(h.id, r).then(done)} />
        )}
      </div>
    );
  }
  const unmet = language() === "fa" ? plan.unmet_fa : plan.unmet_en;
  return (
    <div class="graduation" data-testid="graduation-box" data-state={plan.proposed ? "proposed" : "unmet"}>
      <h4>{t("graduation")}</h4>
      {last?.status === "active" && (
        <p class="hint">
          {t("reenteredOn")} {jalali(last.at)}: {last.reason}
        </p>
      )}
      <Criteria h={h.id} plan={plan} reviewer={reviewer} done={done} />
      {plan.proposed ? (
        <>
          <p class="proposed" role="status">
            {t("graduationProposed")}
          </p>
          {reviewer ? (
            <ReasonAction
              prefix="graduate"
              action={t("confirmGraduation")}
              act={(r) => api.graduate(h.id, r).then(done)}
            />
          ) : (
            <p class="hint">{t("graduationAwaits")}</p>
          )}
        </>
      ) : (
        <>
          <p>{t("graduationUnmet")}</p>
          <ul class="unmet">
            {unmet.map((u) => (
              <li key={u}>{u}</li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

function GoalView({
  goal,
  plan,
  partners,
  household,
  canEdit,
  done,
}: {
  goal: Goal;
  plan: PlanView;
  partners: readonly Partner[];
  household: string;
  canEdit: boolean;
  done: () => void;
}) {
  const [adding, setAdding] = useState(false);
  const met =
    goal.steps.length > 0 && goal.steps.every((s) => !isOpen(s)) && goal.steps.some((s) => stepStatus(s) === "done");
  return (
    <li class="goal" data-goal={goal.id}>
      <strong>{goal.title}</strong>
      {met && <span class="badge goal-met">{t("goalMet")}</span>}
      {canEdit && !adding && (
        <button type="button" class="link" data-testid={`step-add-${goal.id}`} onClick={() => setAdding(true)}>
          {t("addStep")}
        </button>
      )}
      <Steps goal={goal} plan={plan} />
      {adding && (
        <StepForm
          household={household}
          goal={goal}
          partners={partners}
          done={(saved) => {
            setAdding(false);
            if (saved) done();
          }}
        />
      )}
    </li>
  );
}

/** The plan of household `h`; `reload` loads the household again after a change (the plan,
 * which depends on it, follows). */
export function PlanPanel({ h, standing, reload }: { h: HouseholdDetails; standing: Standing; reload: () => void }) {
  // Loaded again whenever the household is (a visit may have ticked a step).
  const loaded = useLoad(() => Promise.all([api.plan(h.id), api.partners()]), [h]);
  const [adding, setAdding] = useState(false);
  const reviewer = standing.role !== "field";
  const canEdit = !h.merged && h.status !== "graduated";
  if (loaded.error) {
    return (
      <section class="card" data-testid="plan-panel">
        <h3>{t("plan")}</h3>
        <LoadError error={loaded.error} retry={loaded.reload} />
      </section>
    );
  }
  if (!loaded.data) return null;
  const [plan, partners] = loaded.data;
  // Goals by domain, in the vocabulary's order.
  const domains = vocabularies.GoalDomain.map((d) => d.code).filter((d) => plan.goals.some((g) => g.domain === d));
  return (
    <section class="card plan" data-testid="plan-panel">
      <h3>
        {t("plan")}
        {plan.goals.length > 0 && (
          <span class="count">
            {" "}
            ({faDigits(plan.goals_met)} {t("goalsMet")} {faDigits(plan.goals.length)})
          </span>
        )}
        {canEdit && !adding && (
          <button type="button" class="link" data-testid="goal-add" onClick={() => setAdding(true)}>
            {t("addGoal")}
          </button>
        )}
      </h3>
      {adding && (
        <GoalForm
          household={h.id}
          done={(saved) => {
            setAdding(false);
            if (saved) reload();
          }}
        />
      )}
      {plan.goals.length === 0 && !adding && <p class="empty">{t("noGoals")}</p>}
      {domains.map((d) => (
        <div class="domain" key={d} data-domain={d}>
          <h4>{label(vocabularies.GoalDomain, d)}</h4>
          <ul class="goals">
            {plan.goals
              .filter((g) => g.domain === d)
              .map((g) => (
                <GoalView
                  key={g.id}
                  goal={g}
                  plan={plan}
                  partners={partners}
                  household={h.id}
                  canEdit={canEdit}
                  done={reload}
                />
              ))}
          </ul>
        </div>
      ))}
      {!h.merged && <GraduationBox h={h} plan={plan} reviewer={reviewer} done={reload} />}
    </section>
  );
}

/** The household's need scores over time: the trend badge and a small chart. */
export function NeedHistoryCard({ h }: { h: HouseholdDetails }) {
  const loaded = useLoad(() => api.needHistory(h.id), [h]);
  if (loaded.error) {
    return (
      <section class="card" data-testid="need-history">
        <h3>{t("needHistory")}</h3>
        <LoadError error={loaded.error} retry={loaded.reload} />
      </section>
    );
  }
  if (!loaded.data) return null;
  const history = loaded.data;
  return (
    <section class="card need-history" data-testid="need-history">
      <h3>
        {t("needHistory")}
        <span class={`badge trend trend-${history.trend}`} data-testid="need-trend" data-trend={history.trend}>
          {label(vocabularies.Trend, history.trend)}
        </span>
      </h3>
      {history.points.length === 0 ? (
        <p class="empty">{t("noAssessments")}</p>
      ) : (
        <div data-testid="need-chart">
          <ReportChart table={history.chart} compact />
        </div>
      )}
    </section>
  );
}
