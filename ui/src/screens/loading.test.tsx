// A screen whose data fails to load says so and offers to try again, instead of showing an
// empty caseload or a page that never fills; and the caseload marks overdue follow-ups by the
// device's own date.
import { fireEvent, render, screen, waitFor } from "@testing-library/preact";
import { describe, expect, it, vi } from "vitest";
import type { HouseholdDetails, HouseholdSummary } from "../api";
import { mockCommands } from "../test/ipc";
import { Caseload } from "./Caseload";
import { HouseholdPage } from "./Household";

const ID = "0190b7c4-6a7e-7000-8000-000000000001";

function summary(patch: Partial<HouseholdSummary>): HouseholdSummary {
  return {
    id: ID,
    head_name: "علی کریمی",
    head_national_id: "0499370899",
    district: "منطقه ۳",
    address: "کوچه یاس",
    phone: null,
    status: "active",
    assigned_group: null,
    assigned_worker: null,
    member_count: 1,
    visit_count: 1,
    last_visit: null,
    next_followup: null,
    max_need: null,
    conflict_count: 0,
    needs_update: false,
    ...patch,
  };
}

const busy = { code: "storage", field: null, message: "database: database is locked", message_fa: null };

describe("the caseload", () => {
  it("shows a failed load with a retry that loads again", async () => {
    let failures = 1;
    mockCommands({
      list_households: () => {
        if (failures-- > 0) throw busy;
        return { total: 1, items: [summary({})] };
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
        total: 2,
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
    const calls = mockCommands({ list_households: () => ({ total: 0, items: [] }) });
    render(<Caseload open={vi.fn()} create={vi.fn()} />);
    await waitFor(() => expect(calls.length).toBe(1));
    fireEvent.change(document.getElementById("filter-status") as Element, { target: { value: "graduated" } });
    await waitFor(() => expect(calls.length).toBe(2));
    expect(calls[1].args).toMatchObject({ filters: { status: "graduated", sort: "name" }, limit: 100, offset: 0 });
  });
});

describe("the household page", () => {
  it("shows a failed load with a retry that loads again", async () => {
    let failures = 1;
    const household: HouseholdDetails = {
      id: ID,
      head_member_id: "m1",
      district: "منطقه ۳",
      address: "کوچه یاس",
      phone: null,
      alt_phone: null,
      status: "active",
      assigned_group: null,
      assigned_worker: null,
      created_at: "2026-11-23T08:00:00Z",
      created_by: "w1",
      members: [
        {
          id: "m1",
          first_name: "علی",
          last_name: "کریمی",
          national_id: "0499370899",
          birth_date: null,
          sex: null,
          relation: "head",
          education: null,
          employment: null,
          health_notes: "",
          disability_notes: "",
        },
      ],
      visits: [],
      referrals: [],
      conflicts: [],
    };
    mockCommands({
      household: () => {
        if (failures-- > 0) throw busy;
        return household;
      },
      history: () => [],
    });
    render(<HouseholdPage id={ID} back={vi.fn()} visit={vi.fn()} />);
    await screen.findByRole("alert");
    fireEvent.click(screen.getByRole("button", { name: "تلاش دوباره" }));
    await waitFor(() => expect(document.getElementById("household-head")?.textContent).toBe("علی کریمی"));
    // The head reads as head of household, from the vocabulary.
    expect(document.getElementById("members")?.textContent).toMatch(/سرپرست خانوار/);
  });
});
