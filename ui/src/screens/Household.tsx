// One household: its members (added and corrected in place), visits, referrals, conflicting
// values and history.
import { useState } from "preact/hooks";
import { type AccessEntry, api, type ChangeInfo, type HouseholdDetails, type UiError } from "../api";
import { LoadError } from "../components/Errors";
import { useLoad } from "../components/useLoad";
import { faDigits, jalali, jalaliTime } from "../format";
import { language, t } from "../i18n";
import { fieldLabel, label, vocabularies } from "../labels";
import { MemberForm } from "./MemberForm";

function Members({ h, reload }: { h: HouseholdDetails; reload: () => void }) {
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

function Visits({ h }: { h: HouseholdDetails }) {
  return (
    <section class="card">
      <h3>
        {t("visits")} ({faDigits(h.visits.length)})
      </h3>
      <ol class="timeline" id="visits">
        {[...h.visits].reverse().map((v) => (
          <li key={v.id}>
            <strong>{jalali(v.date)}</strong> — {label(vocabularies.VisitKind, v.kind)}
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
          </li>
        ))}
      </ol>
    </section>
  );
}

function Referrals({ h }: { h: HouseholdDetails }) {
  return (
    <section class="card">
      <h3>
        {t("referrals")} ({faDigits(h.referrals.length)})
      </h3>
      <ul id="referrals">
        {h.referrals.map((r) => {
          const latest = r.history.at(-1);
          return (
            <li key={r.id}>
              {label(vocabularies.ReferralKind, r.kind)} → {r.target}:{" "}
              {label(vocabularies.ReferralStatus, latest?.status)} ({jalali(latest?.date)})
            </li>
          );
        })}
      </ul>
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

export function HouseholdPage({ id, back, visit }: { id: string; back: () => void; visit: () => void }) {
  const loaded = useLoad(() => Promise.all([api.household(id), api.history(id)]), [id]);
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
        <button type="button" id="new-visit" onClick={visit}>
          {t("newVisit")}
        </button>
      </div>
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
            {c.values.map((v) => `${faDigits(v.value)} (${author(v)}، ${jalaliTime(v.time)})`).join(" ⟷ ")}
          </div>
        ))}
      </section>
      <Members h={h} reload={loaded.reload} />
      <Visits h={h} />
      <Referrals h={h} />
      <History changes={history} />
      <Access id={h.id} />
    </main>
  );
}
