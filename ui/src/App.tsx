// The app's shell: the lock screen until the store is unlocked, then who is working (first run
// until someone is), which screen is showing, the header and the status bar fed by the
// sync-status events.
import { useEffect, useRef, useState } from "preact/hooks";
import {
  api,
  asUiError,
  type Identity,
  type LockView,
  type NavCounts,
  onSyncStatus,
  type Standing,
  type SyncView,
  type UiError,
} from "./api";
import { errorText, LoadError } from "./components/Errors";
import { Header, type Screen, screensFor } from "./components/Header";
import { StatusBar } from "./components/StatusBar";
import { drafts } from "./drafts";
import { type Language, language, setLanguage, t } from "./i18n";
import { Caseload } from "./screens/Caseload";
import { Caseloads } from "./screens/Caseloads";
import { ComparePage } from "./screens/Compare";
import { ConflictsInbox } from "./screens/ConflictsInbox";
import { Duplicates } from "./screens/Duplicates";
import { FirstRun } from "./screens/FirstRun";
import { HouseholdPage } from "./screens/Household";
import { HouseholdForm } from "./screens/HouseholdForm";
import { LockScreen } from "./screens/Lock";
import { Reports } from "./screens/Reports";
import { ReviewQueue } from "./screens/ReviewQueue";
import { VisitForm } from "./screens/VisitForm";
import { WorkersProvider } from "./workers";

export type View =
  | { name: "list" }
  | { name: "household"; id: string }
  | { name: "visit"; id: string }
  | { name: "new" }
  | { name: "review" }
  | { name: "conflicts" }
  | { name: "caseloads" }
  | { name: "duplicates" }
  | { name: "reports" }
  | { name: "compare"; a: string; b: string };

/** Follows the sync state: once at start, then every change the app pushes. */
function useSyncStatus(): SyncView | null {
  const [sync, setSync] = useState<SyncView | null>(null);
  useEffect(() => {
    let stop: (() => void) | undefined;
    let gone = false;
    onSyncStatus(setSync)
      .then((unlisten) => {
        if (gone) unlisten();
        else stop = unlisten;
      })
      .catch(() => undefined);
    // The state before this window listened; a failure here leaves the bar at its default.
    api
      .syncStatus()
      .then(setSync)
      .catch(() => undefined);
    return () => {
      gone = true;
      stop?.();
    };
  }, []);
  return sync;
}

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
 * dropped from memory when it is locked again (by the worker, or after IDLE_LOCK_MS idle). */
export function App() {
  const [lock, setLock] = useState<LockView | null>(null);
  const [error, setError] = useState<UiError | null>(null);
  const [attempt, setAttempt] = useState(0);
  const lockNow = async () => {
    await drafts.flush();
    try {
      const view = await api.lock();
      drafts.forget();
      setLock(view);
    } catch (e) {
      setError(asUiError(e));
    }
  };
  useIdleLock(lock?.state === "unlocked", lockNow, IDLE_LOCK_MS);
  useEffect(() => {
    api
      .lockState()
      .then((view) => {
        setError(null);
        if (view.state !== "unlocked") return setLock(view);
        // Already open (the window was reloaded): the drafts are read again.
        return drafts.load().then(() => setLock(view));
      })
      .catch((e) => setError(asUiError(e)));
  }, [attempt]);
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
          drafts
            .load()
            .then(() => setLock(view))
            .catch((e) => setError(asUiError(e)))
        }
      />
    );
  }
  return <Workspace onLock={lockNow} />;
}

/** The counts beside the navigation, loaded again whenever `when` changes (a new screen, a
 * sync), once `ready`. A failure leaves the last counts: they are a hint, the screens themselves
 * say more. */
function useCounts(ready: boolean, when: readonly unknown[]): [NavCounts | null, () => void] {
  const [counts, setCounts] = useState<NavCounts | null>(null);
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    if (ready) api.navCounts().then(setCounts, () => undefined);
  }, [ready, ...when, attempt]);
  return [counts, () => setAttempt((a) => a + 1)];
}

/** The unlocked app. */
function Workspace({ onLock }: { onLock: () => void }) {
  const [identity, setIdentity] = useState<Identity | null | undefined>(undefined);
  const [standing, setStanding] = useState<Standing>({ role: "field", group: null });
  const [identityError, setIdentityError] = useState<UiError | null>(null);
  const [attempt, setAttempt] = useState(0);
  const [view, setView] = useState<View>({ name: "list" });
  const [lang, setLang] = useState<Language>(language());
  const sync = useSyncStatus();
  // The caseload's first page goes to the store first (it serves one query at a time); the
  // counts and the workers' names follow it. Another first screen need not wait.
  const [listed, setListed] = useState(false);
  const ready = listed || view.name !== "list";
  const [counts, recount] = useCounts(ready, [view.name, sync?.last_sync_at, sync?.state]);
  const [draftError, setDraftError] = useState<UiError | null>(null);
  useEffect(() => {
    drafts.onError = setDraftError;
    return () => {
      drafts.onError = () => undefined;
    };
  }, []);
  // Who is working and in which role; `attempt` changes to load again after a failure. The
  // role comes with enrolment, so it is read again once a replica without one has a worker.
  useEffect(() => {
    Promise.all([api.identity(), api.standing()])
      .then(([i, s]) => {
        setIdentityError(null);
        setStanding(s);
        setIdentity(i);
      })
      .catch((e) => setIdentityError(asUiError(e)));
  }, [attempt]);
  const screens = screensFor(standing.role);
  // Alt+1, Alt+2, …: the navigation's screens in order, from anywhere.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (!e.altKey || e.ctrlKey || e.metaKey) return;
      const n = Number(e.key) - 1;
      if (Number.isInteger(n) && n >= 0 && n < screens.length) {
        e.preventDefault();
        setView({ name: screens[n] } as View);
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [screens]);
  const switchLanguage = (next: Language) => {
    setLanguage(next);
    setLang(next);
  };
  if (identityError) {
    return (
      <main class="card first-run">
        <LoadError error={identityError} retry={() => setAttempt((a) => a + 1)} />
      </main>
    );
  }
  if (identity === undefined) return null;
  if (identity === null)
    return (
      <FirstRun
        onDone={(i) => {
          setIdentity(i);
          setAttempt((a) => a + 1);
        }}
      />
    );
  const list = () => setView({ name: "list" });
  const open = (id: string) => setView({ name: "household", id });
  const current: Screen | null = screens.includes(view.name as Screen) ? (view.name as Screen) : null;
  return (
    <WorkersProvider identity={identity} standing={standing} ready={ready}>
      <div class="shell" data-role={standing.role}>
        <Header
          identity={identity}
          standing={standing}
          language={lang}
          counts={counts}
          current={current}
          onScreen={(name) => setView({ name } as View)}
          onLanguage={switchLanguage}
          onLock={onLock}
        />
        {draftError && (
          <p class="form-error" role="alert" id="draft-error" title={draftError.message}>
            {t("draftNotKept")} {errorText(draftError)}
          </p>
        )}
        {view.name === "list" && (
          <Caseload open={open} create={() => setView({ name: "new" })} onListed={() => setListed(true)} />
        )}
        {view.name === "household" && (
          <HouseholdPage
            id={view.id}
            standing={standing}
            identity={identity}
            back={list}
            open={open}
            visit={() => setView({ name: "visit", id: view.id })}
            changed={recount}
          />
        )}
        {view.name === "visit" && <VisitForm id={view.id} done={() => setView({ name: "household", id: view.id })} />}
        {view.name === "new" && <HouseholdForm done={(id) => (id ? open(id) : list())} open={open} />}
        {view.name === "review" && <ReviewQueue standing={standing} open={open} changed={recount} />}
        {view.name === "conflicts" && <ConflictsInbox standing={standing} open={open} changed={recount} />}
        {view.name === "caseloads" && <Caseloads standing={standing} open={open} />}
        {view.name === "duplicates" && (
          <Duplicates standing={standing} compare={(a, b) => setView({ name: "compare", a, b })} />
        )}
        {view.name === "compare" && (
          <ComparePage
            a={view.a}
            b={view.b}
            back={() => setView({ name: "duplicates" })}
            open={open}
            changed={recount}
          />
        )}
        {view.name === "reports" && <Reports />}
        <StatusBar sync={sync} onSync={() => api.syncNow().catch(() => undefined)} />
      </div>
    </WorkersProvider>
  );
}
