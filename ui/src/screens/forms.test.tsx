// The forms show validation where a worker looks for it: next to the field, in Persian, or for
// the form as a whole when no field of the form is at fault; the visit form checks its dates
// itself before anything is sent.
import { fireEvent, render, screen, waitFor } from "@testing-library/preact";
import { describe, expect, it, vi } from "vitest";
import { invalid, mockCommands } from "../test/ipc";
import { HouseholdForm } from "./HouseholdForm";
import { MemberForm } from "./MemberForm";
import { VisitForm } from "./VisitForm";

const HOUSEHOLD = "0190b7c4-6a7e-7000-8000-000000000001";

function type(id: string, value: string) {
  const input = document.getElementById(id);
  if (!input) throw new Error(`no #${id}`);
  fireEvent.input(input, { target: { value } });
}

function submit(id: string) {
  const button = document.getElementById(id);
  if (!button) throw new Error(`no #${id}`);
  fireEvent.click(button);
}

describe("the household form", () => {
  it("shows a refused national ID next to its field, in Persian", async () => {
    const calls = mockCommands({
      registration_matches: () => [],
      lookup_national_id: () => [],
      add_household: () => {
        throw invalid(
          "national_id",
          'national ID "0499370898": check digit does not match (mistyped?)',
          "رقم کنترل کد ملی درست نیست؛ احتمالاً یک رقم اشتباه وارد شده است.",
        );
      },
    });
    const done = vi.fn();
    render(<HouseholdForm done={done} open={vi.fn()} />);
    type("household-national_id", "0499370898");
    submit("save-household");
    const error = await screen.findByRole("alert");
    expect(error.dataset.field).toBe("national_id");
    expect(error.textContent).toMatch(/رقم کنترل کد ملی/);
    // Right under the national ID input, not somewhere else in the form.
    expect(error.previousElementSibling?.querySelector("input")?.id).toBe("household-national_id");
    expect(calls.find((c) => c.cmd === "add_household")?.args.form).toMatchObject({ national_id: "0499370898" });
    expect(done).not.toHaveBeenCalled();
    expect(document.querySelector(".form-error")).toBeNull();
  });

  it("shows an error of a field it does not have for the whole form", async () => {
    mockCommands({
      registration_matches: () => [],
      add_household: () => {
        throw { code: "storage", field: null, message: "database: disk I/O error", message_fa: null };
      },
    });
    render(<HouseholdForm done={vi.fn()} open={vi.fn()} />);
    submit("save-household");
    const error = await screen.findByRole("alert");
    expect(error.classList.contains("form-error")).toBe(true);
    expect(error.textContent).toBe("database: disk I/O error");
    expect(document.querySelector(".field-error")).toBeNull();
  });
});

describe("the visit form", () => {
  it("starts on today's date written as every other date: Persian digits and slashes", () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    // 22:00 on 3 Azar 1405 in Tehran.
    vi.setSystemTime(new Date("2026-11-24T18:30:00Z"));
    mockCommands({});
    render(<VisitForm id={HOUSEHOLD} done={vi.fn()} />);
    expect((document.getElementById("visit-date") as HTMLInputElement).value).toBe("۱۴۰۵/۰۹/۰۳");
  });

  it("refuses a date that is not in the Jalali calendar before sending anything", async () => {
    const calls = mockCommands({});
    render(<VisitForm id={HOUSEHOLD} done={vi.fn()} />);
    type("visit-date", "۱۴۰۴/۱۳/۰۱");
    submit("save-visit");
    const error = await screen.findByRole("alert");
    expect(error.dataset.field).toBe("visit_date");
    expect(error.textContent).toMatch(/تاریخ بازدید معتبر نیست/);
    expect(calls).toEqual([]);
  });

  it("refuses a follow-up before the visit, next to the follow-up date", async () => {
    const calls = mockCommands({});
    render(<VisitForm id={HOUSEHOLD} done={vi.fn()} />);
    type("visit-date", "۱۴۰۴/۰۸/۱۵");
    type("visit-followup", "1404/08/10");
    submit("save-visit");
    const error = await screen.findByRole("alert");
    expect(error.dataset.field).toBe("followup_date");
    expect(error.textContent).toMatch(/پیش از تاریخ بازدید/);
    expect(calls).toEqual([]);
  });

  it("sends the visit, then its referral naming the visit", async () => {
    const visitId = "0190b7c4-6a7e-7000-8000-0000000000aa";
    const bank = { code: "bank-melli", kind: "bank", name: "بانک ملی", branch: null, district: null, active: true };
    const calls = mockCommands({ partners: () => [bank], add_visit: () => visitId, add_referral: () => "r1" });
    const done = vi.fn();
    render(<VisitForm id={HOUSEHOLD} done={done} />);
    type("visit-date", "۱۴۰۴/۰۸/۱۵");
    fireEvent.change(document.querySelector('select[data-need="income"]') as Element, { target: { value: "4" } });
    fireEvent.change(document.getElementById("referral-kind") as Element, { target: { value: "bank_loan" } });
    // The partner is chosen from the directory, never typed.
    const partner = await waitFor(() => {
      const select = document.querySelector<HTMLSelectElement>('[data-testid="referral-partner"]');
      expect(select?.options.length).toBe(2);
      return select as HTMLSelectElement;
    });
    fireEvent.change(partner, { target: { value: "bank-melli" } });
    submit("save-visit");
    await waitFor(() => expect(done).toHaveBeenCalled());
    const writes = calls.filter((c) => c.cmd.startsWith("add_"));
    expect(writes.map((c) => c.cmd)).toEqual(["add_visit", "add_referral"]);
    expect(writes[0].args.form).toMatchObject({ date: "1404-08-15", kind: "home", needs: ["income=4"] });
    expect(writes[1].args.form).toMatchObject({
      kind: "bank_loan",
      partner: "bank-melli",
      visit_id: visitId,
      date: "1404-08-15",
    });
  });
});

describe("the member form", () => {
  it("offers every relation the library accepts, labelled from the vocabulary", () => {
    mockCommands({});
    render(<MemberForm id={HOUSEHOLD} done={vi.fn()} />);
    const options = [...(document.getElementById("member-relation") as HTMLSelectElement).options];
    const codes = options.map((o) => o.value);
    expect(codes).toEqual(expect.arrayContaining(["spouse", "child", "parent", "sibling", "grandchild", "other"]));
    expect(codes).not.toContain("head");
    expect(options.find((o) => o.value === "grandchild")?.textContent).toBe("نوه");
  });

  it("shows the store's refusal next to the field it names", async () => {
    mockCommands({
      add_member: () => {
        throw invalid("first_name", "first name: required", "نام را وارد کنید.");
      },
    });
    render(<MemberForm id={HOUSEHOLD} done={vi.fn()} />);
    submit("save-member");
    const error = await screen.findByRole("alert");
    expect(error.dataset.field).toBe("first_name");
    expect(error.previousElementSibling?.querySelector("input")?.id).toBe("member-first_name");
  });
});
