// End to end: case outcomes in the real desktop app (Tauri, under Xvfb, through tauri-driver and
// WebKitWebDriver) against a real madadkar-server on loopback holding the demo partner directory
// (scripts/demo-partners.json), which reaches the worker's replica with its sync.
//
// A field worker, in the app: adds a goal to a household's empowerment plan and a step a bank
// carries out (the bank chosen from the directory), records a visit ticking the step done and
// referring the household to the bank, then moves the referral along its ledger to approved and
// to disbursed with an amount; an older referral, sent two months ago, shows stalled in red.
// The work syncs, and the supervisor's replica (the CLI) reads the step done and the referral
// disbursed with its amount. Screenshots: docs/screenshots/17-plan.png, 18-ledger.png.
//
// Then a second low-need visit makes the criteria hold: the supervisor, in the app, sees the
// graduation proposed, confirms it with a reason, and the worker's replica reads it graduated.
//
// Last, the supervisor opens the reports: the referral funnel per partner shows the loan
// disbursed with its amount and the stalled one, drawn as a chart (its canvas painted), and is
// exported as XLSX to a folder the test reads back. Screenshot: docs/screenshots/19-reports.png.

import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { Cli, click, Driver, reach, root, Server, shot, synced, unlock } from "./harness.mjs";

const work = mkdtempSync(path.join(tmpdir(), "madadkar-e2e-outcomes-"));
// Exports go here (the app's own default is the user's documents folder); tauri-driver passes
// the environment on to the app.
const exports = path.join(work, "exports");
process.env.MADADKAR_EXPORT_DIR = exports;
const server = new Server(path.join(work, "server"));
const drivers = [];

const BANK = "bank-melli-enghelab";
const OTHER_BANK = "bank-keshavarzi-azadi";
const AMOUNT = 150_000_000;

const people = {
  zahra: { name: "زهرا رضایی", role: "field" },
  maryam: { name: "مریم احمدی", role: "supervisor" },
};
const replica = {};
const family = {};

/** An ISO date `days` before today, by the machine's local date. */
function daysAgo(days) {
  const d = new Date();
  d.setDate(d.getDate() - days);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

before(async () => {
  server.admin("group", "add", "jihadi-1", "--name", "گروه جهادی شهید همت");
  server.admin("partner", "import", path.join(root, "scripts", "demo-partners.json"));
  const ids = {};
  for (const [key, p] of Object.entries(people)) {
    ids[key] = server.admin("worker", "add", p.name, "--group", "jihadi-1", "--role", p.role).id;
  }
  await server.start();
  for (const [key, p] of Object.entries(people)) {
    replica[key] = new Cli(path.join(work, key), `${key} e2e passphrase 1405`);
    replica[key].enrol(server, ids[key], p.name);
    // The first sync brings the partner directory.
    replica[key].run("sync");
  }
  const { zahra } = replica;
  family.id = zahra.run(
    "household",
    "add",
    "--first",
    "رضا",
    "--last",
    "نوروزی",
    "--national-id",
    "0499370899",
    "--district",
    "منطقه ۱۲",
    "--address",
    "خیابان مولوی، کوچه شهید رضایی، پلاک ۹",
  ).id;
  // Two assessments, so the need history has a trend; an older loan referral, stalled at "sent".
  zahra.run("visit", "add", family.id, "--date", daysAgo(90), "--need", "income=4", "--need", "housing=3");
  zahra.run("visit", "add", family.id, "--date", daysAgo(60), "--need", "income=3", "--need", "housing=3");
  family.stalled = zahra.run(
    "referral",
    "add",
    family.id,
    "--kind",
    "bank_loan",
    "--partner",
    OTHER_BANK,
    "--date",
    daysAgo(60),
  ).id;
  zahra.run("sync");
});

after(async () => {
  for (const d of drivers) d.stop();
  await server.stop();
});

/** Opens the app on `who`'s replica and unlocks it. */
async function open(who) {
  const driver = new Driver(replica[who].dir);
  drivers.push(driver);
  const app = await driver.open();
  await unlock(app, replica[who].passphrase);
  return app;
}

const testid = (id) => `[data-testid="${id}"]`;

test("a worker plans a step with a bank, ticks it on a visit and follows the loan to disbursed", {
  timeout: 300000,
}, async () => {
  const app = await open("zahra");
  const row = await app.$(`.row[data-id="${family.id}"]`);
  await click(row);
  await (await app.$("#household-page")).waitForDisplayed({ timeout: 15000 });
  const panel = await app.$(testid("plan-panel"));
  await panel.waitForDisplayed({ timeout: 15000 });

  // A goal, then a step the bank carries out, the bank chosen from the directory.
  await click(await app.$(testid("goal-add")));
  await (await reach(await app.$(testid("goal-domain")))).selectByAttribute("value", "income");
  await (await reach(await app.$(testid("goal-title")))).setValue("درآمد پایدار از کارگاه خیاطی");
  await click(await app.$(testid("goal-save")));
  const addStep = await app.$('[data-testid^="step-add-"]');
  await addStep.waitForDisplayed({ timeout: 15000 });
  await click(addStep);
  await (await reach(await app.$(testid("step-what")))).setValue("وام خوداشتغالی برای چرخ خیاطی");
  await (await reach(await app.$(testid("step-owner")))).selectByAttribute("value", "partner");
  assert.equal(await (await app.$(testid("step-partner-kind"))).getValue(), "bank");
  await (await reach(await app.$(testid("step-partner")))).selectByAttribute("value", BANK);
  await (await reach(await app.$(testid("step-target")))).setValue("۱۴۰۶/۰۳/۰۱");
  await click(await app.$(testid("step-save")));
  const stepRow = await app.$('tr[data-testid^="step-"]');
  await stepRow.waitForDisplayed({ timeout: 15000 });
  const stepId = (await stepRow.getAttribute("data-testid")).slice("step-".length);
  assert.equal(await stepRow.getAttribute("data-status"), "planned");
  assert.match(await stepRow.getText(), /بانک ملی — شعبهٔ میدان انقلاب/);
  assert.match(await stepRow.getText(), /۱۴۰۶\/۰۳\/۰۱/);
  const box = await app.$(testid("graduation-box"));
  assert.equal(await box.getAttribute("data-state"), "unmet");

  // A visit: the step ticked done with a comment, and a loan referral to the same bank.
  await click(await app.$("#new-visit"));
  await (await reach(await app.$("#visit-observations"))).setValue("چرخ خیاطی خریده شد؛ سفارش‌ها شروع شده است.");
  await (await reach(await app.$('select[data-need="income"]'))).selectByAttribute("value", "1");
  await (await reach(await app.$('select[data-need="housing"]'))).selectByAttribute("value", "1");
  const tick = await app.$(testid(`visit-step-${stepId}`));
  await (await reach(tick)).selectByAttribute("value", "done");
  await (await reach(await app.$(testid(`visit-step-comment-${stepId}`)))).setValue("وام پرداخت و چرخ خریده شد");
  await (await reach(await app.$("#referral-kind"))).selectByAttribute("value", "bank_loan");
  await (await reach(await app.$(testid("referral-partner")))).selectByAttribute("value", BANK);
  await click(await app.$("#save-visit"));
  await (await app.$("#household-page")).waitForDisplayed({ timeout: 15000 });
  const doneRow = await app.$(testid(`step-${stepId}`));
  await app.waitUntil(async () => (await doneRow.getAttribute("data-status")) === "done", {
    timeout: 15000,
    timeoutMsg: "the visit did not tick the step done",
  });
  assert.equal(await (await app.$(testid("need-trend"))).getAttribute("data-trend"), "improving");
  await (await app.$(testid("need-chart"))).waitForDisplayed({ timeout: 10000 });
  await (await reach(await app.$(testid("plan-panel")))).scrollIntoView({ block: "start" });
  await shot(app, "17-plan");

  // The ledger: the new referral moves to approved, then to disbursed with its amount.
  const ledger = await app.$(testid("ledger"));
  await reach(ledger);
  const stalled = await app.$(testid(`referral-${family.stalled}`));
  assert.equal(await stalled.getAttribute("data-stalled"), "true");
  assert.match(await (await stalled.$(testid("referral-over"))).getText(), /روز بیش از مهلت/);
  let fresh;
  await app.waitUntil(
    async () => {
      for (const entry of await ledger.$$('[data-testid^="referral-"][data-status]')) {
        if ((await entry.getAttribute("data-testid")) !== `referral-${family.stalled}`) fresh = entry;
      }
      return fresh !== undefined;
    },
    { timeout: 15000, timeoutMsg: "the visit's referral is not in the ledger" },
  );
  const referralId = (await fresh.getAttribute("data-testid")).slice("referral-".length);
  const entry = () => app.$(testid(`referral-${referralId}`));
  assert.equal(await (await entry()).getAttribute("data-status"), "sent");
  await (await reach(await (await entry()).$(testid("referral-next-state")))).selectByAttribute("value", "approved");
  await click(await (await entry()).$(testid("referral-step-save")));
  await app.waitUntil(async () => (await (await entry()).getAttribute("data-status")) === "approved", {
    timeout: 15000,
    timeoutMsg: "the referral did not move to approved",
  });
  const next = await (await entry()).$(testid("referral-next-state"));
  const offered = await app.execute((select) => [...select.options].map((o) => o.value).filter(Boolean), next);
  assert.deepEqual(offered, ["disbursed", "refused", "withdrawn"], "only the ledger's next states");
  await (await reach(next)).selectByAttribute("value", "disbursed");
  await (await reach(await (await entry()).$(testid("referral-amount")))).setValue("۱۵۰٬۰۰۰٬۰۰۰");
  await click(await (await entry()).$(testid("referral-step-save")));
  await app.waitUntil(async () => (await (await entry()).getAttribute("data-status")) === "disbursed", {
    timeout: 15000,
    timeoutMsg: "the referral did not move to disbursed",
  });
  assert.match(await (await entry()).getText(), /۱۵۰٬۰۰۰٬۰۰۰ ریال/);
  await (await entry()).scrollIntoView({ block: "center" });
  await shot(app, "18-ledger");

  // Everything reaches the server: the supervisor's replica reads the step and the loan paid.
  await synced(app);
  replica.maryam.run("sync");
  const seen = replica.maryam.run("household", "show", family.id);
  const step = seen.goals.flatMap((g) => g.steps).find((s) => s.id === stepId);
  assert.equal(step?.progress.at(-1)?.status, "done", JSON.stringify(step));
  assert.equal(step.partner, BANK);
  const loan = seen.referrals.find((r) => r.id === referralId);
  assert.deepEqual(
    loan.history.map((e) => e.status),
    ["sent", "approved", "disbursed"],
  );
  assert.equal(loan.partner, BANK);
  assert.equal(loan.history.at(-1).amount, AMOUNT);
  await app.deleteSession();
});

test("the supervisor confirms the graduation the plan proposes", { timeout: 240000 }, async () => {
  // A second assessment at or below the threshold: every goal met, low need on two visits.
  const { zahra, maryam } = replica;
  zahra.run("visit", "add", family.id, "--need", "income=1", "--need", "housing=0");
  zahra.run("sync");
  maryam.run("sync");
  const app = await open("maryam");
  await click(await app.$(`.row[data-id="${family.id}"]`));
  const box = await app.$(testid("graduation-box"));
  await box.waitForDisplayed({ timeout: 15000 });
  await app.waitUntil(async () => (await box.getAttribute("data-state")) === "proposed", {
    timeout: 15000,
    timeoutMsg: "the graduation was not proposed",
  });
  // A reason is asked for before anything is sent.
  await click(await app.$(testid("graduate-confirm")));
  await (await box.$('[role="alert"]')).waitForDisplayed({ timeout: 10000 });
  await (await reach(await app.$(testid("graduate-reason")))).setValue("دو بازدید پیاپی با نیاز کم؛ کارگاه درآمد دارد");
  await click(await app.$(testid("graduate-confirm")));
  await (await app.$(testid("graduated-badge"))).waitForDisplayed({ timeout: 15000 });
  assert.equal(await (await app.$(testid("graduation-box"))).getAttribute("data-state"), "graduated");
  assert.ok(await (await app.$(testid("reenter-confirm"))).isExisting(), "a supervisor may bring it back");
  await synced(app);
  zahra.run("sync");
  assert.equal(zahra.run("household", "show", family.id).status, "graduated");
  await app.deleteSession();
});

test("the supervisor's reports: the referral funnel with its chart, exported as XLSX", {
  timeout: 240000,
}, async () => {
  const app = await open("maryam");
  await click(await app.$("#nav-reports"));
  await (await app.$(testid("reports-screen"))).waitForDisplayed({ timeout: 15000 });
  await click(await app.$(testid("report-item-referral-funnel")));
  await click(await app.$(testid("report-run")));
  const table = await app.$(testid("report-table"));
  await table.waitForDisplayed({ timeout: 20000 });
  assert.equal(await table.getAttribute("data-report"), "referral-funnel");
  const text = await table.getText();
  assert.match(text, /بانک ملی — شعبهٔ میدان انقلاب/);
  assert.match(text, /۱۵۰٬۰۰۰٬۰۰۰/, "the disbursed amount, in Persian digits");
  assert.match(text, /بانک کشاورزی — شعبهٔ آزادی/, "the stalled referral's partner");
  // The chart is drawn: its canvas holds painted pixels, not a blank box.
  const chart = await app.$(`${testid("report-chart")} canvas`);
  await chart.waitForDisplayed({ timeout: 10000 });
  const painted = await app.execute((canvas) => {
    const context = canvas.getContext("2d");
    if (!context || canvas.width === 0 || canvas.height === 0) return 0;
    const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
    let count = 0;
    for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) count++;
    return count;
  }, chart);
  assert.ok(painted > 1000, `the chart's canvas is blank (${painted} painted pixels)`);
  await shot(app, "19-reports");

  await click(await app.$(testid("export-xlsx")));
  const shown = await app.$(testid("export-path"));
  await shown.waitForDisplayed({ timeout: 20000 });
  const file = (await shown.getText()).trim();
  assert.ok(file.startsWith(exports) && file.endsWith(".xlsx"), file);
  assert.ok(existsSync(file), `${file} was not written`);
  assert.equal(readFileSync(file).subarray(0, 2).toString(), "PK", "an XLSX (zip) file");
  await app.deleteSession();
});
