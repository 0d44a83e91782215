// The field worker's app: first run, caseload (search, filters, virtualised list), household
// page, visit and household forms with drafts, and the sync status bar.
import "vazirmatn/Vazirmatn-font-face.css";
import "./style.css";
import { render } from "preact";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { api, asUiError, type Member, type Household, type HouseholdSummary, type Identity, type SyncView, type UiError } from "./api";
import { clearDraft, loadDraft, saveDraft } from "./drafts";
import { faDigits, jalali, jalaliTime, jalaliToIso, normaliseJalali, todayJalali } from "./format";
import { jalaaliMonthLength } from "jalaali-js";
import { language, setLanguage, t, type Key } from "./i18n";

const ROW_HEIGHT = 56;
const PAGE = 100;
const NEEDS = ["income", "employment", "housing", "health", "education", "food"] as const;
const RELATION_LABELS: Record<string, string> = { head: "سرپرست", spouse: "همسر", child: "فرزند", parent: "والد", sibling: "خواهر/برادر", grandchild: "نوه", other: "سایر" };
const KIND_LABELS: Record<string, string> = { home: "بازدید منزل", phone: "تلفنی", office: "حضوری در دفتر", bank_loan: "وام بانکی", job_training: "آموزش شغلی", health: "سلامت", other: "سایر" };
const STATUS_LABELS: Record<string, string> = { referred: "معرفی شده", accepted: "پذیرفته شده", rejected: "رد شده", completed: "انجام شده", cancelled: "لغو شده" };
const label = (labels: Record<string, string>, code: string | undefined) => (code ? labels[code] ?? code : "");
const NEED_LABELS: Record<string, string> = { income: "درآمد", employment: "اشتغال", housing: "مسکن", health: "سلامت", education: "آموزش", food: "تغذیه" };

type View = { name: "list" } | { name: "household"; id: string } | { name: "visit"; id: string } | { name: "new" };

/** An error in the interface's language: Persian where the store gave one. */
function errorText(error: UiError): string {
  return language() === "fa" && error.message_fa ? error.message_fa : error.message;
}

function FieldError({ error, field }: { error: UiError | null; field: string }) {
  if (!error || error.field !== field) return null;
  return <div class="field-error" role="alert" data-field={field} title={error.message}>{errorText(error)}</div>;
}

function FormError({ error, fields }: { error: UiError | null; fields: string[] }) {
  if (!error || (error.field && fields.includes(error.field))) return null;
  return <div class="form-error" role="alert" title={error.message}>{errorText(error)}</div>;
}

/** A Jalali month grid that fills a date field; typing the date works as well. */
function JalaliPicker({ value, onPick, id }: { value: string; onPick: (date: string) => void; id: string }) {
  const [open, setOpen] = useState(false);
  const start = normaliseJalali(value) ?? todayJalali();
  const [year, setYear] = useState(Number(start.slice(0, 4)));
  const [month, setMonth] = useState(Number(start.slice(5, 7)));
  const days = jalaaliMonthLength(year, month);
  // Saturday is the first day of the Persian week.
  const first = new Date(jalaliToIso(year, month, 1) + "T12:00:00").getDay();
  const offset = (first + 1) % 7;
  const shift = (delta: number) => {
    const m = month + delta;
    setYear(year + Math.floor((m - 1) / 12));
    setMonth(((m - 1) % 12 + 12) % 12 + 1);
  };
  return (
    <span class="picker">
      <button type="button" class="secondary" id={`${id}-picker`} aria-label={t("calendar")} onClick={() => {
        if (!open) {
          // Open on the month of what is in the field now.
          const shown = normaliseJalali(value) ?? todayJalali();
          setYear(Number(shown.slice(0, 4)));
          setMonth(Number(shown.slice(5, 7)));
        }
        setOpen(!open);
      }}>{t("calendar")}</button>
      {open && (
        <div class="calendar" role="dialog">
          <div class="calendar-head">
            <button type="button" class="link" onClick={() => shift(-1)}>‹</button>
            <span>{faDigits(`${year}/${String(month).padStart(2, "0")}`)}</span>
            <button type="button" class="link" onClick={() => shift(1)}>›</button>
          </div>
          <div class="calendar-grid">
            {["ش", "ی", "د", "س", "چ", "پ", "ج"].map((d) => <b key={d}>{d}</b>)}
            {Array.from({ length: offset }, (_, i) => <span key={`e${i}`} />)}
            {Array.from({ length: days }, (_, i) => (
              <button type="button" key={i} class="day" data-day={i + 1} onClick={() => {
                onPick(faDigits(`${year}/${String(month).padStart(2, "0")}/${String(i + 1).padStart(2, "0")}`));
                setOpen(false);
              }}>{faDigits(i + 1)}</button>
            ))}
          </div>
        </div>
      )}
    </span>
  );
}

function EnrolForm({ done }: { done: () => void }) {
  const [server, setServer] = useState("");
  const [code, setCode] = useState("");
  const [error, setError] = useState<UiError | null>(null);
  return (
    <form class="enrol" id="enrol-form" onSubmit={async (e) => {
      e.preventDefault();
      try {
        await api.enroll(server, code);
        done();
      } catch (err) {
        setError(asUiError(err));
      }
    }}>
      <input id="enrol-server" dir="ltr" placeholder={t("server")} value={server} onInput={(e) => setServer(e.currentTarget.value)} />
      <input id="enrol-code" dir="ltr" placeholder={t("code")} value={code} onInput={(e) => setCode(e.currentTarget.value)} />
      <button type="submit">{t("enroll")}</button>
      {error && <span class="error-text" title={error.message}>{errorText(error)}</span>}
    </form>
  );
}

function StatusBar({ sync, onSync }: { sync: SyncView | null; onSync: () => void }) {
  const state = sync?.state || "local";
  const [enrolling, setEnrolling] = useState(false);
  const label: Record<string, Key> = { local: "stateLocal", offline: "stateOffline", syncing: "stateSyncing", synced: "stateSynced", error: "stateError" };
  return (
    <footer class={`status status-${state}`} id="sync-status" data-state={state} data-pending={sync?.pending_changes ?? 0}>
      <span class="dot" />
      <strong>{t(label[state] ?? "stateLocal")}</strong>
      <span>{faDigits(sync?.pending_changes ?? 0)} {t("pending")}</span>
      {sync?.last_sync_at && <span>{t("lastSync")}: {jalaliTime(sync.last_sync_at)}</span>}
      {state === "offline" && <span class="error-text" title={sync?.last_error ?? ""}>{t("offlineKept")}</span>}
      {state === "error" && sync?.last_error && <span class="error-text" title={sync.last_error}>{sync.last_error}</span>}
      {state === "local" && !enrolling && <button type="button" class="link" id="enrol-later" onClick={() => setEnrolling(true)}>{t("enroll")}</button>}
      {state === "local" && enrolling && <EnrolForm done={() => { setEnrolling(false); onSync(); }} />}
      <button type="button" id="sync-now" onClick={onSync}>{t("syncNow")}</button>
    </footer>
  );
}

function FirstRun({ onDone }: { onDone: (i: Identity) => void }) {
  const [worker, setWorker] = useState("");
  const [device, setDevice] = useState("");
  const [server, setServer] = useState("");
  const [code, setCode] = useState("");
  const [error, setError] = useState<UiError | null>(null);
  // Naming the worker happens once; a failed enrolment can then be retried or skipped.
  const [created, setCreated] = useState<Identity | null>(null);
  const submit = async (enrol: boolean) => {
    try {
      const identity = created ?? (await api.init(worker, device));
      setCreated(identity);
      if (enrol && server.trim()) await api.enroll(server, code);
      onDone(identity);
    } catch (e) {
      setError(asUiError(e));
    }
  };
  return (
    <main class="card first-run">
      <h1>{t("welcome")}</h1>
      <label>{t("workerName")}<input id="worker-name" value={worker} onInput={(e) => setWorker(e.currentTarget.value)} /></label>
      <FieldError error={error} field="worker name" />
      <label>{t("deviceName")}<input id="device-name" value={device} onInput={(e) => setDevice(e.currentTarget.value)} /></label>
      <FieldError error={error} field="device name" />
      <label>{t("server")}<input id="server-url" dir="ltr" placeholder="https://" value={server} onInput={(e) => setServer(e.currentTarget.value)} /></label>
      <label>{t("code")}<input id="enroll-code" dir="ltr" value={code} onInput={(e) => setCode(e.currentTarget.value)} /></label>
      <FormError error={error} fields={["worker name", "device name"]} />
      <div class="actions">
        <button type="button" id="start-enrol" onClick={() => submit(true)}>{t("enroll")}</button>
        <button type="button" id="start-local" class="secondary" onClick={() => submit(false)}>{t("enrollLater")}</button>
      </div>
    </main>
  );
}

function Caseload({ open, create }: { open: (id: string) => void; create: () => void }) {
  const [query, setQuery] = useState("");
  const [district, setDistrict] = useState("");
  const [status, setStatus] = useState("");
  const [overdue, setOverdue] = useState(false);
  const [minNeed, setMinNeed] = useState("");
  const [worker, setWorker] = useState("");
  const [sort, setSort] = useState("name");
  const [total, setTotal] = useState(0);
  const [rows, setRows] = useState<Map<number, HouseholdSummary>>(new Map());
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(600);
  const box = useRef<HTMLDivElement>(null);
  const generation = useRef(0);

  // A new search or filter starts afresh; pages are fetched as they scroll into view.
  useEffect(() => {
    const gen = ++generation.current;
    const load = async () => {
      if (query.trim()) {
        const found = await api.search(query, 500);
        if (gen !== generation.current) return;
        setRows(new Map(found.map((h, i) => [i, h])));
        setTotal(found.length);
      } else {
        const page = await api.list({ district, status, overdue, worker, min_need: minNeed === "" ? null : Number(minNeed), sort, limit: PAGE, offset: 0 });
        if (gen !== generation.current) return;
        setRows(new Map(page.items.map((h, i) => [i, h])));
        setTotal(page.total);
      }
      if (box.current) box.current.scrollTop = 0;
    };
    load().catch(() => undefined);
  }, [query, district, status, overdue, minNeed, worker, sort]);

  useEffect(() => {
    if (box.current) setHeight(box.current.clientHeight);
  }, []);

  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - 5);
  const last = Math.min(total, Math.ceil((scrollTop + height) / ROW_HEIGHT) + 5);
  useEffect(() => {
    if (query.trim()) return;
    const missing = [...Array(Math.max(0, last - first)).keys()].map((i) => i + first).find((i) => !rows.has(i));
    if (missing === undefined) return;
    const offset = Math.floor(missing / PAGE) * PAGE;
    const gen = generation.current;
    api.list({ district, status, overdue, worker, min_need: minNeed === "" ? null : Number(minNeed), sort, limit: PAGE, offset }).then((page) => {
      if (gen !== generation.current) return;
      setRows((old) => {
        const next = new Map(old);
        page.items.forEach((h, i) => next.set(offset + i, h));
        return next;
      });
    }).catch(() => undefined);
  }, [first, last, rows]);

  const visible = [];
  for (let i = first; i < last; i++) {
    const h = rows.get(i);
    visible.push(
      <div class="row" style={{ top: `${i * ROW_HEIGHT}px`, height: `${ROW_HEIGHT}px` }} key={i}
        role="button" tabIndex={0} data-id={h?.id ?? ""} onClick={() => h && open(h.id)} onKeyDown={(e) => e.key === "Enter" && h && open(h.id)}>
        {h ? (
          <>
            <span class="name">{h.head_name}{h.conflict_count > 0 && <span class="badge warn">{t("conflict")}</span>}</span>
            <span>{faDigits(h.head_national_id ?? "")}</span>
            <span>{h.district}</span>
            <span>{t("lastVisit")}: {jalali(h.last_visit) || "—"}</span>
            <span class={h.next_followup && h.next_followup < new Date().toISOString().slice(0, 10) ? "overdue" : ""}>
              {t("nextFollowup")}: {jalali(h.next_followup) || "—"}
            </span>
          </>
        ) : <span class="loading">…</span>}
      </div>,
    );
  }

  return (
    <main class="caseload">
      <div class="toolbar">
        <input id="search" type="search" placeholder={t("search")} value={query} onInput={(e) => setQuery(e.currentTarget.value)} autoFocus />
        <input id="filter-district" placeholder={t("district")} value={district} onChange={(e) => setDistrict(e.currentTarget.value)} />
        <input id="filter-worker" placeholder={t("assignedWorker")} value={worker} onChange={(e) => setWorker(e.currentTarget.value)} />
        <select id="filter-status" value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
          <option value="">{t("status")}: {t("all")}</option>
          <option value="active">فعال</option>
          <option value="graduated">توانمند شده</option>
          <option value="suspended">معلق</option>
          <option value="closed">بسته</option>
        </select>
        <select id="filter-need" value={minNeed} onChange={(e) => setMinNeed(e.currentTarget.value)}>
          <option value="">{t("needFilter")}: {t("all")}</option>
          {[1, 2, 3, 4].map((n) => <option value={n} key={n}>{t("needFilter")} ≥ {faDigits(n)}</option>)}
        </select>
        <label class="check"><input type="checkbox" checked={overdue} onChange={(e) => setOverdue(e.currentTarget.checked)} />{t("overdue")}</label>
        <select id="sort" value={sort} onChange={(e) => setSort(e.currentTarget.value)}>
          <option value="name">{t("sort")}: {t("sortName")}</option>
          <option value="need">{t("sort")}: {t("sortNeed")}</option>
          <option value="last-visit">{t("sort")}: {t("sortLastVisit")}</option>
          <option value="followup">{t("sort")}: {t("sortFollowup")}</option>
        </select>
        <span class="count" id="result-count">{faDigits(total)} {t("households")}</span>
        <button type="button" id="new-household" onClick={create}>{t("newHousehold")}</button>
      </div>
      <div class="list" ref={box} onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}>
        {total === 0 ? <p class="empty">{t("nothing")}</p> : <div style={{ height: `${total * ROW_HEIGHT}px`, position: "relative" }}>{visible}</div>}
      </div>
    </main>
  );
}

const MEMBER_FIELDS: [string, Key, string][] = [
  ["first_name", "firstName", "first name"], ["last_name", "lastName", "last name"],
  ["national_id", "nationalId", "national ID"], ["birth_date", "birthDate", "birth date"],
];

function MemberForm({ id, member, done }: { id: string; member?: Member; done: (saved: boolean) => void }) {
  const key = member ? `member.${id}.${member.id}` : `member.${id}`;
  const [form, setForm] = useState<Record<string, string>>(() => loadDraft<Record<string, string>>(localStorage, key, member
    ? { first_name: member.first_name, last_name: member.last_name, national_id: member.national_id ?? "", birth_date: member.birth_date ? jalali(member.birth_date) : "", relation: member.relation, sex: member.sex ?? "" }
    : { relation: "child", sex: "" }));
  const [error, setError] = useState<UiError | null>(null);
  const set = (name: string, value: string) => {
    const next = { ...form, [name]: value };
    setForm(next);
    saveDraft(localStorage, key, next);
  };
  return (
    <form class="card member-form" id="member-form" onSubmit={async (e) => {
      e.preventDefault();
      try {
        if (member) await api.editMember(id, member.id, form);
        else await api.addMember(id, form);
        clearDraft(localStorage, key);
        done(true);
      } catch (err) {
        setError(asUiError(err));
      }
    }}>
      <h3>{member ? t("editMember") : t("newMember")}</h3>
      {MEMBER_FIELDS.map(([name, label, field]) => (
        <div key={name}>
          <label>{t(label)}<input id={`member-${name}`} value={form[name] ?? ""} onInput={(e) => set(name, e.currentTarget.value)} /></label>
          <FieldError error={error} field={field} />
        </div>
      ))}
      <label>{t("relation")}
        <select id="member-relation" value={form.relation} onChange={(e) => set("relation", e.currentTarget.value)}>
          {form.relation === "head" && <option value="head">{label(RELATION_LABELS, "head")}</option>}
          <option value="spouse">{t("relationSpouse")}</option><option value="child">{t("relationChild")}</option>
          <option value="parent">{t("relationParent")}</option><option value="other">{t("relationOther")}</option>
        </select>
      </label>
      <label>{t("sex")}
        <select id="member-sex" value={form.sex} onChange={(e) => set("sex", e.currentTarget.value)}>
          <option value="">—</option><option value="female">{t("female")}</option><option value="male">{t("male")}</option>
        </select>
      </label>
      <FormError error={error} fields={MEMBER_FIELDS.map(([, , f]) => f)} />
      <div class="actions"><button type="submit" id="save-member">{t("save")}</button><button type="button" class="secondary" onClick={() => done(false)}>{t("cancel")}</button></div>
    </form>
  );
}

function HouseholdPage({ id, back, visit }: { id: string; back: () => void; visit: () => void }) {
  const [h, setH] = useState<Household | null>(null);
  const [history, setHistory] = useState<{ time: string; worker_name: string; action: string }[]>([]);
  const [error, setError] = useState<UiError | null>(null);
  const [addingMember, setAddingMember] = useState(false);
  const [editing, setEditing] = useState<string | null>(null);
  const reload = () => {
    api.household(id).then(setH).catch((e) => setError(asUiError(e)));
    api.history(id).then(setHistory).catch(() => undefined);
  };
  useEffect(reload, [id]);
  if (error) return <main class="card"><p class="form-error">{errorText(error)}</p><button onClick={back}>{t("back")}</button></main>;
  if (!h) return <main class="card">…</main>;
  const head = h.members.find((m) => m.id === h.head_member_id);
  const conflicted = new Set(h.conflicts.map((c) => c.path));
  return (
    <main class="household" id="household-page" data-id={h.id}>
      <div class="toolbar">
        <button type="button" class="secondary" onClick={back}>{t("back")}</button>
        <h2 id="household-head">{head ? `${head.first_name} ${head.last_name}` : ""}</h2>
        <button type="button" id="new-visit" onClick={visit}>{t("newVisit")}</button>
      </div>
      <section class="card">
        <p>{t("district")}: {h.district} — {t("address")}: {h.address}</p>
        <p>{t("phone")}: <span dir="ltr">{faDigits(h.phone ?? "—")}</span>{conflicted.has("household.phone") && <span class="badge warn">{t("conflict")}</span>}</p>
        {h.conflicts.map((c) => (
          <div class="conflict" key={c.path}>
            <strong>{c.path}</strong>: {c.values.map((v) => `${faDigits(v.value)} (${v.worker_name}، ${jalaliTime(v.time)})`).join(" ⟷ ")}
          </div>
        ))}
      </section>
      <section class="card">
        <h3>{t("members")} ({faDigits(h.members.length)})
          {!addingMember && <button type="button" class="link" id="add-member" onClick={() => setAddingMember(true)}>{t("newMember")}</button>}</h3>
        {addingMember && <MemberForm id={h.id} done={(saved) => { setAddingMember(false); if (saved) reload(); }} />}
        <table id="members"><tbody>
          {h.members.map((m) => (
            editing === m.id ? (
              <tr key={m.id}><td colSpan={5}><MemberForm id={h.id} member={m} done={(saved) => { setEditing(null); if (saved) reload(); }} /></td></tr>
            ) : (
              <tr key={m.id} data-member={m.id}><td>{m.first_name} {m.last_name}</td><td>{label(RELATION_LABELS, m.relation)}</td><td>{faDigits(m.national_id ?? "—")}</td><td>{jalali(m.birth_date)}</td>
                <td><button type="button" class="link edit-member" onClick={() => setEditing(m.id)}>{t("edit")}</button></td></tr>
            )
          ))}
        </tbody></table>
      </section>
      <section class="card">
        <h3>{t("visits")} ({faDigits(h.visits.length)})</h3>
        <ol class="timeline" id="visits">
          {[...h.visits].reverse().map((v) => (
            <li key={v.id}>
              <strong>{jalali(v.date)}</strong> — {label(KIND_LABELS, v.kind)}
              <div>{Object.entries(v.needs).map(([d, s]) => `${NEED_LABELS[d] ?? d}: ${faDigits(s)}`).join("، ")}</div>
              {v.observations && <p>{v.observations}</p>}
              {v.followup_date && <div>{t("followupDate")}: {jalali(v.followup_date)}</div>}
            </li>
          ))}
        </ol>
      </section>
      <section class="card">
        <h3>{t("referrals")} ({faDigits(h.referrals.length)})</h3>
        <ul id="referrals">{h.referrals.map((r) => <li key={r.id}>{label(KIND_LABELS, r.kind)} → {r.target}: {label(STATUS_LABELS, r.history.at(-1)?.status)} ({jalali(r.history.at(-1)?.date)})</li>)}</ul>
      </section>
      <section class="card">
        <h3>{t("history")}</h3>
        <ul class="history">{history.map((c, i) => <li key={i}>{jalaliTime(c.time)} — {c.worker_name} — {c.action}</li>)}</ul>
      </section>
    </main>
  );
}

interface VisitDraft { date: string; kind: string; observations: string; followup: string; needs: Record<string, number>; referralKind: string; referralTarget: string }

function VisitForm({ id, done }: { id: string; done: () => void }) {
  const key = `visit.${id}`;
  const [draft, setDraft] = useState<VisitDraft>(() =>
    loadDraft(localStorage, key, { date: todayJalali(), kind: "home", observations: "", followup: "", needs: {}, referralKind: "", referralTarget: "" }));
  const [error, setError] = useState<UiError | null>(null);
  const update = (patch: Partial<VisitDraft>) => {
    const next = { ...draft, ...patch };
    setDraft(next);
    saveDraft(localStorage, key, next);
  };
  const submit = async (e: Event) => {
    e.preventDefault();
    const date = normaliseJalali(draft.date);
    if (!date) return setError({ code: "invalid", field: "visit date", message: "visit date: not a Jalali date", message_fa: "تاریخ بازدید معتبر نیست (نمونه: ۱۴۰۴/۰۸/۱۵)." });
    const followup = draft.followup.trim() ? normaliseJalali(draft.followup) : "";
    if (followup === null) return setError({ code: "invalid", field: "follow-up date", message: "follow-up date: not a Jalali date", message_fa: "تاریخ پیگیری معتبر نیست (نمونه: ۱۴۰۴/۰۹/۰۱)." });
    if (draft.referralKind && !draft.referralTarget.trim()) {
      return setError({ code: "invalid", field: "target", message: "target: required", message_fa: "مقصد معرفی را وارد کنید." });
    }
    try {
      const { date: _, followup: __, referralKind, referralTarget, ...rest } = draft;
      const visitId = await api.addVisit(id, { ...rest, date, followup });
      if (referralKind) {
        await api.addReferral(id, { kind: referralKind, target: referralTarget, visit_id: visitId, date, note: "" });
      }
      clearDraft(localStorage, key);
      done();
    } catch (err) {
      setError(asUiError(err));
    }
  };
  return (
    <main class="card">
      <form id="visit-form" onSubmit={submit}>
        <h2>{t("newVisit")}</h2>
        <label>{t("visitDate")}<span class="with-picker"><input id="visit-date" value={draft.date} onInput={(e) => update({ date: e.currentTarget.value })} />
          <JalaliPicker id="visit-date" value={draft.date} onPick={(date) => update({ date })} /></span></label>
        <FieldError error={error} field="visit date" />
        <label>{t("kind")}
          <select id="visit-kind" value={draft.kind} onChange={(e) => update({ kind: e.currentTarget.value })}>
            <option value="home">بازدید منزل</option><option value="phone">تلفنی</option><option value="office">حضوری در دفتر</option>
          </select>
        </label>
        <label>{t("observations")}<textarea id="visit-observations" rows={4} value={draft.observations} onInput={(e) => update({ observations: e.currentTarget.value })} /></label>
        <FieldError error={error} field="observations" />
        <fieldset><legend>{t("needs")}</legend>
          {NEEDS.map((d) => (
            <label key={d} class="need">{NEED_LABELS[d]}
              <select data-need={d} value={draft.needs[d] ?? ""} onChange={(e) => {
                const needs = { ...draft.needs };
                if (e.currentTarget.value === "") delete needs[d]; else needs[d] = Number(e.currentTarget.value);
                update({ needs });
              }}>
                <option value="">—</option>{[0, 1, 2, 3, 4].map((s) => <option value={s} key={s}>{faDigits(s)}</option>)}
              </select>
            </label>
          ))}
        </fieldset>
        <fieldset><legend>{t("referral")}</legend>
          <label>{t("kind")}
            <select id="referral-kind" value={draft.referralKind} onChange={(e) => update({ referralKind: e.currentTarget.value })}>
              <option value="">—</option>
              {["bank_loan", "job_training", "health", "other"].map((k) => <option value={k} key={k}>{label(KIND_LABELS, k)}</option>)}
            </select>
          </label>
          <label>{t("referralTarget")}<input id="referral-target" value={draft.referralTarget} onInput={(e) => update({ referralTarget: e.currentTarget.value })} /></label>
          <FieldError error={error} field="target" />
        </fieldset>
        <label>{t("followupDate")}<span class="with-picker"><input id="visit-followup" value={draft.followup} onInput={(e) => update({ followup: e.currentTarget.value })} />
          <JalaliPicker id="visit-followup" value={draft.followup || draft.date} onPick={(followup) => update({ followup })} /></span></label>
        <FieldError error={error} field="follow-up date" />
        <FormError error={error} fields={["visit date", "observations", "follow-up date", "target"]} />
        <p class="hint">{t("draftKept")}</p>
        <div class="actions"><button type="submit" id="save-visit">{t("save")}</button><button type="button" class="secondary" onClick={done}>{t("cancel")}</button></div>
      </form>
    </main>
  );
}

const HOUSEHOLD_FIELDS: [string, Key, string][] = [
  ["first_name", "firstName", "first name"], ["last_name", "lastName", "last name"], ["national_id", "nationalId", "national ID"],
  ["birth_date", "birthDate", "birth date"], ["district", "district", "district"], ["address", "address", "address"], ["phone", "phone", "phone"],
];

function NewHouseholdForm({ done }: { done: (id: string | null) => void }) {
  const key = "household.new";
  const [form, setForm] = useState<Record<string, string>>(() => loadDraft(localStorage, key, {}));
  const [error, setError] = useState<UiError | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    try {
      const id = await api.addHousehold(form);
      clearDraft(localStorage, key);
      done(id);
    } catch (err) {
      setError(asUiError(err));
    }
  };
  return (
    <main class="card">
      <form id="household-form" onSubmit={submit}>
        <h2>{t("newHousehold")}</h2>
        {HOUSEHOLD_FIELDS.map(([name, label, field]) => (
          <div key={name}>
            <label>{t(label)}<input id={`household-${name}`} name={name} value={form[name] ?? ""} onInput={(e) => {
              const next = { ...form, [name]: e.currentTarget.value };
              setForm(next);
              saveDraft(localStorage, key, next);
            }} /></label>
            <FieldError error={error} field={field} />
          </div>
        ))}
        <FormError error={error} fields={HOUSEHOLD_FIELDS.map(([, , f]) => f)} />
        <div class="actions"><button type="submit" id="save-household">{t("save")}</button><button type="button" class="secondary" onClick={() => done(null)}>{t("cancel")}</button></div>
      </form>
    </main>
  );
}

function App() {
  const [identity, setIdentity] = useState<Identity | null | undefined>(undefined);
  const [view, setView] = useState<View>({ name: "list" });
  const [sync, setSync] = useState<SyncView | null>(null);
  const [, setLang] = useState(language());
  useEffect(() => {
    api.identity().then(setIdentity).catch(() => setIdentity(null));
    const poll = () => api.syncStatus().then(setSync).catch(() => undefined);
    poll();
    const timer = setInterval(poll, 2000);
    return () => clearInterval(timer);
  }, []);
  const header = useMemo(() => (
    <header class="top">
      <h1>{t("app")}</h1>
      <nav><button type="button" class="link" onClick={() => setView({ name: "list" })}>{t("caseload")}</button></nav>
      <span class="who">{identity?.worker_name}</span>
      <button type="button" class="link" onClick={() => { setLanguage(language() === "fa" ? "en" : "fa"); setLang(language()); }}>{t("language")}</button>
    </header>
  ), [identity, view]);
  if (identity === undefined) return null;
  if (identity === null) return <FirstRun onDone={setIdentity} />;
  return (
    <div class="shell">
      {header}
      {view.name === "list" && <Caseload open={(id) => setView({ name: "household", id })} create={() => setView({ name: "new" })} />}
      {view.name === "household" && <HouseholdPage id={view.id} back={() => setView({ name: "list" })} visit={() => setView({ name: "visit", id: view.id })} />}
      {view.name === "visit" && <VisitForm id={view.id} done={() => setView({ name: "household", id: view.id })} />}
      {view.name === "new" && <NewHouseholdForm done={(id) => setView(id ? { name: "household", id } : { name: "list" })} />}
      <StatusBar sync={sync} onSync={() => { api.syncNow(); }} />
    </div>
  );
}

setLanguage("fa");
const root = document.getElementById("app");
if (root) render(<App />, root);
