// The lock screen: nothing of the caseload is asked for before the store is unlocked; a wrong
// passphrase is said in Persian; first run asks for a passphrase twice and checks it before
// sending; a wait imposed after wrong tries shows on the button; "lock now" goes back to it.
import { fireEvent, render, screen, waitFor } from "@testing-library/preact";
import { describe, expect, it, vi } from "vitest";
import { App, IDLE_LOCK_MS } from "../App";
import type { LockView, SyncView } from "../api";
import { drafts, loadDraft } from "../drafts";
import { type Handler, mockCommands } from "../test/ipc";

const identity = { worker_id: "w1", worker_name: "زهرا رضایی", device_id: "d1", device_name: "لپ‌تاپ ۷" };
const local: SyncView = { state: "local", pending_changes: 0, last_sync_at: null, last_error: null, held_back: 0 };
const view = (state: LockView["state"], wait_seconds = 0): LockView => ({ state, min_length: 10, wait_seconds });
const wrong = {
  code: "wrong_passphrase",
  field: null,
  message: "the passphrase is wrong",
  message_fa: "گذرواژه درست نیست. دوباره امتحان کنید.",
};

function type(id: string, value: string) {
  const input = document.getElementById(id);
  if (!input) throw new Error(`no #${id}`);
  fireEvent.input(input, { target: { value } });
}

function click(id: string) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`no #${id}`);
  fireEvent.click(el);
}

/** The app behind its lock: `open` says whether a passphrase opens it. */
function lockedApp(initial: LockView, open: Handler, extra: Record<string, Handler> = {}) {
  let state = initial;
  return mockCommands({
    lock_state: () => state,
    unlock: (args) => {
      state = open(args) as LockView;
      return state;
    },
    choose_passphrase: (args) => {
      state = open(args) as LockView;
      return state;
    },
    lock: () => {
      state = view("locked");
      return state;
    },
    draft_load: () => [{ key: "visit.h1", value: '{"observations":"پیش‌نویس"}' }],
    identity: () => identity,
    sync_status: () => local,
    list_households: () => ({ items: [], more: false }),
    ...extra,
  });
}

describe("the lock screen", () => {
  it("shows the lock screen read before the first render at once, without asking for it again", async () => {
    const calls = lockedApp(view("locked"), () => view("unlocked"));
    render(<App opening={view("locked")} />);
    // The first render is the lock screen: no empty frame waits on a round trip.
    expect(document.getElementById("lock-screen")?.dataset.state).toBe("locked");
    type("passphrase", "correct horse battery");
    click("unlock");
    await screen.findByText(identity.worker_name);
    expect(calls.map((c) => c.cmd)).not.toContain("lock_state");
  });

  it("keeps the caseload closed until the right passphrase, and says a wrong one in Persian", async () => {
    const calls = lockedApp(view("locked"), ({ passphrase }) => {
      if (passphrase !== "correct horse battery") throw wrong;
      return view("unlocked");
    });
    render(<App />);
    const screenEl = await waitFor(() => {
      const el = document.getElementById("lock-screen");
      if (!el) throw new Error("no lock screen yet");
      return el;
    });
    expect(screenEl.dataset.state).toBe("locked");
    expect(document.getElementById("passphrase-confirm")).toBeNull();
    type("passphrase", "not it");
    click("unlock");
    const error = await screen.findByRole("alert");
    expect(error.textContent).toBe("گذرواژه درست نیست. دوباره امتحان کنید.");
    expect((document.getElementById("passphrase") as HTMLInputElement).value).toBe("");
    expect(calls.map((c) => c.cmd)).not.toContain("identity");
    // Ready for the next try once the app said whether it must wait (it need not, yet).
    const button = document.getElementById("unlock") as HTMLButtonElement;
    await waitFor(() => expect(button.disabled).toBe(false));

    type("passphrase", "correct horse battery");
    click("unlock");
    await screen.findByText(identity.worker_name);
    expect(document.getElementById("lock-screen")).toBeNull();
    // The drafts came from the store, not from the WebView's storage.
    expect(loadDraft(drafts, "visit.h1", {})).toEqual({ observations: "پیش‌نویس" });
    const cmds = calls.map((c) => c.cmd);
    expect(cmds.indexOf("draft_load")).toBeGreaterThan(cmds.lastIndexOf("unlock"));
    expect(cmds.indexOf("identity")).toBeGreaterThan(cmds.lastIndexOf("unlock"));
  });

  it("on first run asks for a passphrase twice and checks it before sending", async () => {
    const calls = lockedApp(view("first_run"), () => view("unlocked"));
    render(<App />);
    await waitFor(() => expect(document.getElementById("passphrase-confirm")).not.toBeNull());
    type("passphrase", "short");
    type("passphrase-confirm", "short");
    click("choose-passphrase");
    expect((await screen.findByRole("alert")).textContent).toBe("گذرواژه کوتاه است.");
    type("passphrase", "a long enough one");
    type("passphrase-confirm", "a long enough 1");
    click("choose-passphrase");
    await waitFor(() => expect(screen.getByRole("alert").textContent).toBe("دو گذرواژه یکسان نیست."));
    expect(calls.map((c) => c.cmd)).not.toContain("choose_passphrase");
    type("passphrase-confirm", "a long enough one");
    click("choose-passphrase");
    await screen.findByText(identity.worker_name);
    const chosen = calls.find((c) => c.cmd === "choose_passphrase");
    expect(chosen?.args).toEqual({ passphrase: "a long enough one", confirm: "a long enough one" });
  });

  it("shows the wait the app imposes after several wrong tries", async () => {
    let tries = 0;
    lockedApp(
      view("locked"),
      () => {
        tries++;
        throw wrong;
      },
      { lock_state: () => view("locked", tries >= 1 ? 5 : 0) },
    );
    render(<App />);
    await waitFor(() => expect(document.getElementById("unlock")).not.toBeNull());
    type("passphrase", "wrong again");
    click("unlock");
    await screen.findByRole("alert");
    const button = document.getElementById("unlock") as HTMLButtonElement;
    await waitFor(() => expect(button.disabled).toBe(true));
    expect(button.textContent).toContain("۵");
  });

  it("locks again on 'lock now' and forgets the drafts in memory", async () => {
    const calls = lockedApp(view("unlocked"), () => view("unlocked"));
    render(<App />);
    await screen.findByText(identity.worker_name);
    expect(loadDraft(drafts, "visit.h1", {})).toEqual({ observations: "پیش‌نویس" });
    click("lock-now");
    await waitFor(() => expect(document.getElementById("lock-screen")).not.toBeNull());
    expect(calls.map((c) => c.cmd)).toContain("lock");
    expect(loadDraft(drafts, "visit.h1", {})).toEqual({});
    expect(screen.queryByText(identity.worker_name)).toBeNull();
  });

  it("locks itself after a while without input, and not while the worker is typing", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      const calls = lockedApp(view("unlocked"), () => view("unlocked"));
      render(<App />);
      await screen.findByText(identity.worker_name);
      // Input keeps it open: a key press just before the time is up starts the wait again.
      vi.advanceTimersByTime(IDLE_LOCK_MS - 1000);
      fireEvent.keyDown(window, { key: "a" });
      vi.advanceTimersByTime(IDLE_LOCK_MS - 1000);
      expect(calls.map((c) => c.cmd)).not.toContain("lock");
      vi.advanceTimersByTime(2000);
      await waitFor(() => expect(document.getElementById("lock-screen")).not.toBeNull());
      expect(calls.map((c) => c.cmd)).toContain("lock");
      expect(screen.queryByText(identity.worker_name)).toBeNull();
    } finally {
      vi.useRealTimers();
    }
  });
});
