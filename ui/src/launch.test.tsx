// The launch's paint marks: the lock screen reports its first paint, and after unlocking the
// caseload reports its first page of rows, each once, after the frame is painted (not when the
// state changed). The first page's query reaches the store before the shell's other reads (the
// store serves one at a time), and its count follows it. Scrolling the caseload only lists
// pages, counted once, and never asks for a household.
import { fireEvent, render, waitFor } from "@testing-library/preact";
import { describe, expect, it, vi } from "vitest";
import { App } from "./App";
import type { HouseholdSummary, LockView, SyncView } from "./api";
import { Caseload } from "./screens/Caseload";
import { summary } from "./test/fixtures";
import { mockCommands } from "./test/ipc";

const identity = { worker_id: "w1", worker_name: "زهرا رضایی", device_id: "d1", device_name: "لپ‌تاپ ۷" };
const local: SyncView = { state: "local", pending_changes: 0, last_sync_at: null, last_error: null, held_back: 0 };
const view = (state: LockView["state"]): LockView => ({ state, min_length: 10, wait_seconds: 0 });

/** `total` households: as many as a page asks for from its offset, and whether more follow. */
function pages(total: number) {
  return ({ limit, offset }: Record<string, unknown>) => {
    const items: HouseholdSummary[] = [];
    for (let i = offset as number; i < Math.min(total, (offset as number) + (limit as number)); i++) {
      items.push(summary({ id: `0190b7c4-6a7e-7000-8000-${String(i).padStart(12, "0")}` }));
    }
    return { items, more: (offset as number) + (limit as number) < total };
  };
}

describe("the launch's marks", () => {
  it("reports the lock screen's paint, then the first page's after unlocking, once each", async () => {
    const frames = vi.spyOn(window, "requestAnimationFrame");
    let state = view("locked");
    const calls = mockCommands({
      lock_state: () => state,
      unlock: () => {
        state = view("unlocked");
        return state;
      },
      ui_mark: () => null,
      identity: () => identity,
      standing: () => ({ role: "field", group: null }),
      draft_load: () => [],
      sync_status: () => local,
      list_households: pages(250),
      count_households: () => 250,
      // What the shell and the caseload read besides the page, counted here to see their order.
      nav_counts: () => ({ conflicts: 0, awaiting_review: 0, returned: 0 }),
      followups: () => [],
      quarantined: () => [],
      returned_visits: () => [],
    });
    const cmds = () => calls.map((c) => (c.cmd === "ui_mark" ? `mark:${c.args.what}` : c.cmd));
    render(<App />);
    await waitFor(() => expect(cmds()).toContain("mark:lock_screen"));
    // Reported from a frame, not straight from the render.
    expect(frames).toHaveBeenCalled();
    expect(cmds()).not.toContain("mark:first_page");

    fireEvent.input(document.getElementById("passphrase") as Element, { target: { value: "correct horse" } });
    fireEvent.click(document.getElementById("unlock") as Element);
    await waitFor(() => expect(cmds()).toContain("mark:first_page"));
    // The page's rows were on the screen when it reported.
    expect(document.querySelectorAll(".row[data-id]:not([data-id=''])").length).toBeGreaterThan(0);
    const order = cmds();
    expect(order.indexOf("mark:first_page")).toBeGreaterThan(order.indexOf("list_households"));
    // The first page is the first thing asked of the store once it is open, before who is
    // working and the drafts, and is asked for once: the caseload shows the page read ahead.
    const afterUnlock = order.slice(order.indexOf("unlock") + 1).filter((c) => !c.startsWith("mark:"));
    expect(afterUnlock.slice(0, 4)).toEqual(["list_households", "identity", "standing", "draft_load"]);
    // The count follows the page; the panels, the navigation's counts and the sync state follow
    // the count.
    await waitFor(() => expect(cmds()).toContain("count_households"));
    for (const later of ["nav_counts", "followups", "quarantined", "returned_visits", "sync_status"]) {
      await waitFor(() => expect(cmds()).toContain(later));
      expect(cmds().indexOf(later), later).toBeGreaterThan(cmds().indexOf("count_households"));
    }
    expect(cmds().filter((c) => c === "list_households")).toHaveLength(1);
    expect(cmds().filter((c) => c === "identity")).toHaveLength(1);
    await waitFor(() => expect(document.getElementById("result-count")?.textContent).toMatch(/^۲۵۰/));

    // Scrolling, reloading pages or screens shown again report nothing more: one launch, two marks.
    await new Promise((r) => setTimeout(r, 50));
    expect(cmds().filter((c) => c.startsWith("mark:"))).toEqual(["mark:lock_screen", "mark:first_page"]);
  });

  it("counts the caseload once, and not at all when its first page holds it all", async () => {
    const calls = mockCommands({ list_households: pages(3) });
    render(<Caseload open={vi.fn()} create={vi.fn()} />);
    await waitFor(() => expect(document.getElementById("result-count")?.textContent).toMatch(/^۳/));
    expect(calls.map((c) => c.cmd)).not.toContain("count_households");
  });

  it("says the count is not known yet rather than a wrong one", async () => {
    let count: (n: number) => void = () => undefined;
    const calls = mockCommands({
      list_households: pages(250),
      count_households: () => new Promise<number>((resolve) => (count = resolve)),
    });
    render(<Caseload open={vi.fn()} create={vi.fn()} />);
    await waitFor(() => expect(document.querySelector(".row[data-id]:not([data-id=''])")).not.toBeNull());
    expect(document.getElementById("result-count")?.textContent).toMatch(/^…/);
    await waitFor(() => expect(calls.map((c) => c.cmd)).toContain("count_households"));
    count(250);
    await waitFor(() => expect(document.getElementById("result-count")?.textContent).toMatch(/^۲۵۰/));
  });

  it("ends where the last page ends when households left the list after it was counted", async () => {
    const calls = mockCommands({ list_households: pages(250), count_households: () => 300 });
    render(<Caseload open={vi.fn()} create={vi.fn()} />);
    await waitFor(() => expect(document.getElementById("result-count")?.textContent).toMatch(/^۳۰۰/));
    const list = document.querySelector(".list") as HTMLElement;
    list.scrollTop = 300 * 56;
    fireEvent.scroll(list);
    await waitFor(() => expect(document.getElementById("result-count")?.textContent).toMatch(/^۲۵۰/));
    await waitFor(() => expect(document.querySelector(".row .loading")).toBeNull());
    await new Promise((r) => setTimeout(r, 50));
    // The page past the end was asked for once, not again and again.
    expect(calls.filter((c) => c.cmd === "list_households" && c.args.offset === 200)).toHaveLength(1);
  });

  it("scrolls the whole caseload by listing pages, never by opening a household", async () => {
    const calls = mockCommands({ list_households: pages(1000), count_households: () => 1000 });
    render(<Caseload open={vi.fn()} create={vi.fn()} />);
    await waitFor(() => expect(document.querySelector(".row[data-id]")).not.toBeNull());
    const list = document.querySelector(".list") as HTMLElement;
    // Row by row to the bottom, a screenful at a time.
    for (let top = 0; top <= 1000 * 56; top += 600) {
      list.scrollTop = top;
      fireEvent.scroll(list);
      await waitFor(() => expect(document.querySelector(".row .loading")).toBeNull());
    }
    const last = document.querySelector('.row[data-id="0190b7c4-6a7e-7000-8000-000000000999"]');
    expect(last).not.toBeNull();
    const cmds = calls.map((c) => c.cmd);
    expect(new Set(cmds)).toEqual(new Set(["list_households", "count_households"]));
    // Every page once: 1,000 rows in pages of 100; counted once, not with every page.
    expect(cmds.filter((c) => c === "list_households")).toHaveLength(10);
    expect(cmds.filter((c) => c === "count_households")).toHaveLength(1);
  });
});
