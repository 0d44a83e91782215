// Adding a member to a household or correcting one; the draft survives closing the app. Before
// a new member is saved, households that already hold someone like them (the same national ID,
// or name and birth date) are shown, with a way to open that household instead.
import { useState } from "preact/hooks";
import { api, asUiError, type Member, type MemberText, type RegistrationMatch, type UiError } from "../api";
import type { Field } from "../bindings/Field";
import { FieldError, FormError } from "../components/Errors";
import { askServer, MatchWarning, type ServerAnswer, worthWarning } from "../components/MatchWarning";
import { clearDraft, drafts, loadDraft, saveDraft } from "../drafts";
import { jalali } from "../format";
import { t } from "../i18n";
import { fieldLabel, label, vocabularies } from "../labels";

type MemberKey = keyof MemberText;
type MemberDraft = Partial<Record<MemberKey, string>>;

/** The text fields of the form, each named by its field code. */
const TEXT_FIELDS = [
  "first_name",
  "last_name",
  "father_name",
  "national_id",
  "birth_date",
] as const satisfies readonly (MemberKey & Field)[];
const FORM_FIELDS: readonly Field[] = [...TEXT_FIELDS, "relation", "sex"];
const ALL_KEYS: readonly MemberKey[] = [
  "first_name",
  "last_name",
  "national_id",
  "birth_date",
  "sex",
  "relation",
  "education",
  "employment",
  "health_notes",
  "disability_notes",
  "father_name",
];

/** What the command receives: every field, `null` where the form has nothing. */
export function memberText(draft: MemberDraft): MemberText {
  return Object.fromEntries(ALL_KEYS.map((k) => [k, draft[k] ?? null])) as MemberText;
}

function fromMember(m: Member): MemberDraft {
  return {
    first_name: m.first_name,
    last_name: m.last_name,
    national_id: m.national_id ?? "",
    father_name: m.father_name ?? "",
    birth_date: m.birth_date ? jalali(m.birth_date) : "",
    relation: m.relation,
    sex: m.sex ?? "",
  };
}

export function MemberForm({
  id,
  member,
  done,
  open,
}: {
  id: string;
  member?: Member;
  done: (saved: boolean) => void;
  /** Opens a household that matched a new member, instead of adding them here. */
  open?: (id: string) => void;
}) {
  const key = member ? `member.${id}.${member.id}` : `member.${id}`;
  const [form, setForm] = useState<MemberDraft>(() =>
    loadDraft<MemberDraft>(drafts, key, member ? fromMember(member) : { relation: "child", sex: "" }),
  );
  const [error, setError] = useState<UiError | null>(null);
  const [warned, setWarned] = useState<{ matches: RegistrationMatch[]; server: ServerAnswer } | null>(null);
  const set = (name: MemberKey, value: string) => {
    const next = { ...form, [name]: value };
    setForm(next);
    saveDraft(drafts, key, next);
    setWarned(null);
  };
  const save = async () => {
    try {
      if (member) await api.editMember(id, member.id, memberText(form));
      else await api.addMember(id, memberText(form));
      clearDraft(drafts, key);
      done(true);
    } catch (err) {
      setError(asUiError(err));
    }
  };
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!member && open) {
      try {
        const [matches, server] = await Promise.all([
          api.memberMatches(id, memberText(form)),
          askServer(form.national_id),
        ]);
        setError(null);
        if (worthWarning(matches, server)) return setWarned({ matches, server });
      } catch (err) {
        return setError(asUiError(err));
      }
    }
    await save();
  };
  // Only the head is the head: the option shows for them alone.
  const relations = vocabularies.Relation.filter((r) => r.code !== "head" || form.relation === "head");
  return (
    <form class="card member-form" id="member-form" onSubmit={submit}>
      <h3>{member ? t("editMember") : t("newMember")}</h3>
      {warned && open && <MatchWarning matches={warned.matches} server={warned.server} open={open} proceed={save} />}
      {TEXT_FIELDS.map((name) => (
        <div key={name}>
          <label>
            {fieldLabel(name)}
            <input id={`member-${name}`} value={form[name] ?? ""} onInput={(e) => set(name, e.currentTarget.value)} />
          </label>
          <FieldError error={error} field={name} />
        </div>
      ))}
      <label>
        {fieldLabel("relation")}
        <select id="member-relation" value={form.relation} onChange={(e) => set("relation", e.currentTarget.value)}>
          {relations.map((r) => (
            <option value={r.code} key={r.code}>
              {label(vocabularies.Relation, r.code)}
            </option>
          ))}
        </select>
      </label>
      <FieldError error={error} field="relation" />
      <label>
        {fieldLabel("sex")}
        <select id="member-sex" value={form.sex} onChange={(e) => set("sex", e.currentTarget.value)}>
          <option value="">—</option>
          {vocabularies.Sex.map((s) => (
            <option value={s.code} key={s.code}>
              {label(vocabularies.Sex, s.code)}
            </option>
          ))}
        </select>
      </label>
      <FieldError error={error} field="sex" />
      <FormError error={error} fields={FORM_FIELDS} />
      <div class="actions">
        <button type="submit" id="save-member">
          {t("save")}
        </button>
        <button type="button" class="secondary" onClick={() => done(false)}>
          {t("cancel")}
        </button>
      </div>
    </form>
  );
}
