// The referral ledger of a household: each referral with its partner, where it stands, every
// step it went through (when, who recorded it, the note, the amount paid, the reason of a
// refusal), how long it has sat in its state against its partner kind's limit (stalled ones in
// red, with the days over), and a form for its next step that offers only the states the ledger
// allows next, asking for the amount of a disbursement and the reason of a refusal.
import { useState } from "preact/hooks";
import { api, asUiError, type HouseholdDetails, type LedgerEntry, type UiError } from "../api";
import type { Field } from "../bindings/Field";
import type { PartnerKind } from "../bindings/PartnerKind";
import type { ReferralKind } from "../bindings/ReferralKind";
import { FieldError, FormError, LoadError } from "../components/Errors";
import { useLoad } from "../components/useLoad";
import { faDigits, jalali, latinDigits, normaliseJalali } from "../format";
import { both, type Key, t } from "../i18n";
import { fieldLabel, label, vocabularies } from "../labels";
import { useWorkers } from "../workers";
import { partnerName } from "./PlanPanel";

function invalid(field: Field, key: Key): UiError {
  return { code: "invalid", field, ...both(key) };
}

/** The kind of partner a referral of `kind` goes to (as `ReferralKind::partner_kind`). */
export function partnerKindFor(kind: ReferralKind): PartnerKind {
  if (kind === "bank_loan") return "bank";
  if (kind === "job_training") return "training_centre";
  if (kind === "health") return "clinic";
  return "other";
}

/** An amount of rials in Persian digits with thousands separators: `۱۲٬۵۰۰٬۰۰۰`. */
export function rials(amount: number): string {
  const digits = String(Math.trunc(Math.abs(amount))).replace(/\B(?=(\d{3})+(?!\d))/g, "٬");
  return faDigits(amount < 0 ? `-${digits}` : digits);
}

/** An amount as typed (any digits, separators allowed), as a number when it reads as one. */
export function typedAmount(text: string): number | null {
  const digits = latinDigits(text).replace(/[,٬،\s\u202f]/g, "");
  return /^\d+$/.test(digits) ? Number(digits) : null;
}

const STEP_FIELDS: readonly Field[] = ["referral_status", "status_date", "note", "amount", "reason"];

function NextStep({ household, entry, done }: { household: string; entry: LedgerEntry; done: () => void }) {
  const [status, setStatus] = useState("");
  const [date, setDate] = useState("");
  const [note, setNote] = useState("");
  const [amount, setAmount] = useState("");
  const [reason, setReason] = useState("");
  const [error, setError] = useState<UiError | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (status === "disbursed" && !amount.trim()) return setError(invalid("amount", "amountRequired"));
    if (status === "refused" && !reason.trim()) return setError(invalid("reason", "refusalReasonRequired"));
    const day = date.trim() ? normaliseJalali(date) : "";
    if (day === null) return setError(invalid("status_date", "badStatusDate"));
    setBusy(true);
    try {
      await api.updateReferralStep(household, entry.referral.id, {
        status,
        date: day || undefined,
        note,
        // Only the state that records one sends it: the store refuses an amount elsewhere.
        amount: status === "disbursed" ? amount : undefined,
        reason: status === "refused" ? reason : undefined,
      });
      setError(null);
      setStatus("");
      setNote("");
      setAmount("");
      setReason("");
      setDate("");
      done();
    } catch (err) {
      setError(asUiError(err));
    } finally {
      setBusy(false);
    }
  };
  const parsed = typedAmount(amount);
  return (
    <form class="ledger-step" onSubmit={submit}>
      <label>
        {t("nextStep")}
        <select data-testid="referral-next-state" value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
          <option value="">{t("choose")}</option>
          {entry.next.map((s) => (
            <option value={s} key={s}>
              {label(vocabularies.ReferralStatus, s)}
            </option>
          ))}
        </select>
      </label>
      <FieldError error={error} field="referral_status" />
      {status === "disbursed" && (
        <label>
          {fieldLabel("amount")}
          <input
            data-testid="referral-amount"
            inputMode="numeric"
            value={amount}
            onInput={(e) => setAmount(e.currentTarget.value)}
          />
          {parsed !== null && (
            <span class="hint" data-testid="referral-amount-shown">
              {rials(parsed)} {t("rials")}
            </span>
          )}
        </label>
      )}
      <FieldError error={error} field="amount" />
      {status === "refused" && (
        <label>
          {fieldLabel("reason")}
          <input data-testid="referral-reason" value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
        </label>
      )}
      <FieldError error={error} field="reason" />
      {status && (
        <>
          <label>
            {fieldLabel("status_date")}
            <input
              data-testid="referral-step-date"
              placeholder={t("today")}
              value={date}
              onInput={(e) => setDate(e.currentTarget.value)}
            />
          </label>
          <FieldError error={error} field="status_date" />
          <label>
            {fieldLabel("note")}
            <input data-testid="referral-step-note" value={note} onInput={(e) => setNote(e.currentTarget.value)} />
          </label>
          <FieldError error={error} field="note" />
        </>
      )}
      <FormError error={error} fields={STEP_FIELDS} />
      <div class="actions">
        <button type="submit" data-testid="referral-step-save" disabled={busy || !status}>
          {t("recordStep")}
        </button>
      </div>
    </form>
  );
}

function Entry({
  household,
  entry,
  canEdit,
  done,
}: {
  household: string;
  entry: LedgerEntry;
  canEdit: boolean;
  done: () => void;
}) {
  const workers = useWorkers();
  const r = entry.referral;
  const current = r.history.at(-1);
  const over = entry.limit_days !== null ? entry.days_in_state - entry.limit_days : 0;
  const partner = entry.partner ? partnerName(entry.partner) : (r.partner ?? r.target);
  return (
    <li
      data-testid={`referral-${r.id}`}
      data-status={current?.status ?? ""}
      data-stalled={entry.stalled ? "true" : "false"}
      class={`ledger-entry${entry.stalled ? " stalled" : ""}`}
    >
      <div class="ledger-head">
        <strong>{label(vocabularies.ReferralKind, r.kind)}</strong> → <bdi class="partner">{partner}</bdi>:{" "}
        <span class="state">{label(vocabularies.ReferralStatus, current?.status)}</span>
        {entry.limit_days !== null && (
          <span class="aging">
            {" "}
            — {faDigits(entry.days_in_state)} {t("daysInState")} ({t("limit")} {faDigits(entry.limit_days)} {t("days")})
          </span>
        )}
        {entry.stalled && (
          <span class="badge stalled" data-testid="referral-over">
            {t("stalled")}: {faDigits(over)} {t("daysOver")}
          </span>
        )}
      </div>
      <ol class="ledger-history">
        {r.history.map((e) => (
          <li key={e.id} data-status={e.status}>
            {jalali(e.date)} — {label(vocabularies.ReferralStatus, e.status)} — {workers.name(e.worker_id)}
            {e.amount !== null && (
              <>
                {" "}
                — <span class="amount">{rials(e.amount)}</span> {t("rials")}
              </>
            )}
            {e.reason && <> — {e.reason}</>}
            {e.note && <div class="hint">{e.note}</div>}
          </li>
        ))}
      </ol>
      {canEdit && entry.next.length > 0 && <NextStep household={household} entry={entry} done={done} />}
    </li>
  );
}

/** The ledger of household `h`; `reload` loads the household again after a step is recorded. */
export function ReferralLedger({ h, reload }: { h: HouseholdDetails; reload: () => void }) {
  const loaded = useLoad(() => api.referralLedger(h.id), [h]);
  const entries = loaded.data ?? [];
  return (
    <section class="card" data-testid="ledger">
      <h3>
        {t("ledger")} ({faDigits(entries.length)})
      </h3>
      {loaded.error && <LoadError error={loaded.error} retry={loaded.reload} />}
      {loaded.data && entries.length === 0 && <p class="empty">{t("nothingYet")}</p>}
      <ul class="ledger" id="referrals">
        {entries.map((entry) => (
          <Entry key={entry.referral.id} household={h.id} entry={entry} canEdit={!h.merged} done={reload} />
        ))}
      </ul>
    </section>
  );
}
