// A screen whose data fails to load says so and offers to try again, instead of showing an
// empty caseload or a page that never fills; and the caseload marks overdue follow-ups by the
// device's own date.
import { fireEvent, render, screen, waitFor } from "@testing-library/preact";
import { describe, expect, it, vi } from "vitest";
import { asField, asSupervisor, details, fieldWorker, ID, summary, supervisorIdentity } from "../test/fixtures";
import { mockCommands } from "../test/ipc";
import { Caseload } from "./Caseload";
import { HouseholdPage } from "./Household";

const busy = { code: "storage", field: null, message: "database: database is locked", message_fa: null };

describe("the caseload", () => {
  it("shows a failed load with a retry that loads again", async () => {
    let failures = 1;
    mockCommands({
      list_households: () => {
        if (failures-- > 0) throw busy;
        return { items: [summary({})], more: false };
      },
    });
    render(<Caseload open={vi.fn()} create={vi.fn()} />);
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toMatch(/بارگیری نشد/);
    expect(alert.textContent).toMatch(/database is locked/);
    fireEvent.click(screen.getByRole("button", { name: "تلاش دوباره" }));
    await waitFor(() => expect(document.querySelector(`.row[data-id="${ID}"]`)).not.toBeNull());
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("marks a follow-up overdue by the device's date, after midnight in Tehran", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    // 01:00 on 24 November in Tehran; UTC's date is still the 23rd.
    vi.setSystemTime(new Date("2026-11-23T21:30:00Z"));
    mockCommands({
      list_households: () => ({
        more: false,
        items: [
          summary({ next_followup: "2026-11-23" }),
          summary({ id: "0190b7c4-6a7e-7000-8000-000000000002", next_followup: "2026-11-24" }),
        ],
      }),
    });
    render(<Caseload open={vi.fn()} create={vi.fn()} />);
    await waitFor(() => expect(document.querySelectorAll(".row[data-id]").length).toBe(2));
    const yesterday = document.querySelector('[data-followup="2026-11-23"]');
    const today = document.querySelector('[data-followup="2026-11-24"]');
    expect(yesterday?.classList.contains("overdue")).toBe(true);
    expect(today?.classList.contains("overdue")).toBe(false);
  });

  it("sends its filters as the list form", async () => {
    const all = mockCommands({
      list_households: () => ({ items: [], more: false }),
      quarantined: () => [],
    });
    const calls = () => all.filter((c) => c.cmd === "list_households");
    render(<Caseload open={vi.fn()} create={vi.fn()} />);
    await waitFor(() => expect(calls().length).toBe(1));
    fireEvent.change(document.getElementById("filter-status") as Element, { target: { value: "graduated" } });
    await waitFor(() => expect(calls().length).toBe(2));
    expect(calls()[1].args).toMatchObject({ filters: { status: "graduated", sort: "name" }, limit: 100, offset: 0 });
  });

  it("shows households set aside with their reason, and a newer household as read-only", async () => {
    mockCommands({
      list_households: () => ({ items: [summary({ needs_update: true })], more: false }),
      quarantined: () => [
        {
          household: "0190b7c4-6a7e-7000-8000-000000000002",
          reason: "a change does not apply: duplicate seq",
          quarantined_at: "2026-11-23T08:00:00Z",
          last_attempt_at: "2026-11-23T08:00:00Z",
          changes: 1,
          bytes: 120,
          has_local_copy: false,
        },
      ],
    });
    render(<Caseload open={vi.fn()} create={vi.fn()} />);
    await waitFor(() => expect(document.getElementById("set-aside")?.textContent).toMatch(/duplicate seq/));
    expect(document.getElementById("set-aside")?.textContent).toMatch(/کنارگذاشته/);
    await waitFor(() => expect(document.querySelector(".row .name")?.textContent).toMatch(/برنامه را به‌روز کنید/));
  });

  it("shows no set-aside section when nothing is set aside", async () => {
    mockCommands({
      list_households: () => ({ items: [summary({})], more: false }),
      quarantined: () => [],
    });
    render(<Caseload open={vi.fn()} create={vi.fn()} />);
    await waitFor(() => expect(document.querySelector(".row .name")?.textContent).toMatch(/علی کریمی/));
    expect(document.getElementById("set-aside")).toBeNull();
    expect(document.querySelector(".row .name")?.textContent).not.toMatch(/به‌روز/);
  });
});

describe("the household page", () => {
  it("shows a failed load with a retry that loads again", async () => {
    let failures = 1;
    const household = details();
    mockCommands({
      household: () => {
        if (failures-- > 0) throw busy;
        return household;
      },
      history: () => [],
    });
    render(
      <HouseholdPage
        id={ID}
        standing={asField}
        identity={fieldWorker}
        back={vi.fn()}
        open={vi.fn()}
        visit={vi.fn()}
        changed={vi.fn()}
      />,
    );
    await screen.findByRole("alert");
    fireEvent.click(screen.getByRole("button", { name: "تلاش دوباره" }));
    await waitFor(() => expect(document.getElementById("household-head")?.textContent).toBe("علی کریمی"));
    // The head reads as head of household, from the vocabulary.
    expect(document.getElementById("members")?.textContent).toMatch(/سرپرست خانوار/);
  });
});

describe("a household's access history", () => {
  it("is shown to a supervisor on demand, with who did what", async () => {
    const household = details();
    mockCommands({
      household: () => household,
      history: () => [],
      may_read_access_history: () => true,
      household_access: () => [
        {
          seq: 7,
          at: "2026-11-23T08:00:00Z",
          action: "push",
          device_id: "d1",
          worker_id: "w1",
          worker_name: "زهرا رضایی",
          group_id: null,
        },
      ],
    });
    render(
      <HouseholdPage
        id={ID}
        standing={asSupervisor}
        identity={supervisorIdentity}
        back={vi.fn()}
        open={vi.fn()}
        visit={vi.fn()}
        changed={vi.fn()}
      />,
    );
    fireEvent.click(await screen.findByRole("button", { name: "نمایش" }));
    await waitFor(() => expect(document.getElementById("access-history")?.textContent).toMatch(/زهرا رضایی/));
    expect(document.getElementById("access-history")?.textContent).toMatch(/ارسال تغییرات/);
  });

  it("is not offered to a field worker", async () => {
    const household = details();
    mockCommands({
      household: () => household,
      history: () => [],
      may_read_access_history: () => false,
    });
    render(
      <HouseholdPage
        id={ID}
        standing={asField}
        identity={fieldWorker}
        back={vi.fn()}
        open={vi.fn()}
        visit={vi.fn()}
        changed={vi.fn()}
      />,
    );
    await waitFor(() => expect(document.getElementById("household-head")?.textContent).toBe("علی کریمی"));
    expect(document.getElementById("access-history")).toBeNull();
  });
});
