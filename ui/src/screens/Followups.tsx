// The follow-ups due within the next two weeks, overdue ones included, on the caseload screen:
// each says what is due (a visit a visit asked for, a plan step's target date, a referral that
// stalls in its state), for which household and when; overdue ones and stalled referrals in
// red. Folded by default, with the counts in its summary, so the caseload stays the screen.
import { api, type Followup } from "../api";
import { LoadError } from "../components/Errors";
import { useLoad } from "../components/useLoad";
import { faDigits, jalali } from "../format";
import { type Key, t } from "../i18n";
import { label, vocabularies } from "../labels";

/** How far ahead the list looks, in days. */
export const FOLLOWUP_DAYS = 14;

const KIND_LABELS: Record<Followup["kind"], Key> = {
  visit: "followupVisit",
  plan_step: "followupPlanStep",
  referral: "followupReferral",
};

/** What the follow-up's detail code means: a step's status or a referral's state. */
function detail(f: Followup): string {
  if (!f.detail) return "";
  if (f.kind === "plan_step") return label(vocabularies.StepStatus, f.detail);
  if (f.kind === "referral") return label(vocabularies.ReferralStatus, f.detail);
  return f.detail;
}

export function Followups({ open }: { open: (id: string) => void }) {
  const loaded = useLoad(() => api.followups(FOLLOWUP_DAYS), []);
  if (loaded.error) return <LoadError error={loaded.error} retry={loaded.reload} />;
  const items = loaded.data ?? [];
  if (items.length === 0) return null;
  const overdue = items.filter((f) => f.overdue).length;
  return (
    <details class="card followups" data-testid="followups">
      <summary>
        {t("followupsDue")} ({faDigits(items.length)})
        {overdue > 0 && (
          <span class="badge stalled">
            {faDigits(overdue)} {t("overdue")}
          </span>
        )}
      </summary>
      <ul>
        {items.map((f) => (
          <li
            key={`${f.kind}/${f.item_id ?? f.household_id}`}
            data-testid={`followup-${f.kind}-${f.item_id ?? f.household_id}`}
            data-kind={f.kind}
            class={f.overdue ? "overdue" : ""}
          >
            <span class={`badge followup-${f.kind}${f.kind === "referral" && f.overdue ? " stalled" : ""}`}>
              {t(KIND_LABELS[f.kind])}
            </span>{" "}
            <button type="button" class="link" onClick={() => open(f.household_id)}>
              {f.head_name}
            </button>{" "}
            — {t("due")}: {jalali(f.due)}
            {detail(f) && <> — {detail(f)}</>}
          </li>
        ))}
      </ul>
    </details>
  );
}
