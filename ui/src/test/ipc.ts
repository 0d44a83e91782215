// The one thing tests replace: the app's commands, at Tauri's IPC boundary (what `invoke` and
// `listen` of @tauri-apps/api talk to). Everything above it is the real UI code.
import { mockIPC } from "@tauri-apps/api/mocks";
import type { PlanView, UiError } from "../api";

/** A household's plan with no goals yet: graduation not proposed, for want of goals. */
export const EMPTY_PLAN: PlanView = {
  goals: [],
  goals_met: 0,
  criteria: { threshold: 1, visits: 2 },
  proposed: false,
  unmet_fa: ["برنامه هنوز هدفی ندارد"],
  unmet_en: ["the plan has no goals yet"],
  recent_highest: [],
  overdue_steps: [],
  partners: [],
};

export type Handler = (args: Record<string, unknown>) => unknown;

/** The drafts the default draft_* commands keep, for tests that did not answer them. */
export const keptDrafts = new Map<string, string>();

const DEFAULTS: Record<string, Handler> = {
  draft_load: () => [...keptDrafts].map(([key, value]) => ({ key, value })),
  draft_save: ({ key, value }) => void keptDrafts.set(key as string, value as string),
  draft_clear: ({ key }) => void keptDrafts.delete(key as string),
  // What the shell reads on every screen: a field worker with nothing to count, no returned
  // visits, nothing set aside. Tests about these answer them themselves.
  standing: () => ({ role: "field", group: null }),
  nav_counts: () => ({ conflicts: 0, awaiting_review: 0, returned: 0 }),
  returned_visits: () => [],
  quarantined: () => [],
  // The launch's marks (launch.ts), reported by the lock screen and the caseload.
  ui_mark: () => null,
  // What the caseload, the household page and the visit form read besides their own data: no
  // follow-ups, an empty plan, no partners, no ledger, no assessments. Tests about the case
  // outcomes answer them themselves.
  followups: () => [],
  plan: () => EMPTY_PLAN,
  partners: () => [],
  referral_ledger: () => [],
  need_history: () => ({
    points: [],
    trend: "unknown",
    chart: {
      report: "need-history",
      title_fa: "",
      title_en: "",
      columns: [],
      rows: [],
      filters: [],
      chart: null,
    },
  }),
};

/** Answers commands with `handlers`; returns the calls made, in order. An unknown command fails
 * the test's expectations by rejecting. The forms' draft commands, unless `handlers` answers
 * them, are kept in `keptDrafts`; they and the shell's reads in `DEFAULTS` are not counted among
 * the calls. Sync events can then be sent with `emit`. */
export function mockCommands(handlers: Record<string, Handler>): { cmd: string; args: Record<string, unknown> }[] {
  const calls: { cmd: string; args: Record<string, unknown> }[] = [];
  mockIPC(
    (cmd, payload) => {
      const args = (payload ?? {}) as Record<string, unknown>;
      const handler = handlers[cmd];
      if (!handler && DEFAULTS[cmd]) return DEFAULTS[cmd](args);
      calls.push({ cmd, args });
      if (!handler) throw new Error(`unexpected command ${cmd}`);
      return handler(args);
    },
    { shouldMockEvents: true },
  );
  return calls;
}

/** A validation error as the app sends it. */
export function invalid(field: UiError["field"], message: string, message_fa: string): UiError {
  return { code: "invalid", field, message, message_fa };
}
