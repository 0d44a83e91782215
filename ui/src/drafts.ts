// Drafts of forms, kept on every keystroke so that closing the app or a crash loses nothing a
// worker typed. They live in the app's encrypted store (the draft_* commands), never in the
// WebView's storage, which is a plain file on disk. A draft is removed once the form is saved.
//
// Forms read drafts synchronously while they render, so every draft is loaded once when the
// store is unlocked (`drafts.load`) and kept in memory until it is locked again (`drafts.forget`);
// each change is sent to the store in order, the latest value of a key replacing one not sent yet.
import { api, asUiError, type UiError } from "./api";

export interface DraftStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** Where earlier versions kept drafts in the WebView's local storage. */
const LEGACY_PREFIX = "madadkar.draft.";

export function loadDraft<T extends object>(store: DraftStore, key: string, fallback: T): T {
  const raw = store.getItem(key);
  if (!raw) return fallback;
  try {
    const parsed = JSON.parse(raw);
    return typeof parsed === "object" && parsed !== null ? { ...fallback, ...parsed } : fallback;
  } catch {
    return fallback;
  }
}

export function saveDraft(store: DraftStore, key: string, value: object): void {
  store.setItem(key, JSON.stringify(value));
}

export function clearDraft(store: DraftStore, key: string): void {
  store.removeItem(key);
}

/** The drafts of the unlocked store, mirrored in memory. */
export class KeptDrafts implements DraftStore {
  private data = new Map<string, string>();
  /** Keys with a change not sent yet: the value to keep, or null to forget the draft. */
  private unsent = new Map<string, string | null>();
  private queue: Promise<void> = Promise.resolve();
  /** Told when a draft could not be kept, so the worker knows to save the form. */
  onError: (e: UiError) => void = () => undefined;

  /** Loads every kept draft (after unlocking), moving drafts an earlier version left in the
   * WebView's local storage into the store and out of local storage. */
  async load(legacy: Storage | null = globalThis.localStorage ?? null): Promise<void> {
    this.data = new Map((await api.draftLoad()).map((d) => [d.key, d.value]));
    if (!legacy) return;
    const old: string[] = [];
    for (let i = 0; i < legacy.length; i++) {
      const name = legacy.key(i);
      if (name?.startsWith(LEGACY_PREFIX)) old.push(name);
    }
    for (const name of old) {
      const key = name.slice(LEGACY_PREFIX.length);
      const value = legacy.getItem(name);
      // A draft already in the store is newer than one left behind by an earlier version.
      if (value !== null && !this.data.has(key)) {
        await api.draftSave(key, value);
        this.data.set(key, value);
      }
      legacy.removeItem(name);
    }
  }

  /** Waits until every change has reached the store (before locking). */
  flush(): Promise<void> {
    return this.queue;
  }

  /** Drops the drafts from memory (the store was locked). */
  forget(): void {
    this.data.clear();
    this.unsent.clear();
  }

  getItem(key: string): string | null {
    return this.data.get(key) ?? null;
  }

  setItem(key: string, value: string): void {
    this.data.set(key, value);
    this.send(key, value);
  }

  removeItem(key: string): void {
    this.data.delete(key);
    this.send(key, null);
  }

  private send(key: string, value: string | null): void {
    const queued = this.unsent.has(key);
    this.unsent.set(key, value);
    // A change of this key already waits in the queue: it will send this latest value.
    if (queued) return;
    this.queue = this.queue.then(async () => {
      const latest = this.unsent.get(key);
      this.unsent.delete(key);
      if (latest === undefined) return;
      try {
        if (latest === null) await api.draftClear(key);
        else await api.draftSave(key, latest);
      } catch (e) {
        this.onError(asUiError(e));
      }
    });
  }
}

/** The app's drafts. */
export const drafts = new KeptDrafts();
