// How errors show: next to their field, for the form as a whole, or in place of what failed to
// load (with a way to try again). Messages are Persian where the store gave one.
import type { UiError } from "../api";
import type { Field } from "../bindings/Field";
import { language, t } from "../i18n";

/** An error in the interface's language: Persian where the store gave one. */
export function errorText(error: UiError): string {
  return language() === "fa" && error.message_fa ? error.message_fa : error.message;
}

/** The error of one field, shown under it. */
export function FieldError({ error, field }: { error: UiError | null; field: Field }) {
  if (!error || error.field !== field) return null;
  return (
    <div class="field-error" role="alert" data-field={field} title={error.message}>
      {errorText(error)}
    </div>
  );
}

/** An error that belongs to none of the form's fields (or to no field at all). */
export function FormError({ error, fields }: { error: UiError | null; fields: readonly Field[] }) {
  if (!error || (error.field && fields.includes(error.field))) return null;
  return (
    <div class="form-error" role="alert" title={error.message}>
      {errorText(error)}
    </div>
  );
}

/** What failed to load, said plainly, with a button to try again. */
export function LoadError({ error, retry }: { error: UiError; retry: () => void }) {
  return (
    <div class="load-error" role="alert">
      <p class="form-error" title={error.message}>
        {t("loadFailed")} {errorText(error)}
      </p>
      <button type="button" class="retry" onClick={retry}>
        {t("retry")}
      </button>
    </div>
  );
}
