// The top bar: the app's name, the way back to the caseload, who is working, the language, and
// "lock now".
import type { Identity } from "../api";
import { type Language, t } from "../i18n";

export function Header({
  identity,
  language,
  onCaseload,
  onLanguage,
  onLock,
}: {
  identity: Identity;
  /** The interface's language: a prop, so the header renders again when it changes. */
  language: Language;
  onCaseload: () => void;
  onLanguage: (next: Language) => void;
  /** Closes the store until the passphrase is typed again. */
  onLock: () => void;
}) {
  return (
    <header class="top" lang={language}>
      <h1>{t("app")}</h1>
      <nav>
        <button type="button" class="link" id="nav-caseload" onClick={onCaseload}>
          {t("caseload")}
        </button>
      </nav>
      <span class="who">{identity.worker_name}</span>
      <button type="button" class="link" id="language" onClick={() => onLanguage(language === "fa" ? "en" : "fa")}>
        {t("language")}
      </button>
      <button type="button" class="link" id="lock-now" onClick={onLock}>
        {t("lockNow")}
      </button>
    </header>
  );
}
