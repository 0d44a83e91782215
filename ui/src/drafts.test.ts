import { describe, expect, it } from "vitest";
import { clearDraft, KeptDrafts, loadDraft, saveDraft } from "./drafts";
import { mockCommands } from "./test/ipc";

/** The draft commands answered by a store in memory; returns it with the calls made. */
function store(initial: Record<string, string> = {}) {
  const kept = new Map(Object.entries(initial));
  const calls = mockCommands({
    draft_load: () => [...kept].map(([key, value]) => ({ key, value })),
    draft_save: ({ key, value }) => void kept.set(key as string, value as string),
    draft_clear: ({ key }) => void kept.delete(key as string),
  });
  return { kept, calls };
}

describe("drafts", () => {
  it("are kept in the app's store, survive a reload and are removed once saved", async () => {
    const { kept } = store();
    const drafts = new KeptDrafts();
    await drafts.load(null);
    saveDraft(drafts, "visit.h1", { observations: "اجاره عقب افتاده", kind: "home" });
    await drafts.flush();
    expect(JSON.parse(kept.get("visit.h1") ?? "")).toEqual({ observations: "اجاره عقب افتاده", kind: "home" });
    expect(localStorage.length).toBe(0);

    // The app restarts and is unlocked again.
    const again = new KeptDrafts();
    await again.load(null);
    const back = loadDraft(again, "visit.h1", { observations: "", kind: "phone", date: "1404-01-01" });
    expect(back).toEqual({ observations: "اجاره عقب افتاده", kind: "home", date: "1404-01-01" });
    clearDraft(again, "visit.h1");
    await again.flush();
    expect(kept.has("visit.h1")).toBe(false);
    expect(loadDraft(again, "visit.h1", { kind: "phone" })).toEqual({ kind: "phone" });
  });

  it("send keystrokes in order, the latest value replacing one not sent yet", async () => {
    const { kept, calls } = store();
    const drafts = new KeptDrafts();
    await drafts.load(null);
    for (const text of ["ا", "اج", "اجا", "اجار", "اجاره"]) saveDraft(drafts, "visit.h1", { observations: text });
    clearDraft(drafts, "household.new");
    saveDraft(drafts, "household.new", { district: "۳" });
    await drafts.flush();
    expect(JSON.parse(kept.get("visit.h1") ?? "")).toEqual({ observations: "اجاره" });
    expect(JSON.parse(kept.get("household.new") ?? "")).toEqual({ district: "۳" });
    const saves = calls.filter((c) => c.cmd === "draft_save" && c.args.key === "visit.h1");
    expect(saves.length).toBeLessThan(5);
  });

  it("move drafts an earlier version left in local storage into the store", async () => {
    const { kept } = store({ "visit.h2": '{"observations":"newer"}' });
    localStorage.setItem("madadkar.draft.visit.h1", '{"observations":"left behind"}');
    localStorage.setItem("madadkar.draft.visit.h2", '{"observations":"older"}');
    localStorage.setItem("unrelated", "kept");
    const drafts = new KeptDrafts();
    await drafts.load(localStorage);
    expect(kept.get("visit.h1")).toBe('{"observations":"left behind"}');
    expect(kept.get("visit.h2")).toBe('{"observations":"newer"}');
    expect(localStorage.getItem("madadkar.draft.visit.h1")).toBeNull();
    expect(localStorage.getItem("madadkar.draft.visit.h2")).toBeNull();
    expect(localStorage.getItem("unrelated")).toBe("kept");
    expect(loadDraft(drafts, "visit.h1", {})).toEqual({ observations: "left behind" });
  });

  it("say when a draft could not be kept", async () => {
    mockCommands({
      draft_load: () => [],
      draft_save: () => {
        throw { code: "locked", field: null, message: "the store is locked", message_fa: null };
      },
    });
    const drafts = new KeptDrafts();
    const errors: string[] = [];
    drafts.onError = (e) => errors.push(e.code);
    await drafts.load(null);
    saveDraft(drafts, "visit.h1", { observations: "x" });
    await drafts.flush();
    expect(errors).toEqual(["locked"]);
  });

  it("ignore corrupt drafts and are forgotten on lock", async () => {
    store({ x: "{not json", y: '{"a":2}' });
    const drafts = new KeptDrafts();
    await drafts.load(null);
    expect(loadDraft(drafts, "x", { a: 1 })).toEqual({ a: 1 });
    expect(loadDraft(drafts, "y", { a: 1 })).toEqual({ a: 2 });
    drafts.forget();
    expect(loadDraft(drafts, "y", { a: 1 })).toEqual({ a: 1 });
  });
});
