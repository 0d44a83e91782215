// The unlocked app: who is working (first run until someone is), which screen is showing, the
// header and the status bar fed by the sync-status events. Loaded as a chunk of its own after
// the lock screen (App.tsx); the screens past the caseload are chunks of their own too, loaded
// when first shown, and the field worker's ones ahead of that once the caseload is settled.
import { useEffect, useRef, useState } from "preact/hooks";
import {
  api,
  asUiError,
  type Identity,
  type ListPage,
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
import { lazy } from "./lazy";
import { Caseload } from "./screens/Caseload";
import { FirstRun } from "./screens/FirstRun";
import type { Early } from "./unlocked";
import { WorkersProvider } from "./workers";

const HouseholdPage = lazy(() => import("./screens/Household").then((m) => m.HouseholdPage));
const VisitForm = lazy(() => import("./screens/VisitForm").then((m) => m.VisitForm));
const HouseholdForm = lazy(() => import("./screens/HouseholdForm").then((m) => m.HouseholdForm));
const ReviewQueue = lazy(() => import("./screens/ReviewQueue").then((m) => m.ReviewQueue));
const ConflictsInbox = lazy(() => import("./screens/ConflictsInbox").then((m) => m.ConflictsInbox));
const Caseloads = lazy(() => import("./screens/Caseloads").then((m) => m.Caseloads));
const Duplicates = lazy(() => import("./screens/Duplicates").then((m) => m.Duplicates));
const ComparePage = lazy(() => import("./screens/Compare").then((m) => m.ComparePage));
const Reports = lazy(() => import("./screens/Reports").then((m) => m.Reports));

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

/** Follows the sync state: every change the app pushes, and the state before this window
 * listened once `ready` (it counts the changes not yet sent, a read of the store that waits for
 * the caseload's first page). */
function useSyncStatus(ready: boolean): SyncView | null {
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
    return () => {
      gone = true;
      stop?.();
    };
  }, []);
  useEffect(() => {
    // The state before this window listened; a failure here leaves the bar at its default. An
    // event that came meanwhile is newer.
    if (ready)
      api
        .syncStatus()
        .then((view) => setSync((pushed) => pushed ?? view))
        .catch(() => undefined);
  }, [ready]);
  return sync;
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

/** The unlocked app; `early` holds what was read as the store opened (unlocked.ts), which its
 * first render shows without asking again. */
export function Workspace({ onLock, early = {} }: { onLock: () => void; early?: Early }) {
  const [identity, setIdentity] = useState<Identity | null | undefined>(early.identity);
  const [standing, setStanding] = useState<Standing>(early.standing ?? { role: "field", group: null });
  const [identityError, setIdentityError] = useState<UiError | null>(null);
  const [attempt, setAttempt] = useState(0);
  const [view, setView] = useState<View>({ name: "list" });
  const [lang, setLang] = useState<Language>(language());
  // The caseload's first page goes to the store first (it serves one query at a time); the
  // counts, the sync state and the workers' names follow it. Another first screen need not wait.
  const [listed, setListed] = useState(false);
  const ready = listed || view.name !== "list";
  const sync = useSyncStatus(ready);
  // The first page read as the store opened, for the caseload's first showing only: when the
  // worker comes back to it, it lists afresh (as after a first run, which changes the replica).
  const opening = useRef<ListPage | undefined>(early.identity ? early.firstPage : undefined);
  const takeOpeningPage = () => {
    const page = opening.current;
    opening.current = undefined;
    return page;
  };
  // Once the caseload is settled, the field worker's next screens load, so opening a household
  // waits for no code.
  useEffect(() => {
    if (!listed) return;
    const timer = setTimeout(() => {
      for (const screen of [HouseholdPage, VisitForm, HouseholdForm]) screen.preload().catch(() => undefined);
    }, 0);
    return () => clearTimeout(timer);
  }, [listed]);
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
  // Read already as the store opened, it is not asked again.
  useEffect(() => {
    if (attempt === 0 && early.identity !== undefined && early.standing !== undefined) return;
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
          <Caseload
            open={open}
            create={() => setView({ name: "new" })}
            onListed={() => setListed(true)}
            opening={takeOpeningPage}
          />
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
