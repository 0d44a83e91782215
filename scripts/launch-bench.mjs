// The launch bench's driver (run by scripts/launch-bench.sh, which builds and makes the replica):
// launches the real release app on the replica in `--dir` N times through tauri-driver and
// WebKitWebDriver, unlocks it, waits for the first caseload page's paint and reads the marks the
// app measured itself (src-tauri/src/launch.rs). Prints the Markdown table: each launch's marks,
// their p50 and worst, the target (< 1 s from launch to the first caseload page, the time the
// worker spends typing the passphrase left out) and the baselines measured in the same run.
//
//   node scripts/launch-bench.mjs --dir DIR --passphrase-file FILE [--runs 5] [--baseline FILE]
//     [--households N] [--first-note TEXT]

import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { Driver, invoke, unlock } from "../ui/e2e/harness.mjs";

const { values } = parseArgs({
  options: {
    dir: { type: "string" },
    "passphrase-file": { type: "string" },
    runs: { type: "string", default: "5" },
    baseline: { type: "string" },
    households: { type: "string", default: "?" },
    "first-note": { type: "string", default: "first" },
  },
});
if (!values.dir || !values["passphrase-file"]) {
  console.error("usage: launch-bench.mjs --dir DIR --passphrase-file FILE [--runs N]");
  process.exit(2);
}
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) {
  console.error(`--runs must be a whole number of launches, not ${values.runs}`);
  process.exit(2);
}
const passphrase = readFileSync(values["passphrase-file"], "utf8").trim();

const TARGET_MS = 1000;
const launches = [];
const driver = new Driver(values.dir);
await driver.start();
try {
  for (let run = 1; run <= runs; run++) {
    // Each session starts the app afresh: a new process, a new window, the lock screen.
    const app = await driver.open();
    try {
      await unlock(app, passphrase);
      await app.waitUntil(async () => (await invoke(app, "launch_marks")).first_page_painted_ms !== null, {
        timeout: 60000,
        interval: 100,
        timeoutMsg: "the first page's paint was never reported",
      });
      const marks = await invoke(app, "launch_marks");
      const rows = (await app.$$(".caseload .row[data-id]")).length;
      console.error(JSON.stringify({ run, rows, ...marks }));
      launches.push(marks);
    } finally {
      await app.deleteSession();
    }
  }
} finally {
  driver.stop();
}

/** What a table shows of one launch, in ms. */
function spans(m) {
  const launchToLock = (m.before_main_ms ?? 0) + m.lock_painted_ms;
  const unlockToPage = m.first_page_painted_ms - m.unlock_started_ms;
  return {
    beforeMain: m.before_main_ms ?? 0,
    setup: m.setup_ms,
    script: m.script_started_ms - m.setup_ms,
    lock: m.lock_painted_ms - m.script_started_ms,
    launchToLock,
    open: m.store_opened_ms - m.unlock_started_ms,
    toQuery: m.first_page_query_started_ms - m.store_opened_ms,
    query: m.first_page_query_ended_ms - m.first_page_query_started_ms,
    render: m.first_page_painted_ms - m.first_page_query_ended_ms,
    unlockToPage,
    total: launchToLock + unlockToPage,
  };
}

const ms = (x) => (x < 10 ? x.toFixed(1) : Math.round(x).toString());
const p50 = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const worst = (xs) => Math.max(...xs);
const columns = [
  "beforeMain",
  "setup",
  "script",
  "lock",
  "launchToLock",
  "open",
  "toQuery",
  "query",
  "render",
  "unlockToPage",
  "total",
];
const all = launches.map(spans);
const row = (name, s) => `| ${name} | ${columns.map((c) => ms(s[c])).join(" | ")} |`;
const summary = (f) => Object.fromEntries(columns.map((c) => [c, f(all.map((s) => s[c]))]));

const out = [];
out.push(
  `Launch to the first caseload page at ${values.households} households (ms; ${runs} launches of the release app under Xvfb, driven by WebDriver):`,
);
out.push("");
out.push(
  "| launch | process → main | main → Tauri setup | setup → UI script runs | script → lock screen painted | **launch → lock screen painted** | unlock: Argon2id + open store | store open → first page query | first page query | query → rows painted | **unlock → first page painted** | **sum** |",
);
out.push(`|---|${"--:|".repeat(columns.length)}`);
all.forEach((s, i) => {
  out.push(row(i === 0 ? `1 (${values["first-note"]})` : String(i + 1), s));
});
const mid = summary(p50);
const bad = summary(worst);
out.push(row("**p50**", mid));
out.push(row("**worst**", bad));
out.push("");
const verdict = (x) => (x < TARGET_MS ? "met" : "missed");
out.push(
  `Target: launch → lock screen + unlock → first page < ${TARGET_MS} ms (the worker's typing left out): p50 ${ms(mid.total)} ms (**${verdict(mid.total)}**), worst ${ms(bad.total)} ms (**${verdict(bad.total)}**).`,
);
if (values.baseline) {
  const b = JSON.parse(readFileSync(values.baseline, "utf8"));
  out.push("");
  out.push("Baselines in the same run (a new `madadkar` CLI process each time, release build, same replica):");
  out.push("");
  out.push("| baseline | runs | p50 ms | worst ms |");
  out.push("|---|--:|--:|--:|");
  for (const [name, xs] of Object.entries(b))
    out.push(`| ${name} | ${xs.length} | ${ms(p50(xs))} | ${ms(worst(xs))} |`);
}
console.log(out.join("\n"));
