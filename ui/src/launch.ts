// The launch's marks from the window: its script starting, the lock screen's first paint and,
// after unlocking, the first caseload page's. The app keeps the time each report arrives
// (src-tauri/src/launch.rs); the launch bench and the end-to-end test read them back. Nothing
// but the mark's name is sent.
import { api, type UiMark } from "./api";

const reported = new Set<UiMark>();

/** Reports `what` once per window, now. A failed report only loses a measurement. */
export function reportMark(what: UiMark) {
  if (reported.has(what)) return;
  reported.add(what);
  api.uiMark(what).catch(() => undefined);
}

/** Reports `what` once per window, after the frame now being rendered is painted: called from
 * a layout effect (the DOM is committed), a frame callback runs before that frame's paint and a
 * task queued from it runs after the paint. */
export function reportPainted(what: UiMark) {
  if (reported.has(what)) return;
  requestAnimationFrame(() => {
    setTimeout(() => reportMark(what), 0);
  });
}
