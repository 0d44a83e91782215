// Labels of domain words (fields, relations, kinds, statuses, actions) in the interface's
// language, read only from the vocabulary generated from the Rust types.
import type { Field } from "./bindings/Field";
import { type Term, vocabularies } from "./bindings/vocabulary";
import { language } from "./i18n";

export { vocabularies };

/** The label of a code in a vocabulary; the code itself when this version does not know it. */
export function label<C extends string>(terms: readonly Term<C>[], code: C | string | null | undefined): string {
  if (!code) return "";
  const term = terms.find((x) => x.code === code);
  if (!term) return code;
  return language() === "fa" ? term.fa : capitalise(term.en);
}

/** A form field's label. */
export function fieldLabel(field: Field): string {
  return label(vocabularies.Field, field);
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
