// Each test starts from a clean page: no rendered app, no mocked commands, no drafts, real
// clocks, the Persian interface.
import { clearMocks } from "@tauri-apps/api/mocks";
import { cleanup } from "@testing-library/preact";
import { afterEach, vi } from "vitest";
import { setLanguage } from "../i18n";

setLanguage("fa");

afterEach(() => {
  cleanup();
  clearMocks();
  localStorage.clear();
  vi.useRealTimers();
  setLanguage("fa");
});
