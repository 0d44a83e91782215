// End to end: the real desktop app (Tauri, under Xvfb) launched on a replica of a few thousand
// demo households made with the `madadkar` CLI. The app measures its own launch (the lock
// screen's paint, the unlock, the first caseload page's query and paint: src-tauri/src/launch.rs)
// and counts the commands that open a household's document. The first page comes without the
// count of all households, which follows it. Scrolling the whole virtualised
// caseload from top to bottom lists every page and opens no document; opening one household
// does count, so the count can tell. The marks must exist and be in order; how fast they are
// is the launch bench's business (scripts/launch-bench.sh), not a test's.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { Cli, click, Driver, invoke, unlock } from "./harness.mjs";

const HOUSEHOLDS = Number(process.env.MADADKAR_E2E_LAUNCH_HOUSEHOLDS ?? 1000);
const PAGE = 100; // the caseload's page (ui/src/screens/Caseload.tsx)
const PASSPHRASE = "launch e2e passphrase 1404";

const work = mkdtempSync(path.join(tmpdir(), "madadkar-e2e-launch-"));
const appDir = path.join(work, "app");
const driver = new Driver(appDir);

before(async () => {
  // A replica that is not enrolled: the caseload is all local, and no sync competes with it.
  new Cli(appDir, PASSPHRASE).run("demo", "--households", String(HOUSEHOLDS));
  await driver.start();
});

after(() => {
  driver.stop();
  rmSync(work, { recursive: true, force: true });
});

/** Scrolls the caseload's list box from top to bottom a screenful at a time, as a worker would,
 * waiting at each step for the rows in view to be filled; returns how many distinct households
 * were shown and how many steps it took. */
async function scrollToBottom(app) {
  // A frame under Xvfb on a busy machine can take a fifth of a second: more than WebDriver's
  // default 30 s for a script of a hundred steps.
  await app.setTimeout({ script: 150000 });
  return app.execute(async () => {
    const list = document.querySelector(".caseload .list");
    if (!list) return { error: "no caseload list" };
    const frame = () => new Promise((resolve) => requestAnimationFrame(() => resolve()));
    const seen = new Set();
    let steps = 0;
    const deadline = Date.now() + 120000;
    for (;;) {
      // Rows still loading show "…" and no id; wait until the ones in view are filled.
      while (list.querySelector(".row .loading")) {
        if (Date.now() > deadline) return { error: `rows never filled at ${list.scrollTop}` };
        await frame();
      }
      for (const row of list.querySelectorAll(".row[data-id]")) {
        if (row.dataset.id) seen.add(row.dataset.id);
      }
      if (list.scrollTop + list.clientHeight >= list.scrollHeight - 1) break;
      list.scrollTop += list.clientHeight;
      steps++;
      // The scroll event comes with the next frame; the render it causes follows at once.
      await frame();
    }
    return { seen: seen.size, steps };
  });
}

test("scrolling the whole caseload lists pages and never loads a document", { timeout: 240000 }, async () => {
  const app = await driver.open();
  try {
    await unlock(app, PASSPHRASE);
    const first = await app.$(".caseload .row[data-id]:not([data-id=''])");
    await first.waitForDisplayed({ timeout: 30000 });
    await app.waitUntil(async () => (await invoke(app, "launch_marks")).first_page_painted_ms !== null, {
      timeout: 10000,
      timeoutMsg: "the first page's paint was never reported",
    });
    const marks = await invoke(app, "launch_marks");

    // Each mark was measured, and they come in the order things happened.
    for (const name of [
      "setup_ms",
      "script_started_ms",
      "lock_painted_ms",
      "unlock_started_ms",
      "store_opened_ms",
      "first_page_query_started_ms",
      "first_page_query_ended_ms",
      "first_page_painted_ms",
    ]) {
      assert.ok(typeof marks[name] === "number" && marks[name] > 0, `${name} was measured: ${marks[name]}`);
    }
    assert.ok(marks.setup_ms < marks.script_started_ms, "Tauri's setup ran before the UI's script");
    assert.ok(marks.script_started_ms < marks.lock_painted_ms);
    assert.ok(marks.lock_painted_ms < marks.unlock_started_ms, "the lock screen was painted before the unlock");
    assert.ok(marks.unlock_started_ms < marks.store_opened_ms);
    assert.ok(marks.store_opened_ms <= marks.first_page_query_started_ms);
    assert.ok(marks.first_page_query_started_ms <= marks.first_page_query_ended_ms);
    assert.ok(marks.first_page_query_ended_ms < marks.first_page_painted_ms);
    if (process.platform === "linux") assert.ok(marks.before_main_ms !== null, "Linux tells the time before main");
    assert.equal(marks.document_loads, 0, "nothing opened a household's document before the first page");

    // The count comes after the first page, asked for on its own.
    const persian = (n) => String(n).replace(/[0-9]/g, (d) => "۰۱۲۳۴۵۶۷۸۹"[Number(d)]);
    await app.waitUntil(async () => (await (await app.$("#result-count")).getText()).startsWith(persian(HOUSEHOLDS)), {
      timeout: 10000,
      timeoutMsg: "the caseload's count never showed every household",
    });

    const scrolled = await scrollToBottom(app);
    assert.ok(!scrolled.error, scrolled.error);
    assert.equal(scrolled.seen, HOUSEHOLDS, "every household was shown on the way down");
    assert.ok(scrolled.steps > HOUSEHOLDS / PAGE, `scrolled in ${scrolled.steps} steps`);
    const after = await invoke(app, "launch_marks");
    assert.equal(after.document_loads, 0, "scrolling the caseload loaded a household's document");
    assert.ok(
      after.pages_listed >= HOUSEHOLDS / PAGE,
      `every page was listed while scrolling: ${after.pages_listed} listed`,
    );
    // The marks are the launch's: scrolling did not move them.
    assert.equal(after.first_page_painted_ms, marks.first_page_painted_ms);

    // The count does count: opening one household loads its document.
    await click(await app.$(".caseload .row[data-id]:not([data-id=''])"));
    await (await app.$("#household-page")).waitForDisplayed({ timeout: 20000 });
    const opened = await invoke(app, "launch_marks");
    assert.ok(opened.document_loads > 0, "opening a household counted as a document load");
  } finally {
    await app.deleteSession();
  }
});
