// First run: name the worker and this device, then enrol with a server or work locally for now.
import { useState } from "preact/hooks";
import { api, asUiError, type Identity, type UiError } from "../api";
import { FieldError, FormError } from "../components/Errors";
import { t } from "../i18n";

export function FirstRun({ onDone }: { onDone: (i: Identity) => void }) {
  const [worker, setWorker] = useState("");
  const [device, setDevice] = useState("");
  const [server, setServer] = useState("");
  const [code, setCode] = useState("");
  const [error, setError] = useState<UiError | null>(null);
  // Naming the worker happens once; a failed enrolment can then be retried or skipped.
  const [created, setCreated] = useState<Identity | null>(null);
  const submit = async (enrol: boolean) => {
    try {
      const identity = created ?? (await api.init(worker, device));
      setCreated(identity);
      if (enrol && server.trim()) await api.enroll(server, code);
      onDone(identity);
    } catch (e) {
      setError(asUiError(e));
    }
  };
  return (
    <main class="card first-run">
      <h1>{t("welcome")}</h1>
      <label>
        {t("workerName")}
        <input id="worker-name" value={worker} onInput={(e) => setWorker(e.currentTarget.value)} />
      </label>
      <FieldError error={error} field="worker_name" />
      <label>
        {t("deviceName")}
        <input id="device-name" value={device} onInput={(e) => setDevice(e.currentTarget.value)} />
      </label>
      <FieldError error={error} field="device_name" />
      <label>
        {t("server")}
        <input
          id="server-url"
          dir="ltr"
          placeholder="https://"
          value={server}
          onInput={(e) => setServer(e.currentTarget.value)}
        />
      </label>
      <FieldError error={error} field="server" />
      <label>
        {t("code")}
        <input id="enroll-code" dir="ltr" value={code} onInput={(e) => setCode(e.currentTarget.value)} />
      </label>
      <FormError error={error} fields={["worker_name", "device_name", "server"]} />
      <div class="actions">
        <button type="button" id="start-enrol" onClick={() => submit(true)}>
          {t("enroll")}
        </button>
        <button type="button" id="start-local" class="secondary" onClick={() => submit(false)}>
          {t("enrollLater")}
        </button>
      </div>
    </main>
  );
}
