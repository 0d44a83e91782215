// Two households side by side: who registered each and when, the group, the address, members,
// visits and referrals, and why they were proposed as one family. Then either merge (the
// survivor chosen here keeps its id; the other becomes a redirect to it) or "not a duplicate"
// with a reason, remembered so the pair is not proposed again without a new matching fact.
import { useState } from "preact/hooks";
import { api, asUiError, type HouseholdDetails, type UiError } from "../api";
import { errorText, LoadError } from "../components/Errors";
import { useLoad } from "../components/useLoad";
import { faDigits, jalali } from "../format";
import { t } from "../i18n";
import { fieldLabel, label, vocabularies } from "../labels";
import { useWorkers } from "../workers";
import { BandBadge, Reasons, score } from "./Duplicates";

function Side({ h, side }: { h: HouseholdDetails; side: "a" | "b" }) {
  const workers = useWorkers();
  const head = h.members.find((m) => m.id === h.head_member_id);
  return (
    <section class="card side" id={`compare-${side}`} data-id={h.id}>
      <h3>{head ? `${head.first_name} ${head.last_name}` : "—"}</h3>
      <p>
        {t("registeredBy")} {workers.name(h.created_by)} — {jalali(h.created_at.slice(0, 10))}
      </p>
      <p>
        {t("group")}: <bdi>{h.assigned_group ?? "—"}</bdi> — {fieldLabel("assigned_worker")}:{" "}
        {workers.name(h.assigned_worker) || "—"}
      </p>
      <p>
        {fieldLabel("district")}: {h.district} — {fieldLabel("address")}: {h.address}
      </p>
      <p>
        {fieldLabel("phone")}: <span dir="ltr">{faDigits(h.phone ?? "—")}</span>
      </p>
      <h4>
        {t("members")} ({faDigits(h.members.length)})
      </h4>
      <table class="members">
        <tbody>
          {h.members.map((m) => (
            <tr key={m.id}>
              <td>
                {m.first_name} {m.last_name}
              </td>
              <td>{label(vocabularies.Relation, m.relation)}</td>
              <td>{faDigits(m.national_id ?? "—")}</td>
              <td>{jalali(m.birth_date)}</td>
              <td>{m.father_name ?? ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h4>
        {t("visits")} ({faDigits(h.visits.length)})
      </h4>
      <ul>
        {h.visits.map((v) => (
          <li key={v.id}>
            {jalali(v.date)} — {label(vocabularies.VisitKind, v.kind)} — {workers.name(v.worker_id)}
          </li>
        ))}
      </ul>
      <h4>
        {t("referrals")} ({faDigits(h.referrals.length)})
      </h4>
      <ul>
        {h.referrals.map((r) => (
          <li key={r.id}>
            {label(vocabularies.ReferralKind, r.kind)} → {r.target}:{" "}
            {label(vocabularies.ReferralStatus, r.history.at(-1)?.status)}
          </li>
        ))}
      </ul>
    </section>
  );
}

export function ComparePage({
  a,
  b,
  back,
  open,
  changed,
}: {
  a: string;
  b: string;
  back: () => void;
  open: (id: string) => void;
  changed: () => void;
}) {
  const loaded = useLoad(() => api.compareHouseholds(a, b), [a, b]);
  const [survivor, setSurvivor] = useState<"a" | "b">("a");
  const [reason, setReason] = useState("");
  const [error, setError] = useState<UiError | null>(null);
  const [busy, setBusy] = useState(false);
  if (loaded.error) {
    return (
      <main class="card">
        <LoadError error={loaded.error} retry={loaded.reload} />
        <button type="button" class="secondary" onClick={back}>
          {t("back")}
        </button>
      </main>
    );
  }
  if (!loaded.data) return <main class="card">…</main>;
  const c = loaded.data;
  const act = async (work: () => Promise<void>) => {
    setBusy(true);
    try {
      await work();
      setError(null);
      changed();
    } catch (e) {
      setError(asUiError(e));
    } finally {
      setBusy(false);
    }
  };
  const [keep, other] = survivor === "a" ? [c.a.id, c.b.id] : [c.b.id, c.a.id];
  return (
    <main class="screen" id="compare">
      <div class="toolbar">
        <button type="button" class="secondary" onClick={back}>
          {t("back")}
        </button>
        <h2>{t("compare")}</h2>
        <BandBadge band={c.band} />
        <span>
          {t("score")}: {score(c.score)}
        </span>
      </div>
      {c.reasons.length > 0 && (
        <div class="card">
          <strong>{t("reasons")}</strong>
          <Reasons reasons={c.reasons} />
        </div>
      )}
      <div class="sides">
        <Side h={c.a} side="a" />
        <Side h={c.b} side="b" />
      </div>
      <div class="card decide">
        <fieldset>
          <legend>{t("survivor")}</legend>
          {(["a", "b"] as const).map((s) => {
            const h = s === "a" ? c.a : c.b;
            const head = h.members.find((m) => m.id === h.head_member_id);
            return (
              <label class="check" key={s}>
                <input
                  type="radio"
                  name="survivor"
                  value={s}
                  id={`survivor-${s}`}
                  checked={survivor === s}
                  onChange={() => setSurvivor(s)}
                />
                {head ? `${head.first_name} ${head.last_name}` : h.id.slice(0, 8)} (<bdi>{h.assigned_group ?? "—"}</bdi>
                )
              </label>
            );
          })}
        </fieldset>
        <p class="hint">{t("mergeHint")}</p>
        <div class="actions">
          <button
            type="button"
            id="merge"
            disabled={busy}
            onClick={() =>
              act(async () => {
                await api.mergeHouseholds(keep, other);
                open(keep);
              })
            }
          >
            {t("merge")}
          </button>
        </div>
        <label>
          {t("notDuplicateReason")}
          <input id="not-duplicate-reason" value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
        </label>
        <div class="actions">
          <button
            type="button"
            id="not-duplicate"
            class="secondary"
            disabled={busy}
            onClick={() =>
              act(async () => {
                await api.markNotDuplicate(c.a.id, c.b.id, reason);
                back();
              })
            }
          >
            {t("notDuplicate")}
          </button>
        </div>
        {error && (
          <p class="form-error" role="alert" title={error.message}>
            {errorText(error)}
          </p>
        )}
      </div>
    </main>
  );
}
