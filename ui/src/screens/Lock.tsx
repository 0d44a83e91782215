// The lock screen: the caseload stays closed until the worker types this device's passphrase.
// On first run (or for data an older version left unencrypted) the worker chooses one, typed
// twice. After a few wrong tries the app makes each next try wait; the button says how long.
import { useEffect, useLayoutEffect, useState } from "preact/hooks";
import { api, asUiError, type LockView, type UiError } from "../api";
import { FormError } from "../components/Errors";
import { faDigits } from "../format";
import { both, language, t } from "../i18n";
import { reportPainted } from "../launch";

function mistake(key: "passphraseMismatch" | "passphraseShort"): UiError {
  return { code: "invalid", field: null, ...both(key) };
}

/** Seconds left before the next try, counting down once a second. */
function useCountdown(initial: number): [number, (s: number) => void] {
  const [left, setLeft] = useState(initial);
  useEffect(() => {
    if (left <= 0) return;
    const timer = setTimeout(() => setLeft((s) => Math.max(0, s - 1)), 1000);
    return () => clearTimeout(timer);
  }, [left]);
  return [left, setLeft];
}

/** The lock screen; `onUnlocked` is told the store is open, and the button stays busy until
 * what it returns (the first screen's reads) is done. */
export function LockScreen({
  view,
  onUnlocked,
}: {
  view: LockView;
  onUnlocked: (view: LockView) => void | Promise<void>;
}) {
  const choosing = view.state === "first_run" || view.state === "unencrypted";
  const [passphrase, setPassphrase] = useState("");
  const [confirm, setConfirm] = useState("");
  const [error, setError] = useState<UiError | null>(null);
  const [busy, setBusy] = useState(false);
  const [wait, setWait] = useCountdown(view.wait_seconds);
  // The launch's first mark: the lock screen on the screen (see launch.ts).
  useLayoutEffect(() => reportPainted("lock_screen"), []);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (busy || wait > 0) return;
    if (choosing) {
      // Counted as the app counts them: characters, not UTF-16 units.
      if ([...passphrase].length < view.min_length) return setError(mistake("passphraseShort"));
      if (passphrase !== confirm) return setError(mistake("passphraseMismatch"));
    }
    setBusy(true);
    try {
      const opened = choosing ? await api.choosePassphrase(passphrase, confirm) : await api.unlock(passphrase);
      setPassphrase("");
      setConfirm("");
      await onUnlocked(opened);
    } catch (err) {
      setError(asUiError(err));
      setPassphrase("");
      // How long the app now makes the next try wait, if at all.
      const now = await api.lockState().catch(() => null);
      if (now) setWait(now.wait_seconds);
    } finally {
      setBusy(false);
    }
  };
  const hint = view.state === "unencrypted" ? t("encryptOldHint") : choosing ? t("choosePassphraseHint") : null;
  return (
    <main class="card first-run" id="lock-screen" data-state={view.state}>
      <form onSubmit={submit}>
        <h1>{choosing ? t("choosePassphraseTitle") : t("unlockTitle")}</h1>
        <p>{hint ?? t("unlockHint")}</p>
        <label>
          {t("passphrase")}
          <input
            id="passphrase"
            type="password"
            autocomplete={choosing ? "new-password" : "current-password"}
            value={passphrase}
            onInput={(e) => {
              setPassphrase(e.currentTarget.value);
              setError(null);
            }}
          />
        </label>
        {choosing && (
          <label>
            {t("confirmPassphrase")}
            <input
              id="passphrase-confirm"
              type="password"
              autocomplete="new-password"
              value={confirm}
              onInput={(e) => {
                setConfirm(e.currentTarget.value);
                setError(null);
              }}
            />
          </label>
        )}
        <FormError error={error} fields={[]} />
        <div class="actions">
          <button type="submit" id={choosing ? "choose-passphrase" : "unlock"} disabled={busy || wait > 0}>
            {busy
              ? t("unlocking")
              : wait > 0
                ? `${choosing ? t("choosePassphrase") : t("unlock")} (${language() === "fa" ? faDigits(wait) : wait})`
                : choosing
                  ? t("choosePassphrase")
                  : t("unlock")}
          </button>
        </div>
      </form>
    </main>
  );
}
