// Registering a household with its head; the draft survives closing the app. Before saving,
// the households this replica holds that look like the same family (and, online, the groups
// that registered the head's national ID) are shown, with a way to open that household instead.
import { useState } from "preact/hooks";
import { api, asUiError, type HouseholdText, type RegistrationMatch, type UiError } from "../api";
import type { Field } from "../bindings/Field";
import { FieldError, FormError } from "../components/Errors";
import { askServer, MatchWarning, type ServerAnswer, worthWarning } from "../components/MatchWarning";
import { clearDraft, drafts, loadDraft, saveDraft } from "../drafts";
import { t } from "../i18n";
import { fieldLabel } from "../labels";

/** The form's inputs, each named by its field code (the key of HouseholdText it fills). */
const FIELDS = [
  "first_name",
  "last_name",
  "national_id",
  "birth_date",
  "district",
  "address",
  "phone",
  "father_name",
] as const satisfies readonly (keyof HouseholdText & Field)[];

export function HouseholdForm({
  done,
  open,
}: {
  done: (id: string | null) => void;
  /** Opens a household that matched, instead of registering this one. */
  open: (id: string) => void;
}) {
  const key = "household.new";
  const [form, setForm] = useState<HouseholdText>(() => loadDraft<HouseholdText>(drafts, key, {}));
  const [error, setError] = useState<UiError | null>(null);
  // What the check found for the form as it stands; typing again clears it.
  const [warned, setWarned] = useState<{ matches: RegistrationMatch[]; server: ServerAnswer } | null>(null);
  const save = async () => {
    try {
      const id = await api.addHousehold(form);
      clearDraft(drafts, key);
      done(id);
    } catch (err) {
      setError(asUiError(err));
    }
  };
  const submit = async (e: Event) => {
    e.preventDefault();
    try {
      const [matches, server] = await Promise.all([api.registrationMatches(form), askServer(form.national_id)]);
      setError(null);
      if (worthWarning(matches, server)) {
        setWarned({ matches, server });
        return;
      }
    } catch (err) {
      return setError(asUiError(err));
    }
    await save();
  };
  return (
    <main class="card">
      <form id="household-form" onSubmit={submit}>
        <h2>{t("newHousehold")}</h2>
        {warned && (
          <MatchWarning
            matches={warned.matches}
            server={warned.server}
            // The draft stays: nothing typed is lost if the worker comes back to it.
            open={open}
            proceed={save}
          />
        )}
        {FIELDS.map((name) => (
          <div key={name}>
            <label>
              {fieldLabel(name)}
              <input
                id={`household-${name}`}
                name={name}
                value={form[name] ?? ""}
                onInput={(e) => {
                  const next = { ...form, [name]: e.currentTarget.value };
                  setForm(next);
                  // A changed form is checked again before it is saved.
                  setWarned(null);
                  saveDraft(drafts, key, next);
                }}
              />
            </label>
            <FieldError error={error} field={name} />
          </div>
        ))}
        <FormError error={error} fields={FIELDS} />
        <div class="actions">
          <button type="submit" id="save-household">
            {t("save")}
          </button>
          <button type="button" class="secondary" onClick={() => done(null)}>
            {t("cancel")}
          </button>
        </div>
      </form>
    </main>
  );
}
