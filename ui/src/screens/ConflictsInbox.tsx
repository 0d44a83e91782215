// The conflicts inbox: every field holding concurrent values in scope, in one list: the
// household, the field's label, each value with who wrote it and when. Resolved by keeping one
// of the values or typing a new one, which the store validates like any edit (a refusal shows
// under the entry, in Persian). Filters by group, worker and field.
import { useState } from "preact/hooks";
import { api, asUiError, type Field, type InboxEntry, type Standing, type UiError } from "../api";
import { errorText, LoadError } from "../components/Errors";
import { useLoad } from "../components/useLoad";
import { faDigits, jalaliTime } from "../format";
import { language, t } from "../i18n";
import { fieldLabel } from "../labels";
import { useWorkers } from "../workers";

/** An author's name: from the server's records when verified, else the change's own claim, marked. */
function author(v: { worker_name: string; verified: boolean }): string {
  return v.verified ? v.worker_name : `${v.worker_name} (${t("unverified")})`;
}

function Entry({ entry, open, done }: { entry: InboxEntry; open: (id: string) => void; done: () => void }) {
  const [value, setValue] = useState("");
  const [error, setError] = useState<UiError | null>(null);
  const [busy, setBusy] = useState(false);
  const c = entry.conflict;
  const resolve = async (chosen: string) => {
    setBusy(true);
    try {
      await api.resolveConflict(entry.household_id, c.path, chosen);
      setError(null);
      done();
    } catch (e) {
      setError(asUiError(e));
    } finally {
      setBusy(false);
    }
  };
  const inputId = `new-value-${entry.household_id}-${c.path}`;
  return (
    <li class="card inbox-entry" data-household={entry.household_id} data-path={c.path} data-field={c.field ?? ""}>
      <div class="item-head">
        <button type="button" class="link open-household" onClick={() => open(entry.shown_in)}>
          {entry.head_name}
        </button>
        <strong class="field-label">{language() === "fa" ? c.label_fa : c.label_en}</strong>
        {entry.assigned_group && (
          <span>
            {t("group")}: <bdi>{entry.assigned_group}</bdi>
          </span>
        )}
        {entry.merged_from && <span class="badge warn">{t("mergedConflict")}</span>}
      </div>
      <ul class="values">
        {c.values.map((v) => (
          <li key={`${v.device_id}/${v.value}`} class="value" data-value={v.value}>
            <span class="text" dir="auto">
              {faDigits(v.value) || "—"}
            </span>
            <span class="hint">
              {t("writtenBy")} {author(v)}، {jalaliTime(v.time) || "—"}
            </span>
            <button type="button" class="secondary keep" disabled={busy} onClick={() => resolve(v.value)}>
              {t("keepThis")}
            </button>
          </li>
        ))}
      </ul>
      <form
        class="new-value"
        onSubmit={(e) => {
          e.preventDefault();
          resolve(value);
        }}
      >
        <label for={inputId}>{t("newValue")}</label>
        <input id={inputId} class="new-value-input" value={value} onInput={(e) => setValue(e.currentTarget.value)} />
        <button type="submit" class="save-value" disabled={busy}>
          {t("saveValue")}
        </button>
      </form>
      {error && (
        <div class="field-error" role="alert" data-field={error.field ?? ""} title={error.message}>
          {errorText(error)}
        </div>
      )}
    </li>
  );
}

export function ConflictsInbox({
  standing,
  open,
  changed,
}: {
  standing: Standing;
  open: (id: string) => void;
  changed: () => void;
}) {
  const workers = useWorkers();
  const [group, setGroup] = useState("");
  const [worker, setWorker] = useState("");
  const [field, setField] = useState<Field | "">("");
  // Fields seen in conflict so far: what the field filter offers.
  const [seen, setSeen] = useState<Field[]>([]);
  const inbox = useLoad(async () => {
    const entries = await api.conflictInbox({ group, worker, field: field || undefined });
    const fields = entries.map((e) => e.conflict.field).filter((f): f is Field => !!f);
    setSeen((old) => [...new Set([...old, ...fields])]);
    return entries;
  }, [group, worker, field]);
  const done = () => {
    inbox.reload();
    changed();
  };
  return (
    <main class="screen" id="conflicts-inbox">
      <div class="toolbar">
        <h2>{t("inbox")}</h2>
        {standing.role === "coordinator" && (
          <select
            id="inbox-group"
            aria-label={t("group")}
            value={group}
            onChange={(e) => setGroup(e.currentTarget.value)}
          >
            <option value="">
              {t("group")}: {t("all")}
            </option>
            {workers.groups.map((g) => (
              <option value={g} key={g}>
                {g}
              </option>
            ))}
          </select>
        )}
        <select
          id="inbox-worker"
          aria-label={t("worker")}
          value={worker}
          onChange={(e) => setWorker(e.currentTarget.value)}
        >
          <option value="">
            {t("worker")}: {t("all")}
          </option>
          {workers.list.map((w) => (
            <option value={w.worker_id ?? ""} key={`${w.group_id}/${w.worker_id}`}>
              {w.worker_name}
            </option>
          ))}
        </select>
        <select
          id="inbox-field"
          aria-label={t("fieldFilter")}
          value={field}
          onChange={(e) => setField(e.currentTarget.value as Field | "")}
        >
          <option value="">
            {t("fieldFilter")}: {t("all")}
          </option>
          {seen.map((f) => (
            <option value={f} key={f}>
              {fieldLabel(f)}
            </option>
          ))}
        </select>
        {inbox.data && (
          <span class="count" id="inbox-count">
            {faDigits(inbox.data.length)} {t("conflictsCount")}
          </span>
        )}
      </div>
      {inbox.error && <LoadError error={inbox.error} retry={inbox.reload} />}
      {inbox.data && inbox.data.length === 0 && <p class="empty">{t("inboxEmpty")}</p>}
      {inbox.data && (
        <ol class="items">
          {inbox.data.map((entry) => (
            <Entry
              key={`${entry.household_id}/${entry.conflict.path}/${entry.merged_from ?? ""}`}
              entry={entry}
              open={open}
              done={done}
            />
          ))}
        </ol>
      )}
    </main>
  );
}
