// End to end: the real desktop app (Tauri, under Xvfb) driven through tauri-driver and
// WebKitWebDriver, against a real madadkar-server on loopback. A field worker enrols, registers
// a household and records a visit while the server is down, finds the household again with an
// Arabic-keyboard spelling, watches the work sync when the server is back, and finds it all
// after restarting the app. Screenshots of each screen go to docs/screenshots/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync } from "node:fs";
import { createServer, connect } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { remote } from "webdriverio";

const root = path.resolve(import.meta.dirname, "../..");
const target = process.env.CARGO_TARGET_DIR ?? path.join(root, "target");
const bin = (name) => path.join(target, "debug", name);
const shots = path.join(root, "docs", "screenshots");
const work = mkdtempSync(path.join(tmpdir(), "madadkar-e2e-"));
const serverDir = path.join(work, "server");
const appDir = path.join(work, "app");
const children = [];

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

function waitForPort(port, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const socket = connect(port, "127.0.0.1");
      socket.on("connect", () => { socket.end(); resolve(); });
      socket.on("error", () => {
        if (Date.now() > deadline) reject(new Error(`port ${port} never opened`));
        else setTimeout(attempt, 200);
      });
    };
    attempt();
  });
}

function admin(...args) {
  return JSON.parse(execFileSync(bin("madadkar-server"), ["--data-dir", serverDir, "--json", ...args], { encoding: "utf8" }));
}

let serverPort;
let server;
function startServer() {
  server = spawn(bin("madadkar-server"), ["--data-dir", serverDir, "serve", "--listen", `127.0.0.1:${serverPort}`], { stdio: "ignore" });
  children.push(server);
  return waitForPort(serverPort);
}

function stopServer() {
  return new Promise((resolve) => {
    server.once("exit", resolve);
    server.kill("SIGKILL");
  });
}

let driver;
let driverPort;
async function openApp() {
  return remote({
    hostname: "127.0.0.1",
    port: driverPort,
    logLevel: "error",
    capabilities: { "tauri:options": { application: bin("madadkar-desktop") } },
  });
}

async function shot(browser, name) {
  await browser.pause(400);
  await browser.saveScreenshot(path.join(shots, `${name}.png`));
}

before(async () => {
  mkdirSync(shots, { recursive: true });
  serverPort = await freePort();
  admin("group", "add", "jihadi-1", "--name", "گروه جهادی شهید همت");
  const worker = admin("worker", "add", "زهرا رضایی", "--group", "jihadi-1", "--role", "field");
  process.env.E2E_CODE = admin("enroll-code", worker.id).code;
  await startServer();
  driverPort = await freePort();
  const nativePort = await freePort();
  // Its own process group, so WebKitWebDriver and the app go down with it.
  driver = spawn("tauri-driver", ["--port", String(driverPort), "--native-port", String(nativePort)], {
    env: { ...process.env, MADADKAR_DATA_DIR: appDir },
    stdio: "ignore",
    detached: true,
  });
  await waitForPort(driverPort);
});

after(() => {
  for (const child of children) child.kill("SIGKILL");
  if (driver) {
    try {
      process.kill(-driver.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
});

test("a field worker records a visit offline, finds it, and sees it sync", { timeout: 240000 }, async () => {
  let app = await openApp();
  // First run: name the worker and device, enrol with the one-time code.
  await (await app.$("#worker-name")).setValue("زهرا رضایی");
  await (await app.$("#device-name")).setValue("لپ‌تاپ ۷");
  await (await app.$("#server-url")).setValue(`http://127.0.0.1:${serverPort}`);
  await (await app.$("#enroll-code")).setValue(process.env.E2E_CODE);
  await shot(app, "01-first-run");
  await (await app.$("#start-enrol")).click();
  await (await app.$("#search")).waitForDisplayed({ timeout: 20000 });

  // The network goes away: everything below is recorded offline.
  await stopServer();

  await (await app.$("#new-household")).click();
  const fields = { first_name: "علی", last_name: "کریمی", national_id: "۰۴۹۹۳۷۰۸۹۹", birth_date: "۱۳۵۵/۰۴/۱۰", district: "منطقه ۳", address: "کوچه یاس، پلاک ۴", phone: "۰۹۱۲۱۲۳۴۵۶۷" };
  // A wrong national ID is refused next to its field, and nothing is saved.
  await (await app.$("#household-national_id")).setValue("0499370898");
  await (await app.$("#save-household")).click();
  const nidError = await app.$('.field-error[data-field="national ID"]');
  await nidError.waitForDisplayed({ timeout: 10000 });
  assert.match(await nidError.getText(), /رقم کنترل کد ملی/, "the message is in Persian");
  for (const [name, value] of Object.entries(fields)) {
    const input = await app.$(`#household-${name}`);
    await input.clearValue();
    await input.setValue(value);
  }
  await shot(app, "02-new-household");
  await (await app.$("#save-household")).click();
  const page = await app.$("#household-page");
  await page.waitForDisplayed({ timeout: 10000 });
  const householdId = await page.getAttribute("data-id");
  assert.equal(await (await app.$("#household-head")).getText(), "علی کریمی");

  // A member, refused first for a mistyped national ID, then saved.
  await (await app.$("#add-member")).click();
  await (await app.$("#member-first_name")).setValue("مریم");
  await (await app.$("#member-last_name")).setValue("کریمی");
  await (await app.$("#member-national_id")).setValue("0010000004");
  await (await app.$("#member-relation")).selectByAttribute("value", "spouse");
  await (await app.$("#save-member")).click();
  const memberError = await app.$('#member-form .field-error[data-field="national ID"]');
  await memberError.waitForDisplayed({ timeout: 10000 });
  await (await app.$("#member-national_id")).clearValue();
  await (await app.$("#member-national_id")).setValue("۰۰۱۰۰۰۰۰۰۳");
  await (await app.$("#save-member")).click();
  await app.waitUntil(async () => (await app.$$("#members tr")).length === 2, { timeout: 10000, timeoutMsg: "the member was not added" });

  // Correct the new member's first name.
  const spouseRow = (await app.$$("#members tr[data-member]"))[1];
  await (await spouseRow.$(".edit-member")).click();
  const firstName = await app.$("#member-form #member-first_name");
  await firstName.clearValue();
  await firstName.setValue("مریم‌السادات");
  await (await app.$("#save-member")).click();
  await app.waitUntil(async () => (await (await app.$("#members")).getText()).includes("مریم‌السادات کریمی"), { timeout: 10000, timeoutMsg: "the edit did not show" });

  await (await app.$("#new-visit")).click();
  const date = await app.$("#visit-date");
  await date.clearValue();
  await date.setValue("۱۴۰۴/۰۸/۱۵");
  await (await app.$("#visit-observations")).setValue("اجاره سه ماه عقب افتاده؛ سرپرست بیکار است.");
  await (await app.$('select[data-need="income"]')).selectByAttribute("value", "4");
  await (await app.$('select[data-need="housing"]')).selectByAttribute("value", "3");
  // The follow-up date from the Jalali calendar: the 20th of the visit's month.
  await (await app.$("#visit-followup-picker")).click();
  const month = await app.$(".calendar-head span");
  await app.waitUntil(async () => (await month.getText()) === "۱۴۰۴/۰۸", { timeout: 5000, timeoutMsg: "the calendar did not open on the visit's month" });
  await (await app.$('.calendar .day[data-day="20"]')).click();
  assert.equal(await (await app.$("#visit-followup")).getValue(), "۱۴۰۴/۰۸/۲۰");
  await (await app.$("#referral-kind")).selectByAttribute("value", "bank_loan");
  await (await app.$("#referral-target")).setValue("بانک ملی، شعبه مرکزی");
  await shot(app, "03-visit-form");
  await (await app.$("#save-visit")).click();
  await (await app.$("#visits li")).waitForDisplayed({ timeout: 10000 });
  assert.equal((await app.$$("#visits li")).length, 1);
  assert.match(await (await app.$("#referrals")).getText(), /وام بانکی → بانک ملی، شعبه مرکزی/);
  await shot(app, "04-household");

  // Offline with work waiting: the status bar says so.
  const status = await app.$("#sync-status");
  await app.waitUntil(async () => Number(await status.getAttribute("data-pending")) > 0, { timeout: 15000 });
  await (await app.$("#sync-now")).click();
  await app.waitUntil(
    async () => (await status.getAttribute("data-state")) === "offline" && Number(await status.getAttribute("data-pending")) >= 2,
    { timeout: 20000, timeoutMsg: "the status bar never showed offline with the household and visit pending" },
  );

  // Find it again typed on an Arabic keyboard (ي and ك).
  await (await app.$("button.secondary")).click();
  const search = await app.$("#search");
  await search.waitForDisplayed();
  await search.setValue("علي كريمي");
  const row = await app.$(`.row[data-id="${householdId}"]`);
  await row.waitForDisplayed({ timeout: 10000 });
  await shot(app, "05-caseload-search");

  // The server is back: the work syncs and the queue empties.
  await startServer();
  await (await app.$("#sync-now")).click();
  await app.waitUntil(async () => (await status.getAttribute("data-state")) === "synced" && (await status.getAttribute("data-pending")) === "0", { timeout: 60000, timeoutMsg: "never synced" });
  await shot(app, "06-synced");
  await app.deleteSession();

  // Restart the app: everything is still there.
  app = await openApp();
  const again = await app.$("#search");
  await again.waitForDisplayed({ timeout: 20000 });
  await again.setValue("کریمی");
  await (await app.$(`.row[data-id="${householdId}"]`)).waitForDisplayed({ timeout: 10000 });
  await (await app.$(`.row[data-id="${householdId}"]`)).click();
  await (await app.$("#visits li")).waitForDisplayed({ timeout: 10000 });
  assert.equal((await app.$$("#visits li")).length, 1);

  // A visit half typed when the app closes is still there when it opens again.
  await (await app.$("#new-visit")).click();
  await (await app.$("#visit-observations")).setValue("پیش‌نویس: همسایه‌ها می‌گویند سرپرست مریض است");
  await app.pause(300);
  await app.deleteSession();
  app = await openApp();
  const list = await app.$("#search");
  await list.waitForDisplayed({ timeout: 20000 });
  await list.setValue("کریمی");
  await (await app.$(`.row[data-id="${householdId}"]`)).waitForDisplayed({ timeout: 10000 });
  await (await app.$(`.row[data-id="${householdId}"]`)).click();
  await (await app.$("#new-visit")).click();
  assert.equal(await (await app.$("#visit-observations")).getValue(), "پیش‌نویس: همسایه‌ها می‌گویند سرپرست مریض است");
  await app.deleteSession();
});
