// Each test starts from a clean page: no rendered app, no mocked commands, no drafts, real
// clocks, the Persian interface.
import { clearMocks } from "@tauri-apps/api/mocks";
import { cleanup } from "@testing-library/preact";
import { afterEach, vi } from "vitest";
import { drafts } from "../drafts";
import { setLanguage } from "../i18n";
import { keptDrafts } from "./ipc";

setLanguage("fa");

afterEach(() => {
  cleanup();
  clearMocks();
  localStorage.clear();
  drafts.forget();
  keptDrafts.clear();
  vi.useRealTimers();
  setLanguage("fa");
});
