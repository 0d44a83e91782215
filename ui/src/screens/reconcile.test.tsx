// The supervisor's and the coordinator's screens, with only Tauri's IPC mocked: navigation by
// role with counts, the review queue (approve, return with a comment on a field), the worker's
// correction and resubmission, the conflicts inbox (a refused value shown in Persian), the
// duplicates inbox and the side-by-side comparison (merge, not a duplicate), the merge banners,
// reassignment with a preview, and the warning at registration.
import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/preact";
import { describe, expect, it, vi } from "vitest";
import { App } from "../App";
import type { DuplicatePair, InboxEntry, ReviewItem, SyncView } from "../api";
import {
  asCoordinator,
  asField,
  asSupervisor,
  details,
  fieldWorker,
  ID,
  member,
  OTHER,
  summary,
  supervisorIdentity,
  VISIT,
  visit,
} from "../test/fixtures";
import { invalid, mockCommands } from "../test/ipc";
import { WorkersProvider } from "../workers";
import { Caseload } from "./Caseload";
import { Caseloads } from "./Caseloads";
import { ComparePage } from "./Compare";
import { ConflictsInbox } from "./ConflictsInbox";
import { Duplicates } from "./Duplicates";
import { HouseholdPage } from "./Household";
import { HouseholdForm } from "./HouseholdForm";
import { MemberForm } from "./MemberForm";
import { ReviewQueue } from "./ReviewQueue";

const local: SyncView = { state: "local", pending_changes: 0, last_sync_at: null, last_error: null, held_back: 0 };

function el(selector: string, root: ParentNode = document): HTMLElement {
  const found = root.querySelector<HTMLElement>(selector);
  if (!found) throw new Error(`no ${selector}`);
  return found;
}

function type(target: HTMLElement, value: string) {
  fireEvent.input(target, { target: { value } });
}

function item(patch: Partial<ReviewItem> = {}): ReviewItem {
  return {
    household_id: ID,
    owner_id: ID,
    head_name: "علی کریمی",
    assigned_group: "jihadi-1",
    visit_id: VISIT,
    date: "2025-11-06",
    worker_id: "w1",
    worker_name: "زهرا رضایی",
    kind: "home",
    max_need: 3,
    state: "awaiting",
    ...patch,
  };
}

const caseloads = [
  {
    group_id: "jihadi-1",
    worker_id: "w1",
    worker_name: "زهرا رضایی",
    households: 2,
    visits_this_month: 3,
    overdue_followups: 1,
    returned_visits: 0,
    awaiting_review: 2,
    high_need: 1,
  },
  {
    group_id: "jihadi-1",
    worker_id: "w2",
    worker_name: "علی محمدی",
    households: 0,
    visits_this_month: 0,
    overdue_followups: 0,
    returned_visits: 0,
    awaiting_review: 0,
    high_need: 0,
  },
];

describe("the navigation", () => {
  function app(role: "field" | "supervisor") {
    return mockCommands({
      lock_state: () => ({ state: "unlocked", min_length: 10, wait_seconds: 0 }),
      identity: () => (role === "field" ? fieldWorker : supervisorIdentity),
      standing: () => (role === "field" ? asField : asSupervisor),
      nav_counts: () => ({ conflicts: 4, awaiting_review: 7, returned: 0 }),
      sync_status: () => local,
      list_households: () => ({ items: [], more: false }),
      caseloads: () => caseloads,
      review_queue: () => ({ total: 0, items: [] }),
    });
  }

  it("gives a supervisor the review queue, the conflicts inbox, caseloads and duplicates, with counts", async () => {
    app("supervisor");
    render(<App />);
    const review = await screen.findByRole("button", { name: /بازبینی بازدیدها/ });
    await waitFor(() => expect(review.querySelector(".count-badge")?.textContent).toBe("۷"));
    const conflicts = screen.getByRole("button", { name: /تعارض‌ها/ });
    expect(conflicts.querySelector(".count-badge")?.textContent).toBe("۴");
    expect(document.getElementById("nav-caseloads")).not.toBeNull();
    expect(document.getElementById("nav-duplicates")).not.toBeNull();
    expect(document.getElementById("role")?.textContent).toMatch(/سرپرست گروه/);
    // Alt+2 opens the second screen of the navigation: the review queue.
    fireEvent.keyDown(window, { key: "2", altKey: true });
    await waitFor(() => expect(document.getElementById("review-queue")).not.toBeNull());
    expect(review.getAttribute("aria-current")).toBe("page");
  });

  it("gives a field worker their caseload and the reports only", async () => {
    app("field");
    render(<App />);
    await screen.findByRole("button", { name: /پرونده‌ها/ });
    expect(document.querySelectorAll("nav button").length).toBe(2);
    expect(document.getElementById("nav-reports")).not.toBeNull();
    expect(document.getElementById("nav-review")).toBeNull();
    expect(document.getElementById("nav-duplicates")).toBeNull();
  });
});

describe("the review queue", () => {
  it("approves a visit with a comment and loads the queue again", async () => {
    let approved = false;
    const calls = mockCommands({
      caseloads: () => caseloads,
      review_queue: () => (approved ? { total: 0, items: [] } : { total: 1, items: [item()] }),
      approve_visit: () => {
        approved = true;
        return null;
      },
    });
    const changed = vi.fn();
    render(
      <WorkersProvider identity={supervisorIdentity} standing={asSupervisor}>
        <ReviewQueue standing={asSupervisor} open={vi.fn()} changed={changed} />
      </WorkersProvider>,
    );
    const row = await waitFor(() => el(`.review-item[data-visit="${VISIT}"]`));
    expect(row.textContent).toMatch(/زهرا رضایی/);
    expect(row.textContent).toMatch(/۱۴۰۴\/۰۸\/۱۵/);
    type(el(".review-comment", row), "خوب است");
    fireEvent.click(el(".approve", row));
    await waitFor(() => expect(document.querySelector(".review-item")).toBeNull());
    expect(calls.find((c) => c.cmd === "approve_visit")?.args).toEqual({ visit: VISIT, comment: "خوب است" });
    expect(changed).toHaveBeenCalled();
    expect(screen.getByText("بازدیدی با این وضعیت نیست.")).not.toBeNull();
  });

  it("returns a visit about one field, and shows a missing comment under the comment in Persian", async () => {
    let attempts = 0;
    const calls = mockCommands({
      caseloads: () => caseloads,
      review_queue: () => ({ total: 1, items: [item()] }),
      return_visit: ({ comment }) => {
        attempts++;
        if (!comment) throw invalid("comment", "comment: required", "توضیح را وارد کنید.");
        return null;
      },
    });
    render(<ReviewQueue standing={asSupervisor} open={vi.fn()} changed={vi.fn()} />);
    const row = await waitFor(() => el(`.review-item[data-visit="${VISIT}"]`));
    fireEvent.click(el(".return", row));
    const error = await waitFor(() => el('.field-error[data-field="comment"]', row));
    expect(error.textContent).toBe("توضیح را وارد کنید.");
    fireEvent.change(el(".review-field", row), { target: { value: "need" } });
    type(el(".review-comment", row), "نیاز درآمد با مشاهدات نمی‌خواند");
    fireEvent.click(el(".return", row));
    await waitFor(() => expect(attempts).toBe(2));
    expect(calls.filter((c) => c.cmd === "return_visit")[1].args).toEqual({
      visit: VISIT,
      comment: "نیاز درآمد با مشاهدات نمی‌خواند",
      field: "need",
    });
  });

  it("shows what the visit says and its thread when the reviewer opens it, not before", async () => {
    const calls = mockCommands({
      review_queue: () => ({ total: 1, items: [item()] }),
      household: () =>
        details({
          visits: [
            visit({
              review: [
                {
                  id: "e1",
                  action: "resubmitted",
                  worker_id: "w1",
                  at: "2025-11-08T08:00:00Z",
                  comment: "مدارک را دیدم",
                  field: null,
                },
              ],
            }),
          ],
        }),
    });
    render(<ReviewQueue standing={asSupervisor} open={vi.fn()} changed={vi.fn()} />);
    const row = await waitFor(() => el(`.review-item[data-visit="${VISIT}"]`));
    expect(calls.some((c) => c.cmd === "household")).toBe(false);
    const details_ = el("details.visit-content", row) as HTMLDetailsElement;
    details_.open = true;
    fireEvent(details_, new Event("toggle"));
    await waitFor(() => expect(el(".observations", row).textContent).toBe("اجاره عقب افتاده"));
    expect(row.textContent).toMatch(/درآمد: ۳/);
    expect(el(".thread", row).textContent).toMatch(/مدارک را دیدم/);
    expect(calls.find((c) => c.cmd === "household")?.args).toEqual({ id: ID });
  });

  it("filters by worker and state", async () => {
    const calls = mockCommands({ caseloads: () => caseloads, review_queue: () => ({ total: 0, items: [] }) });
    render(
      <WorkersProvider identity={supervisorIdentity} standing={asSupervisor}>
        <ReviewQueue standing={asSupervisor} open={vi.fn()} changed={vi.fn()} />
      </WorkersProvider>,
    );
    await waitFor(() => expect(document.querySelectorAll("#review-worker option").length).toBe(3));
    fireEvent.change(el("#review-worker"), { target: { value: "w2" } });
    fireEvent.change(el("#review-state"), { target: { value: "returned" } });
    await waitFor(() =>
      expect(calls.filter((c) => c.cmd === "review_queue").at(-1)?.args).toMatchObject({
        filter: { state: "returned", worker: "w2" },
      }),
    );
  });
});

describe("a visit's review on the household page", () => {
  const returned = visit({
    review: [
      {
        id: "e1",
        action: "returned",
        worker_id: "s1",
        at: "2025-11-07T08:00:00Z",
        comment: "تاریخ پیگیری را بنویسید",
        field: "followup_date",
      },
    ],
  });

  function page(identity = fieldWorker, standing = asField) {
    return render(
      <HouseholdPage
        id={ID}
        standing={standing}
        identity={identity}
        back={vi.fn()}
        open={vi.fn()}
        visit={vi.fn()}
        changed={vi.fn()}
      />,
    );
  }

  it("shows the state and the thread, and lets the visit's worker correct and resubmit it", async () => {
    let resubmitted = false;
    const calls = mockCommands({
      household: () =>
        details({
          visits: [
            resubmitted
              ? {
                  ...returned,
                  review: [
                    ...returned.review,
                    {
                      id: "e2",
                      action: "resubmitted",
                      worker_id: "w1",
                      at: "2025-11-08T08:00:00Z",
                      comment: "نوشتم",
                      field: null,
                    },
                  ],
                }
              : returned,
          ],
        }),
      history: () => [],
      may_read_access_history: () => false,
      edit_visit: () => null,
      resubmit_visit: () => {
        resubmitted = true;
        return null;
      },
    });
    page();
    const li = await waitFor(() => el(`#visits li[data-visit="${VISIT}"]`));
    expect(li.dataset.review).toBe("returned");
    expect(el(".thread", li).textContent).toMatch(/تاریخ پیگیری را بنویسید/);
    expect(el(".thread", li).textContent).toMatch(/تاریخ پیگیری/);
    const form = el(".correct-visit", li);
    type(el(".correct-followup", form), "۱۴۰۴/۰۹/۰۱");
    type(el(".resubmit-comment", form), "نوشتم");
    fireEvent.click(el(".resubmit", form));
    await waitFor(() => expect(el(`#visits li[data-visit="${VISIT}"]`).dataset.review).toBe("awaiting"));
    // Only what changed is sent, then the visit goes back for review.
    expect(calls.find((c) => c.cmd === "edit_visit")?.args).toEqual({
      visit: VISIT,
      form: { followup: "1404-09-01", needs: [] },
    });
    expect(calls.find((c) => c.cmd === "resubmit_visit")?.args).toEqual({ visit: VISIT, comment: "نوشتم" });
    expect(calls.findIndex((c) => c.cmd === "edit_visit")).toBeLessThan(
      calls.findIndex((c) => c.cmd === "resubmit_visit"),
    );
  });

  it("offers the correction only to the visit's worker, and review only to a supervisor", async () => {
    mockCommands({
      household: () => details({ visits: [returned, visit({ id: "v2" })] }),
      history: () => [],
      may_read_access_history: () => true,
      caseloads: () => caseloads,
    });
    page(supervisorIdentity, asSupervisor);
    await waitFor(() => el(`#visits li[data-visit="${VISIT}"]`));
    expect(document.querySelector(".correct-visit")).toBeNull();
    expect(el('#visits li[data-visit="v2"] .review-actions')).not.toBeNull();
    expect(el(`#visits li[data-visit="${VISIT}"]`).querySelector(".review-actions")).toBeNull();
  });
});

describe("the field worker's caseload", () => {
  it("lists returned visits first, with the supervisor's comment", async () => {
    mockCommands({
      list_households: () => ({ items: [summary({ returned_visits: 1 })], more: false }),
      returned_visits: () => [
        {
          ...item({ state: "returned" }),
          comment: "نیاز مسکن را دوباره بسنجید",
          field: "need",
          returned_by: "s1",
          returned_at: "2025-11-07T08:00:00Z",
        },
      ],
    });
    const open = vi.fn();
    render(<Caseload open={open} create={vi.fn()} />);
    const tasks = await waitFor(() => el("#returned-tasks"));
    expect(tasks.textContent).toMatch(/نیاز مسکن را دوباره بسنجید/);
    expect(tasks.textContent).toMatch(/نیاز/);
    // Before the list itself.
    expect(tasks.compareDocumentPosition(el(".list")) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
    fireEvent.click(el(".open-task", tasks));
    expect(open).toHaveBeenCalledWith(ID);
    await waitFor(() => expect(el(".row .name").textContent).toMatch(/بازدید برگشتی/));
  });
});

describe("the conflicts inbox", () => {
  const entry: InboxEntry = {
    household_id: ID,
    shown_in: ID,
    head_name: "علی کریمی",
    assigned_group: "jihadi-1",
    assigned_worker: "w1",
    merged_from: null,
    conflict: {
      path: "household.phone",
      field: "phone",
      label_fa: "تلفن",
      label_en: "phone",
      current: "09121234567",
      values: [
        {
          value: "09121234567",
          worker_id: "w1",
          worker_name: "زهرا رضایی",
          device_id: "d1",
          time: "2025-11-06T08:00:00Z",
          verified: true,
        },
        {
          value: "09350000000",
          worker_id: "w2",
          worker_name: "علی محمدی",
          device_id: "d3",
          time: "2025-11-06T09:00:00Z",
          verified: false,
        },
      ],
    },
  };

  it("shows each value with who wrote it and keeps the one chosen", async () => {
    let resolved = false;
    const calls = mockCommands({
      caseloads: () => caseloads,
      conflict_inbox: () => (resolved ? [] : [entry]),
      resolve_conflict: () => {
        resolved = true;
        return null;
      },
    });
    const changed = vi.fn();
    render(<ConflictsInbox standing={asSupervisor} open={vi.fn()} changed={changed} />);
    const li = await waitFor(() => el('.inbox-entry[data-path="household.phone"]'));
    expect(el(".field-label", li).textContent).toBe("تلفن");
    const values = li.querySelectorAll(".value");
    expect(values[0].textContent).toMatch(/۰۹۱۲۱۲۳۴۵۶۷/);
    expect(values[0].textContent).toMatch(/زهرا رضایی/);
    expect(values[1].textContent).toMatch(/علی محمدی \(نام تأییدنشده\)/);
    fireEvent.click(el(".keep", values[1] as HTMLElement));
    await waitFor(() => expect(document.querySelector(".inbox-entry")).toBeNull());
    expect(calls.find((c) => c.cmd === "resolve_conflict")?.args).toEqual({
      household: ID,
      path: "household.phone",
      value: "09350000000",
    });
    expect(changed).toHaveBeenCalled();
  });

  it("shows a typed value the store refuses, in Persian, and keeps the entry", async () => {
    mockCommands({
      caseloads: () => caseloads,
      conflict_inbox: () => [entry],
      resolve_conflict: () => {
        throw invalid("phone", 'phone: "12": not a phone number', "شمارهٔ تلفن درست نیست.");
      },
    });
    render(<ConflictsInbox standing={asSupervisor} open={vi.fn()} changed={vi.fn()} />);
    const li = await waitFor(() => el(".inbox-entry"));
    type(el(".new-value-input", li), "12");
    fireEvent.click(el(".save-value", li));
    const error = await within(li).findByRole("alert");
    expect(error.textContent).toBe("شمارهٔ تلفن درست نیست.");
    expect(error.dataset.field).toBe("phone");
    expect(document.querySelector(".inbox-entry")).not.toBeNull();
  });

  it("filters by field, worker and (for a coordinator) group", async () => {
    const calls = mockCommands({ caseloads: () => caseloads, conflict_inbox: () => [entry] });
    render(
      <WorkersProvider identity={supervisorIdentity} standing={asCoordinator}>
        <ConflictsInbox standing={asCoordinator} open={vi.fn()} changed={vi.fn()} />
      </WorkersProvider>,
    );
    await waitFor(() => expect(document.querySelectorAll("#inbox-field option").length).toBe(2));
    await waitFor(() => expect(document.querySelectorAll("#inbox-group option").length).toBe(2));
    fireEvent.change(el("#inbox-field"), { target: { value: "phone" } });
    fireEvent.change(el("#inbox-worker"), { target: { value: "w2" } });
    fireEvent.change(el("#inbox-group"), { target: { value: "jihadi-1" } });
    await waitFor(() =>
      expect(calls.filter((c) => c.cmd === "conflict_inbox").at(-1)?.args).toEqual({
        filter: { group: "jihadi-1", worker: "w2", field: "phone" },
      }),
    );
  });
});

const pair: DuplicatePair = {
  a: summary(),
  b: summary({ id: OTHER, head_name: "علي كريمي", assigned_group: "omid-2" }),
  score: 14.25,
  band: "likely",
  reasons: [
    {
      field: "national_id",
      label_fa: "کد ملی",
      label_en: "national ID",
      agreement: "exact",
      similarity: 1,
      weight: 9,
    },
    {
      field: "head_name",
      label_fa: "نام سرپرست",
      label_en: "head's name",
      agreement: "close",
      similarity: 0.96,
      weight: 4,
    },
  ],
};

describe("the duplicates inbox", () => {
  it("ranks pairs with their band and reasons, and opens the comparison", async () => {
    const calls = mockCommands({ duplicate_pairs: () => [pair] });
    const compare = vi.fn();
    render(<Duplicates standing={asCoordinator} compare={compare} />);
    const li = await waitFor(() => el(".pair"));
    expect(li.dataset.band).toBe("likely");
    expect(li.textContent).toMatch(/به احتمال زیاد تکراری/);
    expect(li.textContent).toMatch(/۱۴٫۳|۱۴٫۲/);
    expect(el('.reason[data-field="national_id"]', li).textContent).toBe("کد ملی: یکسان");
    expect(el('.reason[data-field="head_name"]', li).textContent).toMatch(/نزدیک \(۹۶٪\)/);
    fireEvent.change(el("#duplicates-band"), { target: { value: "possible" } });
    await waitFor(() => expect(calls.at(-1)?.args).toEqual({ band: "possible" }));
    fireEvent.click(el(".compare", li));
    expect(compare).toHaveBeenCalledWith(ID, OTHER);
  });
});

describe("the comparison", () => {
  const comparison = {
    a: details({ visits: [visit()] }),
    b: details({
      id: OTHER,
      assigned_group: "omid-2",
      created_by: "w9",
      members: [member({ first_name: "علي", last_name: "كريمي", father_name: "حسن" }), member({ id: "m2" })],
    }),
    score: pair.score,
    band: pair.band,
    reasons: pair.reasons,
  };

  it("shows both side by side and merges into the survivor chosen", async () => {
    const calls = mockCommands({ compare_households: () => comparison, merge_households: () => null });
    const open = vi.fn();
    render(<ComparePage a={ID} b={OTHER} back={vi.fn()} open={open} changed={vi.fn()} />);
    const b = await waitFor(() => el("#compare-b"));
    expect(el("#compare-a").textContent).toMatch(/jihadi-1/);
    expect(b.textContent).toMatch(/omid-2/);
    expect(b.textContent).toMatch(/حسن/);
    expect(b.querySelectorAll(".members tr").length).toBe(2);
    fireEvent.click(el("#survivor-b"));
    fireEvent.click(el("#merge"));
    await waitFor(() => expect(open).toHaveBeenCalledWith(OTHER));
    expect(calls.find((c) => c.cmd === "merge_households")?.args).toEqual({ survivor: OTHER, other: ID });
  });

  it("records 'not a duplicate' with its reason, and says in Persian when the role may not", async () => {
    const calls = mockCommands({
      compare_households: () => comparison,
      mark_not_duplicate: () => null,
      merge_households: () => {
        throw {
          code: "not_permitted",
          field: null,
          message: "only a coordinator may merge households of another group",
          message_fa: "این کار فقط از هماهنگ‌کنندهٔ استان برمی‌آید.",
        };
      },
    });
    const back = vi.fn();
    const open = vi.fn();
    render(<ComparePage a={ID} b={OTHER} back={back} open={open} changed={vi.fn()} />);
    await waitFor(() => el("#compare-b"));
    fireEvent.click(el("#merge"));
    expect((await screen.findByRole("alert")).textContent).toBe("این کار فقط از هماهنگ‌کنندهٔ استان برمی‌آید.");
    expect(open).not.toHaveBeenCalled();
    type(el("#not-duplicate-reason"), "دو برادر در یک ساختمان");
    fireEvent.click(el("#not-duplicate"));
    await waitFor(() => expect(back).toHaveBeenCalled());
    expect(calls.find((c) => c.cmd === "mark_not_duplicate")?.args).toEqual({
      a: ID,
      b: OTHER,
      reason: "دو برادر در یک ساختمان",
    });
  });
});

describe("the merge on the household page", () => {
  function page(standing = asCoordinator) {
    return render(
      <HouseholdPage
        id={OTHER}
        standing={standing}
        identity={supervisorIdentity}
        back={vi.fn()}
        open={vi.fn()}
        visit={vi.fn()}
        changed={vi.fn()}
      />,
    );
  }
  const absorbed = {
    id: OTHER,
    head_name: "علي كريمي",
    assigned_group: "omid-2",
    created_by: "w9",
    created_at: "2025-10-01T08:00:00Z",
    link: { survivor: ID, survivor_group: "jihadi-1", at: "2025-11-10T08:00:00Z", by: "c1" },
  };

  it("says the id opened was merged into this household, lists it, and lets a coordinator undo it", async () => {
    let undone = false;
    const calls = mockCommands({
      household: () => (undone ? details({ id: OTHER }) : details({ redirected_from: OTHER, merged_from: [absorbed] })),
      history: () => [],
      may_read_access_history: () => false,
      caseloads: () => [],
      unmerge_households: () => {
        undone = true;
        return null;
      },
    });
    page();
    await waitFor(() => expect(el("#redirect-banner").textContent).toMatch(/ادغام شده است/));
    const merged = el("#merged-from");
    expect(merged.textContent).toMatch(/علي كريمي/);
    expect(merged.textContent).toMatch(/omid-2/);
    fireEvent.click(el(".undo-merge", merged));
    await waitFor(() => expect(document.getElementById("merged-from")).toBeNull());
    expect(calls.find((c) => c.cmd === "unmerge_households")?.args).toEqual({ survivor: ID, other: OTHER });
  });

  it("offers no undo to a supervisor", async () => {
    mockCommands({
      household: () => details({ merged_from: [absorbed] }),
      history: () => [],
      may_read_access_history: () => false,
      caseloads: () => [],
    });
    page(asSupervisor);
    await waitFor(() => el("#merged-from"));
    expect(document.querySelector(".undo-merge")).toBeNull();
  });

  it("tells a worker who cannot see the survivor which group handles it now", async () => {
    mockCommands({
      household: () => details({ id: OTHER, merged: absorbed.link }),
      history: () => [],
      may_read_access_history: () => false,
    });
    render(
      <HouseholdPage
        id={OTHER}
        standing={asField}
        identity={fieldWorker}
        back={vi.fn()}
        open={vi.fn()}
        visit={vi.fn()}
        changed={vi.fn()}
      />,
    );
    const banner = await waitFor(() => el("#merged-banner"));
    expect(banner.textContent).toMatch(/در پروندهٔ دیگری ادغام شده است/);
    expect(banner.textContent).toMatch(/jihadi-1/);
    // No new work on a retired household.
    expect(document.getElementById("new-visit")).toBeNull();
  });
});

describe("reassignment", () => {
  it("previews what moves, then moves it through the server", async () => {
    const move = {
      household: ID,
      from: { group_id: "jihadi-1", worker_id: "w1" },
      to: { group_id: "jihadi-1", worker_id: "w2" },
    };
    const calls = mockCommands({
      caseloads: () => caseloads,
      list_households: () => ({ items: [summary(), summary({ id: OTHER, head_name: "مریم کریمی" })], more: false }),
      assign_households: ({ dryRun }) => ({ applied: !dryRun, moves: [move], moved: 1, unchanged: 0 }),
    });
    render(
      <WorkersProvider identity={supervisorIdentity} standing={asSupervisor}>
        <Caseloads standing={asSupervisor} open={vi.fn()} />
      </WorkersProvider>,
    );
    const row = await waitFor(() => el('#caseload-table tr[data-worker="w1"]'));
    expect(row.textContent).toMatch(/زهرا رضایی/);
    fireEvent.click(el(".choose-worker", row));
    const pick = await waitFor(() => el(`.pick-household[data-id="${ID}"]`));
    fireEvent.click(pick);
    await waitFor(() => expect(document.querySelectorAll("#reassign-target option").length).toBe(2));
    fireEvent.change(el("#reassign-target"), { target: { value: "jihadi-1/w2" } });
    expect((el("#reassign-apply") as HTMLButtonElement).disabled).toBe(true);
    fireEvent.click(el("#reassign-preview"));
    const preview = await waitFor(() => el("#reassign-preview-list"));
    expect(preview.textContent).toMatch(/علی کریمی: زهرا رضایی ← علی محمدی/);
    fireEvent.click(el("#reassign-apply"));
    await waitFor(() => expect(el("#reassign-result").textContent).toMatch(/۱/));
    const assigns = calls.filter((c) => c.cmd === "assign_households").map((c) => c.args);
    expect(assigns).toEqual([
      { households: [ID], group: "jihadi-1", worker: "w2", dryRun: true },
      { households: [ID], group: "jihadi-1", worker: "w2", dryRun: false },
    ]);
  });

  it("offers a coordinator other groups' workers and groups, a supervisor only their group's", async () => {
    const loads = [
      ...caseloads,
      { ...caseloads[1], group_id: "omid-2", worker_id: "w3", worker_name: "رضا کاظمی" },
      { ...caseloads[1], group_id: null, worker_id: "c1", worker_name: "دفتر استان" },
    ];
    mockCommands({ caseloads: () => loads, list_households: () => ({ items: [summary()], more: false }) });
    const options = async (standing: typeof asSupervisor) => {
      render(
        <WorkersProvider identity={supervisorIdentity} standing={standing}>
          <Caseloads standing={standing} open={vi.fn()} />
        </WorkersProvider>,
      );
      fireEvent.click(el(".choose-worker", await waitFor(() => el('#caseload-table tr[data-worker="w1"]'))));
      await waitFor(() => expect(document.querySelectorAll("#reassign-target option").length).toBeGreaterThan(1));
      const values = [...document.querySelectorAll<HTMLOptionElement>("#reassign-target option")].map((o) => o.value);
      cleanup();
      return values;
    };
    expect((await options(asCoordinator)).sort()).toEqual(["", "jihadi-1/w2", "omid-2/", "omid-2/w3"]);
    expect(await options(asSupervisor)).toEqual(["", "jihadi-1/w2"]);
  });
});

describe("the warning at registration", () => {
  const match = { household: summary(), reasons: pair.reasons, band: "likely" as const, score: 12 };

  function fill() {
    type(el("#household-first_name"), "علي");
    type(el("#household-last_name"), "كريمي");
    type(el("#household-national_id"), "0499370899");
  }

  it("shows the matches and the server's groups before saving, and opens that household instead", async () => {
    const calls = mockCommands({
      registration_matches: () => [match],
      lookup_national_id: () => [{ group_id: "omid-2", group_name: "مرکز نیکوکاری امید" }],
    });
    const open = vi.fn();
    const done = vi.fn();
    render(<HouseholdForm done={done} open={open} />);
    fill();
    fireEvent.click(el("#save-household"));
    const warning = await waitFor(() => el("#registration-warning"));
    expect(el(`.match[data-id="${ID}"]`, warning).textContent).toMatch(/علی کریمی/);
    expect(el("#server-matches", warning).textContent).toMatch(/مرکز نیکوکاری امید/);
    expect(calls.find((c) => c.cmd === "lookup_national_id")?.args).toEqual({ nationalId: "0499370899" });
    fireEvent.click(el(".open-match", warning));
    expect(open).toHaveBeenCalledWith(ID);
    expect(calls.some((c) => c.cmd === "add_household")).toBe(false);
    expect(done).not.toHaveBeenCalled();
  });

  it("saves a different family when the worker says so; offline, the local check stands alone", async () => {
    const calls = mockCommands({
      registration_matches: () => [match],
      lookup_national_id: () => {
        throw { code: "offline", field: null, message: "cannot reach the server", message_fa: null };
      },
      add_household: () => OTHER,
    });
    const done = vi.fn();
    render(<HouseholdForm done={done} open={vi.fn()} />);
    fill();
    fireEvent.click(el("#save-household"));
    const warning = await waitFor(() => el("#registration-warning"));
    expect(warning.textContent).toMatch(/سرور در دسترس نبود/);
    fireEvent.click(el("#save-anyway"));
    await waitFor(() => expect(done).toHaveBeenCalledWith(OTHER));
    expect(calls.filter((c) => c.cmd === "add_household").length).toBe(1);
  });

  it("saves at once when nothing matches", async () => {
    mockCommands({ registration_matches: () => [], lookup_national_id: () => [], add_household: () => OTHER });
    const done = vi.fn();
    render(<HouseholdForm done={done} open={vi.fn()} />);
    fill();
    fireEvent.click(el("#save-household"));
    await waitFor(() => expect(done).toHaveBeenCalledWith(OTHER));
    expect(document.getElementById("registration-warning")).toBeNull();
  });

  it("warns before adding a member who is in another household", async () => {
    const calls = mockCommands({
      member_matches: () => [{ ...match, household: summary({ id: OTHER, head_name: "حسن رضایی" }) }],
      lookup_national_id: () => [],
    });
    const open = vi.fn();
    render(<MemberForm id={ID} done={vi.fn()} open={open} />);
    type(el("#member-first_name"), "مریم");
    type(el("#member-last_name"), "کریمی");
    type(el("#member-national_id"), "0010000011");
    fireEvent.click(el("#save-member"));
    const warning = await waitFor(() => el("#registration-warning"));
    expect(warning.textContent).toMatch(/حسن رضایی/);
    expect(calls.find((c) => c.cmd === "member_matches")?.args).toMatchObject({
      household: ID,
      form: { first_name: "مریم", national_id: "0010000011" },
    });
    fireEvent.click(el(".open-match", warning));
    expect(open).toHaveBeenCalledWith(OTHER);
    expect(calls.some((c) => c.cmd === "add_member")).toBe(false);
  });
});
