// The shell: the header follows the language switch, and the status bar follows the sync
// state the app pushes as events (no polling).
import { emit } from "@tauri-apps/api/event";
import { fireEvent, render, screen, waitFor } from "@testing-library/preact";
import { describe, expect, it } from "vitest";
import { App } from "./App";
import type { SyncView } from "./api";
import { mockCommands } from "./test/ipc";

const identity = { worker_id: "w1", worker_name: "زهرا رضایی", device_id: "d1", device_name: "لپ‌تاپ ۷" };
const local: SyncView = { state: "local", pending_changes: 0, last_sync_at: null, last_error: null, held_back: 0 };

const unlocked = { state: "unlocked", min_length: 10, wait_seconds: 0 };

function app() {
  return mockCommands({
    lock_state: () => unlocked,
    identity: () => identity,
    sync_status: () => local,
    list_households: () => ({ items: [], more: false }),
  });
}

describe("the app", () => {
  it("switches the header's language with the rest of the interface", async () => {
    app();
    render(<App />);
    const nav = await screen.findByRole("button", { name: "پرونده‌ها" });
    fireEvent.click(screen.getByRole("button", { name: "English" }));
    await waitFor(() => expect(nav.textContent).toBe("Caseload"));
    expect(screen.getByRole("heading", { level: 1 }).textContent).toBe("Madadkar");
    expect(document.documentElement.dir).toBe("ltr");
    fireEvent.click(screen.getByRole("button", { name: "فارسی" }));
    await waitFor(() => expect(nav.textContent).toBe("پرونده‌ها"));
  });

  it("shows each sync state the app pushes", async () => {
    const calls = app();
    render(<App />);
    const bar = await waitFor(() => {
      const el = document.getElementById("sync-status");
      if (!el) throw new Error("no status bar yet");
      return el;
    });
    await waitFor(() => expect(calls.some((c) => c.cmd === "sync_status")).toBe(true));
    await emit("sync-status", { ...local, state: "offline", pending_changes: 2 } satisfies SyncView);
    await waitFor(() => expect(bar.dataset.state).toBe("offline"));
    expect(bar.dataset.pending).toBe("2");
    await emit("sync-status", { ...local, state: "synced", last_sync_at: "2026-11-23T08:00:00Z" } satisfies SyncView);
    await waitFor(() => expect(bar.dataset.state).toBe("synced"));
    expect(bar.dataset.pending).toBe("0");
    expect(document.getElementById("held-back")).toBeNull();
    // Households whose changes the server refused are counted, the rest having synced.
    await emit("sync-status", { ...local, state: "synced", held_back: 2 } satisfies SyncView);
    await waitFor(() => expect(document.getElementById("held-back")?.textContent).toMatch(/نگه داشته شد/));
  });

  it("says when it cannot tell who is working, and tries again", async () => {
    let failures = 1;
    mockCommands({
      lock_state: () => unlocked,
      identity: () => {
        if (failures-- > 0)
          throw { code: "storage", field: null, message: "database: disk I/O error", message_fa: null };
        return identity;
      },
      sync_status: () => local,
      list_households: () => ({ items: [], more: false }),
    });
    render(<App />);
    await screen.findByRole("alert");
    expect(document.getElementById("worker-name")).toBeNull();
    fireEvent.click(screen.getByRole("button", { name: "تلاش دوباره" }));
    await screen.findByText(identity.worker_name);
  });
});
