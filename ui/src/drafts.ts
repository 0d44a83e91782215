// Drafts of forms, kept in local storage on every keystroke so that closing the app or a crash
// loses nothing a worker typed. A draft is removed once the form is saved.

export interface DraftStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

const PREFIX = "madadkar.draft.";

export function loadDraft<T extends object>(store: DraftStore, key: string, fallback: T): T {
  const raw = store.getItem(PREFIX + key);
  if (!raw) return fallback;
  try {
    const parsed = JSON.parse(raw);
    return typeof parsed === "object" && parsed !== null ? { ...fallback, ...parsed } : fallback;
  } catch {
    return fallback;
  }
}

export function saveDraft(store: DraftStore, key: string, value: object): void {
  store.setItem(PREFIX + key, JSON.stringify(value));
}

export function clearDraft(store: DraftStore, key: string): void {
  store.removeItem(PREFIX + key);
}
