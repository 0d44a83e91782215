// Recording a visit: date, kind, observations, needs, progress on the plan's open steps (no
// change, in progress, done or dropped, with a comment), an optional referral to a partner of
// the directory, and a follow-up. The form checks dates itself before sending (the store checks
// again and has the last word), and keeps a draft on every keystroke.
import { useState } from "preact/hooks";
import { api, asUiError, type Partner, type PlanView, type ProgressText, type UiError } from "../api";
import type { Field } from "../bindings/Field";
import type { ReferralKind } from "../bindings/ReferralKind";
import { FieldError, FormError, LoadError } from "../components/Errors";
import { DateInput } from "../components/JalaliPicker";
import { useLoad } from "../components/useLoad";
import { clearDraft, drafts, loadDraft, saveDraft } from "../drafts";
import { faDigits, jalali, jalaliDisplay, normaliseJalali, todayJalali } from "../format";
import { both, type Key, t } from "../i18n";
import { fieldLabel, label, vocabularies } from "../labels";
import { isOpen, PartnerSelect } from "./PlanPanel";
import { partnerKindFor } from "./ReferralLedger";

export interface VisitDraft {
  date: string;
  kind: string;
  observations: string;
  followup: string;
  needs: Record<string, number>;
  referralKind: string;
  /** The partner's code in the directory. */
  referralPartner: string;
  /** Free text, only for an `other` referral to somewhere not in the directory. */
  referralTarget: string;
  /** Progress on plan steps by step id: a new status (empty: no change) and a comment. */
  progress: Record<string, StepChoice>;
  /** The visit's id once it is saved while its referral was refused: saving again then sends
   * the referral only, never the visit a second time. */
  savedVisit?: string;
}

export interface StepChoice {
  status: string;
  comment: string;
}

/** The choices a visit offers for an open step (besides "no change"). */
const STEP_CHOICES = ["in_progress", "done", "dropped"] as const;

const FIELDS: readonly Field[] = [
  "visit_date",
  "visit_kind",
  "observations",
  "need_score",
  "followup_date",
  "target",
  "partner",
  "step",
  "step_status",
  "comment",
];

function invalid(field: Field, key: Key): UiError {
  return { code: "invalid", field, ...both(key) };
}

/** The form's own checks: the dates as typed. Returns the dates normalised, or the error. */
export function checkVisitDates(draft: VisitDraft): { date: string; followup: string } | UiError {
  const date = normaliseJalali(draft.date);
  if (!date) return invalid("visit_date", "badVisitDate");
  const followup = draft.followup.trim() ? normaliseJalali(draft.followup) : "";
  if (followup === null) return invalid("followup_date", "badFollowupDate");
  // Normalised Jalali dates (YYYY-MM-DD) order as text.
  if (followup && followup < date) return invalid("followup_date", "followupBeforeVisit");
  return { date, followup };
}

function emptyDraft(): VisitDraft {
  // Today as every date is shown: Persian digits and slashes.
  const date = jalaliDisplay(todayJalali());
  return {
    date,
    kind: "home",
    observations: "",
    followup: "",
    needs: {},
    referralKind: "",
    referralPartner: "",
    referralTarget: "",
    progress: {},
  };
}

/** The progress the visit records: the steps given a new status, with their comments. */
export function progressOf(draft: VisitDraft, plan: PlanView | null): ProgressText[] {
  // Steps closed since the draft was kept are left out; when the plan could not be read, every
  // choice is sent and the store checks each.
  const open = plan && new Set(plan.goals.flatMap((g) => g.steps.filter(isOpen).map((s) => s.id)));
  return Object.entries(draft.progress)
    .filter(([step, choice]) => choice.status && (!open || open.has(step)))
    .map(([step, choice]) => ({ step, status: choice.status, comment: choice.comment }));
}

/** The plan's open steps, each with its choice for this visit. */
function PlanSteps({
  plan,
  progress,
  onChange,
}: {
  plan: PlanView;
  progress: Record<string, StepChoice>;
  onChange: (step: string, choice: StepChoice) => void;
}) {
  const open = plan.goals.flatMap((g) => g.steps.filter(isOpen).map((s) => ({ goal: g, step: s })));
  if (open.length === 0) return null;
  return (
    <fieldset class="plan-steps" data-testid="visit-steps">
      <legend>{t("planSteps")}</legend>
      {open.map(({ goal, step }) => {
        const choice = progress[step.id] ?? { status: "", comment: "" };
        return (
          <div class="visit-step" key={step.id}>
            <label>
              {goal.title}: {step.what}
              {step.target_date && <> ({jalali(step.target_date)})</>} —{" "}
              {label(vocabularies.StepStatus, step.progress.at(-1)?.status ?? "planned")}
              <select
                data-testid={`visit-step-${step.id}`}
                value={choice.status}
                onChange={(e) => onChange(step.id, { ...choice, status: e.currentTarget.value })}
              >
                <option value="">{t("noChange")}</option>
                {STEP_CHOICES.map((c) => (
                  <option value={c} key={c}>
                    {label(vocabularies.StepStatus, c)}
                  </option>
                ))}
              </select>
            </label>
            {choice.status && (
              <label>
                {fieldLabel("comment")}
                <input
                  data-testid={`visit-step-comment-${step.id}`}
                  value={choice.comment}
                  onInput={(e) => onChange(step.id, { ...choice, comment: e.currentTarget.value })}
                />
              </label>
            )}
          </div>
        );
      })}
    </fieldset>
  );
}

export function VisitForm({ id, done }: { id: string; done: () => void }) {
  const key = `visit.${id}`;
  const [draft, setDraft] = useState<VisitDraft>(() => loadDraft(drafts, key, emptyDraft()));
  const [error, setError] = useState<UiError | null>(null);
  // The plan's open steps and the partner directory; a failure to load them leaves the visit
  // recordable and says so.
  const outcome = useLoad(() => Promise.all([api.plan(id), api.partners()]), [id]);
  const plan: PlanView | null = outcome.data?.[0] ?? null;
  const partners: Partner[] = outcome.data?.[1] ?? [];
  const update = (patch: Partial<VisitDraft>) => {
    const next = { ...draft, ...patch };
    setDraft(next);
    saveDraft(drafts, key, next);
  };
  const submit = async (e: Event) => {
    e.preventDefault();
    const dates = checkVisitDates(draft);
    if ("code" in dates) return setError(dates);
    const other = draft.referralKind === "other";
    if (draft.referralKind && !other && !draft.referralPartner) return setError(invalid("partner", "partnerRequired"));
    if (other && !draft.referralPartner && !draft.referralTarget.trim())
      return setError(invalid("target", "targetRequired"));
    try {
      const needs = Object.entries(draft.needs).map(([domain, score]) => `${domain}=${score}`);
      const visitId =
        draft.savedVisit ??
        (await api.addVisit(
          id,
          {
            date: dates.date,
            kind: draft.kind,
            observations: draft.observations,
            needs,
            followup: dates.followup,
          },
          progressOf(draft, plan),
        ));
      if (draft.referralKind && !draft.savedVisit) update({ savedVisit: visitId });
      if (draft.referralKind) {
        await api.addReferral(id, {
          kind: draft.referralKind,
          partner: draft.referralPartner || undefined,
          // Free text only where the directory has no entry: an `other` referral.
          target: other ? draft.referralTarget : undefined,
          visit_id: visitId,
          date: dates.date,
        });
      }
      clearDraft(drafts, key);
      done();
    } catch (err) {
      setError(asUiError(err));
    }
  };
  const setNeed = (domain: string, value: string) => {
    const needs = { ...draft.needs };
    if (value === "") delete needs[domain];
    else needs[domain] = Number(value);
    update({ needs });
  };
  return (
    <main class="card">
      <form id="visit-form" onSubmit={submit}>
        <h2>{t("newVisit")}</h2>
        <DateInput
          id="visit-date"
          label={fieldLabel("visit_date")}
          value={draft.date}
          onChange={(date) => update({ date })}
        />
        <FieldError error={error} field="visit_date" />
        <label>
          {fieldLabel("visit_kind")}
          <select id="visit-kind" value={draft.kind} onChange={(e) => update({ kind: e.currentTarget.value })}>
            {vocabularies.VisitKind.map((k) => (
              <option value={k.code} key={k.code}>
                {label(vocabularies.VisitKind, k.code)}
              </option>
            ))}
          </select>
        </label>
        <FieldError error={error} field="visit_kind" />
        <label>
          {fieldLabel("observations")}
          <textarea
            id="visit-observations"
            rows={4}
            value={draft.observations}
            onInput={(e) => update({ observations: e.currentTarget.value })}
          />
        </label>
        <FieldError error={error} field="observations" />
        <fieldset>
          <legend>{t("needs")}</legend>
          {vocabularies.NeedDomain.map(({ code }) => (
            <label key={code} class="need">
              {label(vocabularies.NeedDomain, code)}
              <select
                data-need={code}
                value={draft.needs[code] ?? ""}
                onChange={(e) => setNeed(code, e.currentTarget.value)}
              >
                <option value="">—</option>
                {[0, 1, 2, 3, 4].map((s) => (
                  <option value={s} key={s}>
                    {faDigits(s)}
                  </option>
                ))}
              </select>
            </label>
          ))}
          <FieldError error={error} field="need_score" />
        </fieldset>
        {outcome.error && <LoadError error={outcome.error} retry={outcome.reload} />}
        {plan && (
          <PlanSteps
            plan={plan}
            progress={draft.progress}
            onChange={(step, choice) => update({ progress: { ...draft.progress, [step]: choice } })}
          />
        )}
        <FieldError error={error} field="step" />
        <FieldError error={error} field="step_status" />
        <FieldError error={error} field="comment" />
        <fieldset>
          <legend>{t("referral")}</legend>
          <label>
            {fieldLabel("referral_kind")}
            <select
              id="referral-kind"
              value={draft.referralKind}
              // The partner chosen belongs to the kind: a new kind chooses again.
              onChange={(e) => update({ referralKind: e.currentTarget.value, referralPartner: "" })}
            >
              <option value="">—</option>
              {vocabularies.ReferralKind.map((k) => (
                <option value={k.code} key={k.code}>
                  {label(vocabularies.ReferralKind, k.code)}
                </option>
              ))}
            </select>
          </label>
          {draft.referralKind && (
            <PartnerSelect
              partners={partners}
              kind={partnerKindFor(draft.referralKind as ReferralKind)}
              value={draft.referralPartner}
              onChange={(referralPartner) => update({ referralPartner })}
              testid="referral-partner"
            />
          )}
          <FieldError error={error} field="partner" />
          {draft.referralKind === "other" && (
            <label>
              {fieldLabel("target")} ({t("otherTargetHint")})
              <input
                id="referral-target"
                value={draft.referralTarget}
                onInput={(e) => update({ referralTarget: e.currentTarget.value })}
              />
            </label>
          )}
          <FieldError error={error} field="target" />
        </fieldset>
        <DateInput
          id="visit-followup"
          label={fieldLabel("followup_date")}
          value={draft.followup}
          pickFrom={draft.date}
          onChange={(followup) => update({ followup })}
        />
        <FieldError error={error} field="followup_date" />
        {draft.savedVisit && (
          <p class="banner" role="status" data-testid="visit-saved">
            {t("visitSavedReferralLeft")}
          </p>
        )}
        <FormError error={error} fields={FIELDS} />
        <p class="hint">{t("draftKept")}</p>
        <div class="actions">
          <button type="submit" id="save-visit">
            {t("save")}
          </button>
          <button type="button" class="secondary" onClick={done}>
            {t("cancel")}
          </button>
        </div>
      </form>
    </main>
  );
}
