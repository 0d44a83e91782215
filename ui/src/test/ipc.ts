// The one thing tests replace: the app's commands, at Tauri's IPC boundary (what `invoke` and
// `listen` of @tauri-apps/api talk to). Everything above it is the real UI code.
import { mockIPC } from "@tauri-apps/api/mocks";
import type { UiError } from "../api";

export type Handler = (args: Record<string, unknown>) => unknown;

/** Answers commands with `handlers`; returns the calls made, in order. An unknown command fails
 * the test's expectations by rejecting. Sync events can then be sent with `emit`. */
export function mockCommands(handlers: Record<string, Handler>): { cmd: string; args: Record<string, unknown> }[] {
  const calls: { cmd: string; args: Record<string, unknown> }[] = [];
  mockIPC(
    (cmd, payload) => {
      const args = (payload ?? {}) as Record<string, unknown>;
      calls.push({ cmd, args });
      const handler = handlers[cmd];
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
