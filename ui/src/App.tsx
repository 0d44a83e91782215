// The app's shell: the lock screen until the store is unlocked, then the workspace
// (Workspace.tsx: who is working, the screens, the header and the status bar). The workspace's
// code is a chunk of its own, loaded while the worker types the passphrase: the lock screen,
// the first thing a launch shows, waits for no more script than its own.
import { useEffect, useRef, useState } from "preact/hooks";
import { api, asUiError, type LockView, type UiError } from "./api";
import { LoadError } from "./components/Errors";
import { drafts } from "./drafts";
import { lazy } from "./lazy";
import { LockScreen } from "./screens/Lock";
import { type Early, readAhead } from "./unlocked";

const Workspace = lazy(() => import("./Workspace").then((m) => m.Workspace));

/** How long the app stays open without a key press, click, scroll or touch before it locks
 * itself: a laptop left open on a table, or taken while open, gives nothing away for long. */
export const IDLE_LOCK_MS = 10 * 60 * 1000;

/** Calls `lock` after `after` ms without input while `active`. */
function useIdleLock(active: boolean, lock: () => void, after: number) {
  const latest = useRef(lock);
  latest.current = lock;
  useEffect(() => {
    if (!active) return;
    let timer = window.setTimeout(() => latest.current(), after);
    const reset = () => {
      window.clearTimeout(timer);
      timer = window.setTimeout(() => latest.current(), after);
    };
    const events = ["keydown", "pointerdown", "wheel", "touchstart"] as const;
    for (const e of events) window.addEventListener(e, reset, { passive: true });
    return () => {
      window.clearTimeout(timer);
      for (const e of events) window.removeEventListener(e, reset);
    };
  }, [active, after]);
}

/** The lock screen until the store is open; the drafts are loaded from the store once it is, and
 * dropped from memory when it is locked again (by the worker, or after IDLE_LOCK_MS idle).
 * `opening` is the lock screen's state when it was read before the first render (main.tsx). */
export function App({ opening }: { opening?: LockView }) {
  // A store already open (the window was reloaded) still loads its drafts first.
  const [lock, setLock] = useState<LockView | null>(opening?.state === "unlocked" ? null : (opening ?? null));
  const [early, setEarly] = useState<Early>({});
  const [error, setError] = useState<UiError | null>(null);
  const [attempt, setAttempt] = useState(0);
  const lockNow = async () => {
    await drafts.flush();
    try {
      const view = await api.lock();
      drafts.forget();
      setEarly({});
      setLock(view);
    } catch (e) {
      setError(asUiError(e));
    }
  };
  useIdleLock(lock?.state === "unlocked", lockNow, IDLE_LOCK_MS);
  useEffect(() => {
    if (attempt === 0 && lock !== null) return;
    api
      .lockState()
      .then((view) => {
        setError(null);
        if (view.state !== "unlocked") return setLock(view);
        // Already open (the window was reloaded): the drafts are read again.
        return Promise.all([drafts.load(), Workspace.preload()]).then(() => setLock(view));
      })
      .catch((e) => setError(asUiError(e)));
  }, [attempt]);
  // Once the lock screen is painted (its report goes first, see launch.ts), the workspace's code
  // loads while the worker types.
  const locked = lock !== null && lock.state !== "unlocked";
  useEffect(() => {
    if (!locked) return;
    requestAnimationFrame(() => setTimeout(() => Workspace.preload().catch(() => undefined), 0));
  }, [locked]);
  if (error) {
    return (
      <main class="card first-run">
        <LoadError error={error} retry={() => setAttempt((a) => a + 1)} />
      </main>
    );
  }
  if (lock === null) return null;
  if (lock.state !== "unlocked") {
    return (
      <LockScreen
        key={lock.state}
        view={lock}
        onUnlocked={(view) =>
          readAhead(Workspace.preload())
            .then((read) => {
              setEarly(read);
              setLock(view);
            })
            .catch((e) => setError(asUiError(e)))
        }
      />
    );
  }
  return <Workspace onLock={lockNow} early={early} />;
}
