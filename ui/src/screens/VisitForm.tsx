// Recording a visit: date, kind, observations, needs, an optional referral and follow-up. The
// form checks dates itself before sending (the store checks again and has the last word), and
// keeps a draft on every keystroke.
import { useState } from "preact/hooks";
import { api, asUiError, type UiError } from "../api";
import type { Field } from "../bindings/Field";
import { FieldError, FormError } from "../components/Errors";
import { DateInput } from "../components/JalaliPicker";
import { clearDraft, drafts, loadDraft, saveDraft } from "../drafts";
import { faDigits, jalaliDisplay, normaliseJalali, todayJalali } from "../format";
import { both, type Key, t } from "../i18n";
import { fieldLabel, label, vocabularies } from "../labels";

export interface VisitDraft {
  date: string;
  kind: string;
  observations: string;
  followup: string;
  needs: Record<string, number>;
  referralKind: string;
  referralTarget: string;
}

const FIELDS: readonly Field[] = ["visit_date", "visit_kind", "observations", "need_score", "followup_date", "target"];

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
  return { date, kind: "home", observations: "", followup: "", needs: {}, referralKind: "", referralTarget: "" };
}

export function VisitForm({ id, done }: { id: string; done: () => void }) {
  const key = `visit.${id}`;
  const [draft, setDraft] = useState<VisitDraft>(() => loadDraft(drafts, key, emptyDraft()));
  const [error, setError] = useState<UiError | null>(null);
  const update = (patch: Partial<VisitDraft>) => {
    const next = { ...draft, ...patch };
    setDraft(next);
    saveDraft(drafts, key, next);
  };
  const submit = async (e: Event) => {
    e.preventDefault();
    const dates = checkVisitDates(draft);
    if ("code" in dates) return setError(dates);
    if (draft.referralKind && !draft.referralTarget.trim()) return setError(invalid("target", "targetRequired"));
    try {
      const needs = Object.entries(draft.needs).map(([domain, score]) => `${domain}=${score}`);
      const visitId = await api.addVisit(id, {
        date: dates.date,
        kind: draft.kind,
        observations: draft.observations,
        needs,
        followup: dates.followup,
      });
      if (draft.referralKind) {
        await api.addReferral(id, {
          kind: draft.referralKind,
          target: draft.referralTarget,
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
        <fieldset>
          <legend>{t("referral")}</legend>
          <label>
            {fieldLabel("referral_kind")}
            <select
              id="referral-kind"
              value={draft.referralKind}
              onChange={(e) => update({ referralKind: e.currentTarget.value })}
            >
              <option value="">—</option>
              {vocabularies.ReferralKind.map((k) => (
                <option value={k.code} key={k.code}>
                  {label(vocabularies.ReferralKind, k.code)}
                </option>
              ))}
            </select>
          </label>
          <label>
            {fieldLabel("target")} ({t("referralTargetHint")})
            <input
              id="referral-target"
              value={draft.referralTarget}
              onInput={(e) => update({ referralTarget: e.currentTarget.value })}
            />
          </label>
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
