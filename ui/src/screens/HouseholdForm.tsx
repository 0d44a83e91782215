// Registering a household with its head; the draft survives closing the app.
import { useState } from "preact/hooks";
import { api, asUiError, type HouseholdText, type UiError } from "../api";
import type { Field } from "../bindings/Field";
import { FieldError, FormError } from "../components/Errors";
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
] as const satisfies readonly (keyof HouseholdText & Field)[];

export function HouseholdForm({ done }: { done: (id: string | null) => void }) {
  const key = "household.new";
  const [form, setForm] = useState<HouseholdText>(() => loadDraft<HouseholdText>(drafts, key, {}));
  const [error, setError] = useState<UiError | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    try {
      const id = await api.addHousehold(form);
      clearDraft(drafts, key);
      done(id);
    } catch (err) {
      setError(asUiError(err));
    }
  };
  return (
    <main class="card">
      <form id="household-form" onSubmit={submit}>
        <h2>{t("newHousehold")}</h2>
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
