// Case outcomes on the household page and the visit form, with only Tauri's IPC mocked: the
// plan panel (goals by domain, steps with their partner and overdue ones in red, adding a goal
// and a partner step, the graduation box: unmet criteria in Persian, confirmation for
// supervisors only, re-entry), the referral ledger (only the next states the ledger allows, the
// amount a disbursement needs and the reason a refusal needs, stalled referrals in red with the
// days over), the need trend, the visit form's step choices sent as progress with the visit,
// its partner select by the referral's kind, and follow-ups labelled by kind.
import { fireEvent, render, screen, waitFor } from "@testing-library/preact";
import { describe, expect, it, vi } from "vitest";
import type { Goal, LedgerEntry, Partner, PlanView, Referral, Standing, Step } from "../api";
import { asField, asSupervisor, details, fieldWorker, ID, summary, supervisorIdentity } from "../test/fixtures";
import { EMPTY_PLAN, type Handler, mockCommands } from "../test/ipc";
import { WorkersProvider } from "../workers";
import { Caseload } from "./Caseload";
import { HouseholdPage } from "./Household";
import { rials, typedAmount } from "./ReferralLedger";
import { VisitForm } from "./VisitForm";

const GOAL = "0190b7c4-6a7e-7000-8000-0000000000g1";
const STEP_OPEN = "0190b7c4-6a7e-7000-8000-0000000000s1";
const STEP_DONE = "0190b7c4-6a7e-7000-8000-0000000000s2";
const REFERRAL = "0190b7c4-6a7e-7000-8000-0000000000r1";

function el(selector: string, root: ParentNode = document): HTMLElement {
  const found = root.querySelector<HTMLElement>(selector);
  if (!found) throw new Error(`no ${selector}`);
  return found;
}

const byTestId = (id: string, root: ParentNode = document) => el(`[data-testid="${id}"]`, root);

function type(target: HTMLElement, value: string) {
  fireEvent.input(target, { target: { value } });
}

function choose(target: HTMLElement, value: string) {
  fireEvent.change(target, { target: { value } });
}

function options(select: HTMLElement): string[] {
  return [...(select as HTMLSelectElement).options].map((o) => o.value).filter((v) => v);
}

const partners: Partner[] = [
  { code: "bank-melli", kind: "bank", name: "بانک ملی", branch: "شعبهٔ انقلاب", district: null, active: true },
  { code: "bank-old", kind: "bank", name: "بانک قدیم", branch: null, district: null, active: false },
  { code: "tvto", kind: "training_centre", name: "فنی و حرفه‌ای", branch: "مرکز بهشتی", district: null, active: true },
];

function step(patch: Partial<Step> = {}): Step {
  return {
    id: STEP_OPEN,
    what: "تشکیل پروندهٔ وام",
    owner: "partner",
    partner: "bank-melli",
    target_date: "2025-01-10",
    worker_id: "w1",
    at: "2025-01-01T08:00:00Z",
    progress: [],
    ...patch,
  };
}

function goal(steps: Step[] = [step()]): Goal {
  return {
    id: GOAL,
    domain: "income",
    title: "درآمد ثابت",
    worker_id: "w1",
    at: "2025-01-01T08:00:00Z",
    steps,
  };
}

function plan(patch: Partial<PlanView> = {}): PlanView {
  return {
    ...EMPTY_PLAN,
    goals: [goal()],
    unmet_fa: ["هدف «درآمد ثابت» هنوز ۱ گام باز دارد", "بیشترین نیاز در آخرین بازدید ۳ است"],
    unmet_en: ["goal “درآمد ثابت” has 1 open step", "the highest need on the last visit is 3"],
    recent_highest: [3],
    overdue_steps: [STEP_OPEN],
    partners: [partners[0]],
    ...patch,
  };
}

function referral(history: Referral["history"]): Referral {
  return { id: REFERRAL, kind: "bank_loan", partner: "bank-melli", target: "", visit_id: null, history };
}

const sent = {
  id: "e1",
  status: "sent" as const,
  date: "2025-01-01",
  worker_id: "w1",
  note: "",
  amount: null,
  reason: null,
};

function ledgerEntry(patch: Partial<LedgerEntry> = {}): LedgerEntry {
  return {
    referral: referral([sent]),
    partner: partners[0],
    days_in_state: 5,
    limit_days: 14,
    stalled: false,
    next: ["received", "refused", "withdrawn"],
    ...patch,
  };
}

function page(handlers: Record<string, Handler>, standing: Standing = asField) {
  const calls = mockCommands({
    household: () => details(),
    history: () => [],
    may_read_access_history: () => false,
    caseloads: () => [],
    partners: () => partners,
    ...handlers,
  });
  const identity = standing.role === "field" ? fieldWorker : supervisorIdentity;
  render(
    <WorkersProvider identity={identity} standing={standing}>
      <HouseholdPage
        id={ID}
        standing={standing}
        identity={identity}
        back={vi.fn()}
        open={vi.fn()}
        visit={vi.fn()}
        changed={vi.fn()}
      />
    </WorkersProvider>,
  );
  return calls;
}

describe("the plan panel", () => {
  it("lists goals by domain with their steps: partner's name, Jalali target, overdue in red", async () => {
    page({ plan: () => plan() });
    const row = await waitFor(() => byTestId(`step-${STEP_OPEN}`));
    expect(el('[data-domain="income"] h4').textContent).toBe("درآمد");
    expect(row.textContent).toContain("بانک ملی — شعبهٔ انقلاب");
    expect(row.textContent).toContain("۱۴۰۳/۱۰/۲۱");
    expect(row.classList.contains("overdue")).toBe(true);
    expect(row.textContent).toContain("برنامه‌ریزی شده");
  });

  it("shows the unmet criteria in Persian, and no confirmation", async () => {
    page({ plan: () => plan() }, asSupervisor);
    const box = await waitFor(() => byTestId("graduation-box"));
    expect(box.dataset.state).toBe("unmet");
    const unmet = [...box.querySelectorAll(".unmet li")].map((li) => li.textContent);
    expect(unmet).toEqual(["هدف «درآمد ثابت» هنوز ۱ گام باز دارد", "بیشترین نیاز در آخرین بازدید ۳ است"]);
    expect(document.querySelector('[data-testid="graduate-confirm"]')).toBeNull();
  });

  it("proposes graduation; only a supervisor or coordinator may confirm it, with a reason", async () => {
    const proposed = plan({ proposed: true, unmet_fa: [], unmet_en: [], overdue_steps: [] });
    page({ plan: () => proposed });
    const box = await waitFor(() => byTestId("graduation-box"));
    expect(box.dataset.state).toBe("proposed");
    expect(box.textContent).toMatch(/پیشنهاد می‌شود/);
    expect(box.querySelector('[data-testid="graduate-confirm"]')).toBeNull();
    expect(box.textContent).toMatch(/سرپرست گروه/);
    expect(box.querySelector('[data-testid="criteria-edit"]')).toBeNull();
  });

  it("confirms a graduation for a supervisor: a reason first, then the household reloads", async () => {
    let graduated = false;
    const calls = page(
      {
        household: () =>
          details(
            graduated
              ? {
                  status: "graduated",
                  status_events: [
                    {
                      id: "g1",
                      status: "graduated",
                      worker_id: "s1",
                      at: "2025-02-01T08:00:00Z",
                      reason: "دو بازدید با نیاز کم",
                    },
                  ],
                }
              : {},
          ),
        plan: () => plan({ proposed: true, unmet_fa: [], unmet_en: [], overdue_steps: [] }),
        graduate: () => {
          graduated = true;
          return null;
        },
      },
      asSupervisor,
    );
    const confirm = await waitFor(() => byTestId("graduate-confirm"));
    fireEvent.click(confirm);
    await waitFor(() => expect(byTestId("graduation-box").querySelector('[role="alert"]')).not.toBeNull());
    expect(calls.some((c) => c.cmd === "graduate")).toBe(false);
    type(byTestId("graduate-reason"), "دو بازدید با نیاز کم");
    fireEvent.click(confirm);
    await waitFor(() => expect(byTestId("graduated-badge").textContent).toBe("توانمند شده"));
    expect(calls.find((c) => c.cmd === "graduate")?.args).toEqual({ household: ID, reason: "دو بازدید با نیاز کم" });
    // Graduated: re-entry for the supervisor, no more goals or steps.
    expect(byTestId("graduation-box").dataset.state).toBe("graduated");
    expect(byTestId("reenter-confirm")).not.toBeNull();
    expect(document.querySelector('[data-testid="goal-add"]')).toBeNull();
  });

  it("shows a refused graduation in Persian", async () => {
    page(
      {
        plan: () => plan({ proposed: true, unmet_fa: [], unmet_en: [] }),
        graduate: () => {
          throw {
            code: "not_allowed",
            field: null,
            message: "not allowed: graduation needs every goal met",
            message_fa: "شرایط توانمندی هنوز فراهم نیست: هدف «درآمد ثابت» هنوز باز است",
          };
        },
      },
      asSupervisor,
    );
    type(await waitFor(() => byTestId("graduate-reason")), "پایان برنامه");
    fireEvent.click(byTestId("graduate-confirm"));
    const alert = await waitFor(() => el('[data-testid="graduation-box"] [role="alert"]'));
    expect(alert.textContent).toMatch(/هدف «درآمد ثابت» هنوز باز است/);
  });

  it("adds a goal, then a partner step with the partner chosen from the directory", async () => {
    const calls = page({
      plan: () => plan({ goals: [goal([])], overdue_steps: [] }),
      add_goal: () => GOAL,
      add_step: () => STEP_OPEN,
    });
    fireEvent.click(await waitFor(() => byTestId("goal-add")));
    choose(byTestId("goal-domain"), "employment");
    type(byTestId("goal-title"), "کار پایدار");
    fireEvent.click(byTestId("goal-save"));
    await waitFor(() => expect(calls.some((c) => c.cmd === "add_goal")).toBe(true));
    expect(calls.find((c) => c.cmd === "add_goal")?.args).toEqual({
      household: ID,
      goal: { domain: "employment", title: "کار پایدار" },
    });

    fireEvent.click(await waitFor(() => byTestId(`step-add-${GOAL}`)));
    type(byTestId("step-what"), "وام خوداشتغالی");
    choose(byTestId("step-owner"), "partner");
    // An income goal's partner is first looked for among banks; only active ones are offered.
    expect((byTestId("step-partner-kind") as HTMLSelectElement).value).toBe("bank");
    expect(options(byTestId("step-partner"))).toEqual(["bank-melli"]);
    choose(byTestId("step-partner-kind"), "training_centre");
    expect(options(byTestId("step-partner"))).toEqual(["tvto"]);
    choose(byTestId("step-partner-kind"), "bank");
    // Without a partner chosen, nothing is sent.
    fireEvent.click(byTestId("step-save"));
    expect((await screen.findByRole("alert")).dataset.field).toBe("partner");
    expect(calls.some((c) => c.cmd === "add_step")).toBe(false);
    choose(byTestId("step-partner"), "bank-melli");
    type(byTestId("step-target"), "۱۴۰۵/۰۱/۱۵");
    fireEvent.click(byTestId("step-save"));
    await waitFor(() => expect(calls.some((c) => c.cmd === "add_step")).toBe(true));
    expect(calls.find((c) => c.cmd === "add_step")?.args).toEqual({
      household: ID,
      goal: GOAL,
      step: { what: "وام خوداشتغالی", owner: "partner", partner: "bank-melli", target_date: "1405-01-15" },
    });
  });

  it("sends no partner for a step the worker carries out", async () => {
    const calls = page({ plan: () => plan({ goals: [goal([])] }), add_step: () => STEP_OPEN });
    fireEvent.click(await waitFor(() => byTestId(`step-add-${GOAL}`)));
    type(byTestId("step-what"), "پیگیری مدارک");
    expect(document.querySelector('[data-testid="step-partner"]')).toBeNull();
    fireEvent.click(byTestId("step-save"));
    await waitFor(() => expect(calls.some((c) => c.cmd === "add_step")).toBe(true));
    expect(calls.find((c) => c.cmd === "add_step")?.args.step).toEqual({
      what: "پیگیری مدارک",
      owner: "worker",
      partner: undefined,
      target_date: undefined,
    });
  });
});

describe("the referral ledger", () => {
  it("offers only the states the ledger allows next", async () => {
    page({ referral_ledger: () => [ledgerEntry()] });
    const entry = await waitFor(() => byTestId(`referral-${REFERRAL}`));
    expect(options(byTestId("referral-next-state", entry))).toEqual(["received", "refused", "withdrawn"]);
    expect(entry.textContent).toContain("بانک ملی — شعبهٔ انقلاب");
    expect(entry.textContent).toContain("۵ روز در این وضعیت");
    expect(entry.dataset.stalled).toBe("false");
  });

  it("needs an amount to record a disbursement, and sends it as typed", async () => {
    const approved = ledgerEntry({
      referral: referral([sent, { ...sent, id: "e2", status: "approved", date: "2025-01-05" }]),
      next: ["disbursed", "refused", "withdrawn"],
    });
    const calls = page({ referral_ledger: () => [approved], update_referral_step: () => null });
    const entry = await waitFor(() => byTestId(`referral-${REFERRAL}`));
    choose(byTestId("referral-next-state", entry), "disbursed");
    fireEvent.click(byTestId("referral-step-save", entry));
    const error = await screen.findByRole("alert");
    expect(error.dataset.field).toBe("amount");
    expect(error.textContent).toMatch(/ریال/);
    expect(calls.some((c) => c.cmd === "update_referral_step")).toBe(false);
    type(byTestId("referral-amount", entry), "۱۲۰,۰۰۰,۰۰۰");
    expect(byTestId("referral-amount-shown", entry).textContent).toBe("۱۲۰٬۰۰۰٬۰۰۰ ریال");
    fireEvent.click(byTestId("referral-step-save", entry));
    await waitFor(() => expect(calls.some((c) => c.cmd === "update_referral_step")).toBe(true));
    expect(calls.find((c) => c.cmd === "update_referral_step")?.args).toEqual({
      household: ID,
      referral: REFERRAL,
      step: { status: "disbursed", date: undefined, note: "", amount: "۱۲۰,۰۰۰,۰۰۰", reason: undefined },
    });
  });

  it("needs a reason to record a refusal", async () => {
    const calls = page({ referral_ledger: () => [ledgerEntry()], update_referral_step: () => null });
    const entry = await waitFor(() => byTestId(`referral-${REFERRAL}`));
    choose(byTestId("referral-next-state", entry), "refused");
    expect(entry.querySelector('[data-testid="referral-amount"]')).toBeNull();
    fireEvent.click(byTestId("referral-step-save", entry));
    expect((await screen.findByRole("alert")).dataset.field).toBe("reason");
    type(byTestId("referral-reason", entry), "ضامن ندارد");
    fireEvent.click(byTestId("referral-step-save", entry));
    await waitFor(() => expect(calls.some((c) => c.cmd === "update_referral_step")).toBe(true));
    expect(calls.find((c) => c.cmd === "update_referral_step")?.args.step).toMatchObject({
      status: "refused",
      reason: "ضامن ندارد",
      amount: undefined,
    });
  });

  it("shows a stalled referral in red with the days over its limit, and the history with amounts", async () => {
    const stalled = ledgerEntry({
      referral: referral([
        sent,
        { ...sent, id: "e2", status: "approved", date: "2025-01-05", worker_id: "w1", note: "تأیید شعبه" },
      ]),
      days_in_state: 47,
      limit_days: 30,
      stalled: true,
      next: ["disbursed", "refused", "withdrawn"],
    });
    const paid = ledgerEntry({
      referral: {
        ...referral([sent, { ...sent, id: "e3", status: "disbursed", date: "2025-02-01", amount: 150000000 }]),
        id: "r2",
      },
      limit_days: null,
      next: [],
    });
    page({ referral_ledger: () => [stalled, paid] });
    const entry = await waitFor(() => byTestId(`referral-${REFERRAL}`));
    expect(entry.dataset.stalled).toBe("true");
    expect(entry.classList.contains("stalled")).toBe(true);
    expect(byTestId("referral-over", entry).textContent).toBe("معطل: ۱۷ روز بیش از مهلت");
    expect(entry.textContent).toContain("تأیید شعبه");
    expect(entry.textContent).toContain("زهرا رضایی");
    const done = byTestId("referral-r2");
    expect(el(".amount", done).textContent).toBe("۱۵۰٬۰۰۰٬۰۰۰");
    // A finished referral has no next step to record.
    expect(done.querySelector('[data-testid="referral-next-state"]')).toBeNull();
  });

  it("formats and reads amounts of rials in any digits", () => {
    expect(rials(1500)).toBe("۱٬۵۰۰");
    expect(rials(999)).toBe("۹۹۹");
    expect(typedAmount("۱۲٬۵۰۰٬۰۰۰")).toBe(12500000);
    expect(typedAmount("12 500")).toBe(12500);
    expect(typedAmount("۱۲ هزار")).toBeNull();
  });
});

describe("the need history", () => {
  it("shows the trend with its label from the vocabulary", async () => {
    page({
      need_history: () => ({
        points: [
          { date: "2025-01-01", mean: 3, highest: 4, dominant: "income" },
          { date: "2025-03-01", mean: 1, highest: 2, dominant: "income" },
        ],
        trend: "improving",
        chart: {
          report: "need-history",
          title_fa: "امتیاز نیازها در طول زمان",
          title_en: "Need scores over time",
          columns: [
            { key: "date", fa: "تاریخ بازدید", en: "visit date", kind: "date" },
            { key: "income", fa: "درآمد", en: "income", kind: "int" },
          ],
          rows: [
            [
              { kind: "date", value: "2025-01-01" },
              { kind: "int", value: 4 },
            ],
            [
              { kind: "date", value: "2025-03-01" },
              { kind: "int", value: 2 },
            ],
          ],
          filters: [],
          chart: { kind: "line", label_column: 0, series_columns: [1] },
        },
      }),
    });
    const trend = await waitFor(() => byTestId("need-trend"));
    expect(trend.dataset.trend).toBe("improving");
    expect(trend.textContent).toBe("رو به بهبود");
    // The compact chart of the scores, with its text alternative in Persian.
    const chart = byTestId("report-chart", byTestId("need-chart"));
    expect(chart.classList.contains("compact")).toBe(true);
    expect(el("canvas", chart).getAttribute("aria-label")).toMatch(/درآمد/);
  });
});

describe("the visit form and the plan", () => {
  const withSteps = plan({
    goals: [goal([step(), step({ id: STEP_DONE, what: "آموزش", progress: [doneProgress()] })])],
  });

  function doneProgress() {
    return {
      id: "p1",
      status: "done" as const,
      comment: "",
      visit_id: null,
      worker_id: "w1",
      at: "2025-01-02T08:00:00Z",
    };
  }

  it("lists the open steps and sends the choices as progress with the visit", async () => {
    const calls = mockCommands({ plan: () => withSteps, add_visit: () => "v1" });
    const done = vi.fn();
    render(<VisitForm id={ID} done={done} />);
    const choice = await waitFor(() => byTestId(`visit-step-${STEP_OPEN}`));
    // Only open steps are offered; a done one is not.
    expect(document.querySelector(`[data-testid="visit-step-${STEP_DONE}"]`)).toBeNull();
    expect(options(choice)).toEqual(["in_progress", "done", "dropped"]);
    choose(choice, "done");
    type(byTestId(`visit-step-comment-${STEP_OPEN}`), "پرونده تکمیل شد");
    type(el("#visit-date"), "۱۴۰۴/۰۸/۱۵");
    fireEvent.click(el("#save-visit"));
    await waitFor(() => expect(done).toHaveBeenCalled());
    expect(calls.find((c) => c.cmd === "add_visit")?.args).toMatchObject({
      id: ID,
      form: { date: "1404-08-15" },
      progress: [{ step: STEP_OPEN, status: "done", comment: "پرونده تکمیل شد" }],
    });
  });

  it("sends no progress when no step changed", async () => {
    const calls = mockCommands({ plan: () => withSteps, add_visit: () => "v1" });
    const done = vi.fn();
    render(<VisitForm id={ID} done={done} />);
    await waitFor(() => byTestId(`visit-step-${STEP_OPEN}`));
    fireEvent.click(el("#save-visit"));
    await waitFor(() => expect(done).toHaveBeenCalled());
    expect(calls.find((c) => c.cmd === "add_visit")?.args.progress).toEqual([]);
  });

  it("offers the partners of the referral's kind, and free text only for another kind", async () => {
    const calls = mockCommands({ partners: () => partners, add_visit: () => "v1", add_referral: () => "r1" });
    const done = vi.fn();
    render(<VisitForm id={ID} done={done} />);
    choose(el("#referral-kind"), "bank_loan");
    await waitFor(() => expect(options(byTestId("referral-partner"))).toEqual(["bank-melli"]));
    expect(document.getElementById("referral-target")).toBeNull();
    fireEvent.click(el("#save-visit"));
    expect((await screen.findByRole("alert")).dataset.field).toBe("partner");
    expect(calls.some((c) => c.cmd === "add_visit")).toBe(false);
    choose(el("#referral-kind"), "job_training");
    expect(options(byTestId("referral-partner"))).toEqual(["tvto"]);
    choose(el("#referral-kind"), "other");
    expect(options(byTestId("referral-partner"))).toEqual([]);
    type(el("#referral-target"), "انجمن خیریهٔ محله");
    fireEvent.click(el("#save-visit"));
    await waitFor(() => expect(done).toHaveBeenCalled());
    expect(calls.find((c) => c.cmd === "add_referral")?.args.form).toMatchObject({
      kind: "other",
      partner: undefined,
      target: "انجمن خیریهٔ محله",
      visit_id: "v1",
    });
  });
});

describe("a visit whose referral is refused", () => {
  it("is saved once: saving again sends the referral only", async () => {
    let refuse = true;
    const calls = mockCommands({
      partners: () => partners,
      add_visit: () => "v1",
      add_referral: () => {
        if (refuse) {
          refuse = false;
          throw {
            code: "invalid",
            field: "partner",
            message: 'partner "bank-melli": is a partner the committee no longer works with',
            message_fa: "این شریک دیگر همکاری نمی‌کند.",
          };
        }
        return "r1";
      },
    });
    const done = vi.fn();
    render(<VisitForm id={ID} done={done} />);
    choose(el("#referral-kind"), "bank_loan");
    await waitFor(() => expect(options(byTestId("referral-partner"))).toEqual(["bank-melli"]));
    choose(byTestId("referral-partner"), "bank-melli");
    fireEvent.click(el("#save-visit"));
    expect((await screen.findByRole("alert")).dataset.field).toBe("partner");
    expect(byTestId("visit-saved").textContent).toMatch(/بازدید ذخیره شد/);
    expect(done).not.toHaveBeenCalled();
    fireEvent.click(el("#save-visit"));
    await waitFor(() => expect(done).toHaveBeenCalled());
    expect(calls.filter((c) => c.cmd === "add_visit").length).toBe(1);
    expect(calls.filter((c) => c.cmd === "add_referral").map((c) => c.args.form)).toEqual([
      expect.objectContaining({ visit_id: "v1" }),
      expect.objectContaining({ visit_id: "v1" }),
    ]);
  });
});

describe("the follow-ups", () => {
  it("say what is due by kind, stalled referrals in red", async () => {
    mockCommands({
      list_households: () => ({ items: [summary()], more: false }),
      followups: () => [
        {
          household_id: ID,
          head_name: "علی کریمی",
          district: "منطقه ۳",
          assigned_worker: "w1",
          due: "2025-01-20",
          overdue: true,
          days_left: -3,
          kind: "referral",
          item_id: REFERRAL,
          detail: "approved",
        },
        {
          household_id: ID,
          head_name: "علی کریمی",
          district: "منطقه ۳",
          assigned_worker: "w1",
          due: "2099-01-20",
          overdue: false,
          days_left: 5,
          kind: "plan_step",
          item_id: STEP_OPEN,
          detail: "planned",
        },
      ],
    });
    render(<Caseload open={vi.fn()} create={vi.fn()} />);
    const stalled = await waitFor(() => byTestId(`followup-referral-${REFERRAL}`));
    expect(stalled.textContent).toMatch(/معرفی معطل/);
    expect(stalled.textContent).toMatch(/تأیید شده/);
    expect(stalled.classList.contains("overdue")).toBe(true);
    expect(el(".badge", stalled).classList.contains("stalled")).toBe(true);
    const planStep = byTestId(`followup-plan_step-${STEP_OPEN}`);
    expect(planStep.textContent).toMatch(/گام برنامه/);
    expect(planStep.classList.contains("overdue")).toBe(false);
  });
});
