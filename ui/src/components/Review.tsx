// A visit's review as every screen shows it: its state, the thread of review steps (who, when,
// the comment and the field it is about), and the supervisor's approve / return.
import { useState } from "preact/hooks";
import { api, asUiError, type Field, type UiError, type Visit } from "../api";
import type { ReviewState } from "../bindings/ReviewState";
import { jalaliTime } from "../format";
import { t } from "../i18n";
import { fieldLabel, label, vocabularies } from "../labels";
import { useWorkers } from "../workers";
import { errorText, FieldError } from "./Errors";

/** The visit fields a return may point at (the schema's VISIT_REVIEW_FIELDS). */
export const REVIEW_FIELDS: readonly Field[] = ["visit_date", "visit_kind", "observations", "need", "followup_date"];

export function ReviewBadge({ state }: { state: ReviewState }) {
  return (
    <span class={`badge review-${state}`} data-review={state}>
      {label(vocabularies.ReviewState, state)}
    </span>
  );
}

/** Every review step of a visit, oldest first. */
export function ReviewThread({ visit }: { visit: Visit }) {
  const workers = useWorkers();
  if (visit.review.length === 0) return null;
  return (
    <ol class="thread" aria-label={t("reviewThread")}>
      {visit.review.map((e) => (
        <li key={e.id} data-action={e.action}>
          <strong>{label(vocabularies.ReviewAction, e.action)}</strong> — {workers.name(e.worker_id)} —{" "}
          {jalaliTime(e.at)}
          {e.field && (
            <span class="badge warn">
              {t("aboutField")} {fieldLabel(e.field)}
            </span>
          )}
          {e.comment && <p class="comment">{e.comment}</p>}
        </li>
      ))}
    </ol>
  );
}

/** Approve, or return with a comment (required) on the whole visit or one of its fields. */
export function ReviewActions({ visit, done }: { visit: string; done: () => void }) {
  const [comment, setComment] = useState("");
  const [field, setField] = useState<Field | "">("");
  const [error, setError] = useState<UiError | null>(null);
  const [busy, setBusy] = useState(false);
  const act = async (action: "approve" | "return") => {
    setBusy(true);
    try {
      if (action === "approve") await api.approveVisit(visit, comment);
      else await api.returnVisit(visit, comment, field || null);
      setComment("");
      setError(null);
      done();
    } catch (e) {
      setError(asUiError(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="review-actions" data-visit={visit}>
      <label>
        {t("comment")}
        <textarea
          class="review-comment"
          rows={2}
          placeholder={t("commentHint")}
          value={comment}
          onInput={(e) => setComment(e.currentTarget.value)}
        />
      </label>
      <FieldError error={error} field="comment" />
      <label>
        {t("aboutField")}
        <select class="review-field" value={field} onChange={(e) => setField(e.currentTarget.value as Field | "")}>
          <option value="">{t("wholeVisit")}</option>
          {REVIEW_FIELDS.map((f) => (
            <option value={f} key={f}>
              {fieldLabel(f)}
            </option>
          ))}
        </select>
      </label>
      {error && error.field !== "comment" && (
        <div class="form-error" role="alert" title={error.message}>
          {errorText(error)}
        </div>
      )}
      <div class="actions">
        <button type="button" class="approve" disabled={busy} onClick={() => act("approve")}>
          {t("approve")}
        </button>
        <button type="button" class="secondary return" disabled={busy} onClick={() => act("return")}>
          {t("returnVisit")}
        </button>
      </div>
    </div>
  );
}
