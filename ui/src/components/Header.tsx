// The top bar: the app's name, the way back to the caseload, who is working, and the language.
import type { Identity } from "../api";
import { type Language, t } from "../i18n";

export function Header({
  identity,
  language,
  onCaseload,
  onLanguage,
}: {
  identity: Identity;
  /** The interface's language: a prop, so the header renders again when it changes. */
  language: Language;
  onCaseload: () => void;
  onLanguage: (next: Language) => void;
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
    </header>
  );
}
