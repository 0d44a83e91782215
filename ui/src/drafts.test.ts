import { describe, expect, it } from "vitest";
import { clearDraft, type DraftStore, loadDraft, saveDraft } from "./drafts";

function memory(): DraftStore & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return {
    data,
    getItem: (k) => data.get(k) ?? null,
    setItem: (k, v) => void data.set(k, v),
    removeItem: (k) => void data.delete(k),
  };
}

describe("drafts", () => {
  it("survive a reload and are removed once saved", () => {
    const store = memory();
    saveDraft(store, "visit.h1", { observations: "اجاره عقب افتاده", kind: "home" });
    const back = loadDraft(store, "visit.h1", { observations: "", kind: "phone", date: "1404-01-01" });
    expect(back).toEqual({ observations: "اجاره عقب افتاده", kind: "home", date: "1404-01-01" });
    clearDraft(store, "visit.h1");
    expect(loadDraft(store, "visit.h1", { kind: "phone" })).toEqual({ kind: "phone" });
  });

  it("ignore corrupt drafts", () => {
    const store = memory();
    store.setItem("madadkar.draft.x", "{not json");
    expect(loadDraft(store, "x", { a: 1 })).toEqual({ a: 1 });
  });
});
