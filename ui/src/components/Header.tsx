// The top bar: the app's name, the navigation the worker's role allows (with counts beside the
// review queue and the conflicts inbox), who is working and in which role, the language, and
// "lock now".
import type { Identity, NavCounts, Standing } from "../api";
import type { Role } from "../bindings/Role";
import { faDigits } from "../format";
import { type Key, type Language, t } from "../i18n";
import { label, vocabularies } from "../labels";

/** A screen of the navigation. */
export type Screen = "list" | "review" | "conflicts" | "caseloads" | "duplicates" | "reports";

const SCREEN_LABELS: Record<Screen, Key> = {
  list: "caseload",
  review: "navReview",
  conflicts: "navConflicts",
  caseloads: "navCaseloads",
  duplicates: "navDuplicates",
  reports: "navReports",
};

/** What each role works on: a field worker their caseload; a supervisor (within the group) and
 * a coordinator (across groups) the reconciliation of the register as well. Everyone has the
 * reports, each of their own scope (the store computes them from what the replica holds). The
 * store and the server check every action again; this only shows what the role can do. */
export function screensFor(role: Role): readonly Screen[] {
  return role === "field" ? FIELD : REVIEWER;
}
const FIELD: readonly Screen[] = ["list", "reports"];
const REVIEWER: readonly Screen[] = ["list", "review", "conflicts", "caseloads", "duplicates", "reports"];

function count(screen: Screen, counts: NavCounts | null): number {
  if (!counts) return 0;
  if (screen === "review") return counts.awaiting_review;
  if (screen === "conflicts") return counts.conflicts;
  if (screen === "list") return counts.returned;
  return 0;
}

export function Header({
  identity,
  standing,
  language,
  counts,
  current,
  onScreen,
  onLanguage,
  onLock,
}: {
  identity: Identity;
  standing: Standing;
  /** The interface's language: a prop, so the header renders again when it changes. */
  language: Language;
  counts: NavCounts | null;
  /** The screen showing, when it is one of the navigation's. */
  current: Screen | null;
  onScreen: (screen: Screen) => void;
  onLanguage: (next: Language) => void;
  /** Closes the store until the passphrase is typed again. */
  onLock: () => void;
}) {
  const screens = screensFor(standing.role);
  return (
    <header class="top" lang={language}>
      <h1>{t("app")}</h1>
      <nav aria-label={t("navigation")}>
        {screens.map((screen, i) => {
          const n = count(screen, counts);
          return (
            <button
              type="button"
              class={`link nav${current === screen ? " current" : ""}`}
              id={`nav-${screen === "list" ? "caseload" : screen}`}
              key={screen}
              aria-current={current === screen ? "page" : undefined}
              title={`Alt+${i + 1}`}
              onClick={() => onScreen(screen)}
            >
              {t(SCREEN_LABELS[screen])}
              {n > 0 && (
                <span class="count-badge" data-count={n}>
                  {faDigits(n)}
                </span>
              )}
            </button>
          );
        })}
      </nav>
      <span class="who">
        {identity.worker_name}
        {standing.role !== "field" && (
          <span class="role" id="role">
            {" "}
            — {label(vocabularies.Role, standing.role)}
            {standing.group && ` (${standing.group})`}
          </span>
        )}
      </span>
      <button type="button" class="link" id="language" onClick={() => onLanguage(language === "fa" ? "en" : "fa")}>
        {t("language")}
      </button>
      <button type="button" class="link" id="lock-now" onClick={onLock}>
        {t("lockNow")}
      </button>
    </header>
  );
}
