// The status bar: where sync stands (pushed by the app's sync-status events), what waits, when
// the last sync was, and enrolment for a replica that works without a server so far.
import { useState } from "preact/hooks";
import { api, asUiError, type SyncView, type UiError } from "../api";
import type { SyncState } from "../bindings/SyncState";
import { faDigits, jalaliTime } from "../format";
import { type Key, t } from "../i18n";
import { errorText } from "./Errors";

const STATE_LABELS: Record<SyncState, Key> = {
  local: "stateLocal",
  offline: "stateOffline",
  syncing: "stateSyncing",
  synced: "stateSynced",
  error: "stateError",
  locked: "stateLocked",
};

function EnrolForm({ done }: { done: () => void }) {
  const [server, setServer] = useState("");
  const [code, setCode] = useState("");
  const [error, setError] = useState<UiError | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    try {
      await api.enroll(server, code);
      done();
    } catch (err) {
      setError(asUiError(err));
    }
  };
  return (
    <form class="enrol" id="enrol-form" onSubmit={submit}>
      <input
        id="enrol-server"
        dir="ltr"
        placeholder={t("server")}
        value={server}
        onInput={(e) => setServer(e.currentTarget.value)}
      />
      <input
        id="enrol-code"
        dir="ltr"
        placeholder={t("code")}
        value={code}
        onInput={(e) => setCode(e.currentTarget.value)}
      />
      <button type="submit">{t("enroll")}</button>
      {error && (
        <span class="error-text" title={error.message}>
          {errorText(error)}
        </span>
      )}
    </form>
  );
}

export function StatusBar({ sync, onSync }: { sync: SyncView | null; onSync: () => void }) {
  const state: SyncState = sync?.state ?? "local";
  const [enrolling, setEnrolling] = useState(false);
  return (
    <footer
      class={`status status-${state}`}
      id="sync-status"
      data-state={state}
      data-pending={sync?.pending_changes ?? 0}
    >
      <span class="dot" />
      <strong>{t(STATE_LABELS[state])}</strong>
      <span>
        {faDigits(sync?.pending_changes ?? 0)} {t("pending")}
      </span>
      {(sync?.held_back ?? 0) > 0 && (
        <span class="error-text" id="held-back" title={t("heldBackHint")}>
          {faDigits(sync?.held_back ?? 0)} {t("heldBack")}
        </span>
      )}
      {sync?.last_sync_at && (
        <span>
          {t("lastSync")}: {jalaliTime(sync.last_sync_at)}
        </span>
      )}
      {state === "offline" && (
        <span class="error-text" title={sync?.last_error ?? ""}>
          {t("offlineKept")}
        </span>
      )}
      {state === "error" && sync?.last_error && (
        <span class="error-text" title={sync.last_error}>
          {sync.last_error}
        </span>
      )}
      {state === "local" && !enrolling && (
        <button type="button" class="link" id="enrol-later" onClick={() => setEnrolling(true)}>
          {t("enroll")}
        </button>
      )}
      {state === "local" && enrolling && (
        <EnrolForm
          done={() => {
            setEnrolling(false);
            onSync();
          }}
        />
      )}
      <button type="button" id="sync-now" onClick={onSync}>
        {t("syncNow")}
      </button>
    </footer>
  );
}
