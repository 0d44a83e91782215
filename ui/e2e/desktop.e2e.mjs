// End to end: the real desktop app (Tauri, under Xvfb) driven through tauri-driver and
// WebKitWebDriver, against a real madadkar-server on loopback. A field worker chooses the
// passphrase the app's store is encrypted with, enrols, registers a household and records a
// visit while the server is down, finds the household again with an Arabic-keyboard spelling,
// watches the work sync when the server is back, and finds it all after restarting the app and
// unlocking it (a wrong passphrase first). A half-typed visit survives a restart inside the
// encrypted store, not in the WebView's storage, and none of it is in the data directory's
// files in the clear. Screenshots of each screen go to docs/screenshots/.

import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
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
      socket.on("connect", () => {
        socket.end();
        resolve();
      });
      socket.on("error", () => {
        if (Date.now() > deadline) reject(new Error(`port ${port} never opened`));
        else setTimeout(attempt, 200);
      });
    };
    attempt();
  });
}

function admin(...args) {
  return JSON.parse(
    execFileSync(bin("madadkar-server"), ["--data-dir", serverDir, "--json", ...args], { encoding: "utf8" }),
  );
}

let serverPort;
let server;
function startServer() {
  server = spawn(bin("madadkar-server"), ["--data-dir", serverDir, "serve", "--listen", `127.0.0.1:${serverPort}`], {
    stdio: "ignore",
  });
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

/** Starts tauri-driver (and through it WebKitWebDriver) in a process group of its own. */
async function startDriver() {
  driverPort = await freePort();
  const nativePort = await freePort();
  driver = spawn("tauri-driver", ["--port", String(driverPort), "--native-port", String(nativePort)], {
    env: { ...process.env, MADADKAR_DATA_DIR: appDir },
    stdio: "ignore",
    detached: true,
  });
  await waitForPort(driverPort);
}

function stopDriver() {
  if (!driver) return;
  try {
    process.kill(-driver.pid, "SIGKILL");
  } catch {
    // already gone
  }
  driver = undefined;
}

/** Opens the app; on a loaded machine the first session can time out, so try again with a
 * fresh driver before giving up. */
async function openApp() {
  let lastError;
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      return await remote({
        hostname: "127.0.0.1",
        port: driverPort,
        logLevel: "error",
        connectionRetryTimeout: 90000,
        connectionRetryCount: 0,
        capabilities: { "tauri:options": { application: bin("madadkar-desktop") } },
      });
    } catch (e) {
      lastError = e;
      stopDriver();
      await startDriver();
    }
  }
  throw lastError;
}

/** Clicks an element once it can be clicked, scrolled into the middle of its scrolling box
 * first (the app scrolls inside a panel, which WebDriver's own scrolling does not always reach). */
async function click(element) {
  await element.waitForDisplayed({ timeout: 15000 });
  await element.scrollIntoView({ block: "center" });
  await element.waitForClickable({ timeout: 15000 });
  await element.click();
}

/** Brings an element into view in its scrolling box, ready for typing or choosing. */
async function reach(element) {
  await element.waitForDisplayed({ timeout: 15000 });
  await element.scrollIntoView({ block: "center" });
  return element;
}

/** Empties a field so that the app sees it happen: WebDriver's clearValue fires no input event,
 * and the app's next render would put the old text back. */
async function clear(browser, element) {
  await reach(element);
  await browser.execute((el) => {
    el.value = "";
    el.dispatchEvent(new Event("input", { bubbles: true }));
  }, element);
}

const PASSPHRASE = "کلید یاس ۱۴۰۴ برای آزمون";

/** Waits for the lock screen in `state` and unlocks it with `passphrase`. */
async function unlock(app, passphrase = PASSPHRASE) {
  const lock = await app.$("#lock-screen");
  await lock.waitForDisplayed({ timeout: 30000 });
  assert.equal(await lock.getAttribute("data-state"), "locked");
  await (await reach(await app.$("#passphrase"))).setValue(passphrase);
  await click(await app.$("#unlock"));
}

/** Which of `secrets` a file of the app's data directory holds in the clear. */
function leaks(secrets) {
  const found = [];
  for (const name of readdirSync(appDir)) {
    const bytes = readFileSync(path.join(appDir, name));
    for (const secret of secrets) {
      if (bytes.includes(Buffer.from(secret, "utf8"))) found.push(`${name} holds ${secret}`);
    }
  }
  return found;
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
  await startDriver();
});

after(() => {
  for (const child of children) child.kill("SIGKILL");
  stopDriver();
});

test("a field worker records a visit offline, finds it, and sees it sync", { timeout: 240000 }, async () => {
  let app = await openApp();
  // First run: the app opens locked and asks for a new passphrase, twice.
  const lock = await app.$("#lock-screen");
  await lock.waitForDisplayed({ timeout: 30000 });
  assert.equal(await lock.getAttribute("data-state"), "first_run");
  await (await reach(await app.$("#passphrase"))).setValue(PASSPHRASE);
  await (await reach(await app.$("#passphrase-confirm"))).setValue(`${PASSPHRASE}!`);
  await click(await app.$("#choose-passphrase"));
  const mismatch = await app.$("#lock-screen .form-error");
  await mismatch.waitForDisplayed({ timeout: 10000 });
  assert.equal(await mismatch.getText(), "دو گذرواژه یکسان نیست.");
  await clear(app, await app.$("#passphrase-confirm"));
  await (await reach(await app.$("#passphrase-confirm"))).setValue(PASSPHRASE);
  await shot(app, "00-lock-screen");
  await click(await app.$("#choose-passphrase"));
  // Then name the worker and device, enrol with the one-time code.
  await (await reach(await app.$("#worker-name"))).setValue("زهرا رضایی");
  await (await reach(await app.$("#device-name"))).setValue("لپ‌تاپ ۷");
  await (await reach(await app.$("#server-url"))).setValue(`http://127.0.0.1:${serverPort}`);
  await (await reach(await app.$("#enroll-code"))).setValue(process.env.E2E_CODE);
  await shot(app, "01-first-run");
  await click(await app.$("#start-enrol"));
  await (await app.$("#search")).waitForDisplayed({ timeout: 20000 });

  // The network goes away: everything below is recorded offline.
  await stopServer();

  await click(await app.$("#new-household"));
  const fields = {
    first_name: "علی",
    last_name: "کریمی",
    national_id: "۰۴۹۹۳۷۰۸۹۹",
    birth_date: "۱۳۵۵/۰۴/۱۰",
    district: "منطقه ۳",
    address: "کوچه یاس، پلاک ۴",
    phone: "۰۹۱۲۱۲۳۴۵۶۷",
  };
  // A wrong national ID is refused next to its field, and nothing is saved.
  await (await reach(await app.$("#household-national_id"))).setValue("0499370898");
  await click(await app.$("#save-household"));
  const nidError = await app.$('.field-error[data-field="national_id"]');
  await nidError.waitForDisplayed({ timeout: 10000 });
  assert.match(await nidError.getText(), /رقم کنترل کد ملی/, "the message is in Persian");
  for (const [name, value] of Object.entries(fields)) {
    const input = await app.$(`#household-${name}`);
    await clear(app, input);
    await input.setValue(value);
  }
  await shot(app, "02-new-household");
  await click(await app.$("#save-household"));
  const page = await app.$("#household-page");
  await page.waitForDisplayed({ timeout: 10000 });
  const householdId = await page.getAttribute("data-id");
  assert.equal(await (await app.$("#household-head")).getText(), "علی کریمی");

  // A member, refused first for a mistyped national ID, then saved.
  await click(await app.$("#add-member"));
  await (await reach(await app.$("#member-first_name"))).setValue("مریم");
  await (await reach(await app.$("#member-last_name"))).setValue("کریمی");
  await (await reach(await app.$("#member-national_id"))).setValue("0010000004");
  await (await reach(await app.$("#member-relation"))).selectByAttribute("value", "spouse");
  await click(await app.$("#save-member"));
  const memberError = await app.$('#member-form .field-error[data-field="national_id"]');
  await memberError.waitForDisplayed({ timeout: 10000 });
  await clear(app, await app.$("#member-national_id"));
  await (await reach(await app.$("#member-national_id"))).setValue("۰۰۱۰۰۰۰۰۱۱");
  await click(await app.$("#save-member"));
  await app
    .waitUntil(async () => (await app.$$("#members tr")).length === 2, {
      timeout: 10000,
      timeoutMsg: "the member was not added",
    })
    .catch(async (e) => {
      await app.saveScreenshot(path.join(work, "member-failure.png"));
      throw new Error(`${e.message}; screenshot in ${work}/member-failure.png`);
    });

  // Correct the new member's first name.
  const spouseRow = (await app.$$("#members tr[data-member]"))[1];
  await click(await spouseRow.$(".edit-member"));
  const firstName = await app.$("#member-form #member-first_name");
  await clear(app, firstName);
  await firstName.setValue("مریم‌السادات");
  await click(await app.$("#save-member"));
  await app.waitUntil(async () => (await (await app.$("#members")).getText()).includes("مریم‌السادات کریمی"), {
    timeout: 10000,
    timeoutMsg: "the edit did not show",
  });

  await click(await app.$("#new-visit"));
  const date = await app.$("#visit-date");
  await clear(app, date);
  await date.setValue("۱۴۰۴/۰۸/۱۵");
  await (await reach(await app.$("#visit-observations"))).setValue("اجاره سه ماه عقب افتاده؛ سرپرست بیکار است.");
  await (await reach(await app.$('select[data-need="income"]'))).selectByAttribute("value", "4");
  await (await reach(await app.$('select[data-need="housing"]'))).selectByAttribute("value", "3");
  // The follow-up date from the Jalali calendar: the 20th of the visit's month.
  await click(await app.$("#visit-followup-picker"));
  const month = await app.$(".calendar-head span");
  await app.waitUntil(async () => (await month.getText()) === "۱۴۰۴/۰۸", {
    timeout: 5000,
    timeoutMsg: "the calendar did not open on the visit's month",
  });
  await click(await app.$('.calendar .day[data-day="20"]'));
  assert.equal(await (await app.$("#visit-followup")).getValue(), "۱۴۰۴/۰۸/۲۰");
  await (await reach(await app.$("#referral-kind"))).selectByAttribute("value", "bank_loan");
  await (await reach(await app.$("#referral-target"))).setValue("بانک ملی، شعبه مرکزی");
  await shot(app, "03-visit-form");
  await click(await app.$("#save-visit"));
  await (await app.$("#visits li")).waitForDisplayed({ timeout: 10000 });
  assert.equal((await app.$$("#visits li")).length, 1);
  assert.match(await (await app.$("#referrals")).getText(), /وام بانکی → بانک ملی، شعبه مرکزی/);
  await shot(app, "04-household");

  // Offline with work waiting: the status bar says so.
  const status = await app.$("#sync-status");
  await app.waitUntil(async () => Number(await status.getAttribute("data-pending")) > 0, { timeout: 15000 });
  await click(await app.$("#sync-now"));
  await app.waitUntil(
    async () =>
      (await status.getAttribute("data-state")) === "offline" && Number(await status.getAttribute("data-pending")) >= 2,
    { timeout: 20000, timeoutMsg: "the status bar never showed offline with the household and visit pending" },
  );

  // Find it again typed on an Arabic keyboard (ي and ك).
  await click(await app.$("button.secondary"));
  const search = await app.$("#search");
  await search.waitForDisplayed();
  await search.setValue("علي كريمي");
  const row = await app.$(`.row[data-id="${householdId}"]`);
  await row.waitForDisplayed({ timeout: 10000 });
  await shot(app, "05-caseload-search");

  // The server is back: the work syncs and the queue empties.
  await startServer();
  await click(await app.$("#sync-now"));
  await app.waitUntil(
    async () =>
      (await status.getAttribute("data-state")) === "synced" && (await status.getAttribute("data-pending")) === "0",
    { timeout: 60000, timeoutMsg: "never synced" },
  );
  await shot(app, "06-synced");
  await app.deleteSession();

  // Restart the app: it opens locked; a wrong passphrase is refused in Persian, the right one
  // opens everything as it was.
  app = await openApp();
  await unlock(app, "not the passphrase");
  const wrong = await app.$("#lock-screen .form-error");
  await wrong.waitForDisplayed({ timeout: 15000 });
  assert.match(await wrong.getText(), /گذرواژه درست نیست/);
  assert.equal(await (await app.$("#search")).isExisting(), false, "nothing opened");
  await unlock(app);
  const again = await app.$("#search");
  await again.waitForDisplayed({ timeout: 20000 });
  await again.setValue("کریمی");
  await (await app.$(`.row[data-id="${householdId}"]`)).waitForDisplayed({ timeout: 10000 });
  await click(await app.$(`.row[data-id="${householdId}"]`));
  await (await app.$("#visits li")).waitForDisplayed({ timeout: 10000 });
  assert.equal((await app.$$("#visits li")).length, 1);

  // A visit half typed when the app closes is still there when it opens again.
  await click(await app.$("#new-visit"));
  const draft = "پیش‌نویس: همسایه‌ها می‌گویند سرپرست مریض است";
  await (await reach(await app.$("#visit-observations"))).setValue(draft);
  await app.pause(300);
  // The draft is in the app's store, not in the WebView's storage.
  const webStorage = await app.execute(() => JSON.stringify({ ...localStorage, ...sessionStorage }));
  assert.ok(!webStorage.includes("همسایه"), `no draft in the WebView's storage: ${webStorage}`);
  await app.deleteSession();
  // Nothing typed is in the data directory's files in the clear.
  assert.deepEqual(leaks(["همسایه‌ها", "کریمی", "0499370899", "اجاره سه ماه"]), []);
  app = await openApp();
  await unlock(app);
  const list = await app.$("#search");
  await list.waitForDisplayed({ timeout: 20000 });
  await list.setValue("کریمی");
  await (await app.$(`.row[data-id="${householdId}"]`)).waitForDisplayed({ timeout: 10000 });
  await click(await app.$(`.row[data-id="${householdId}"]`));
  await click(await app.$("#new-visit"));
  assert.equal(await (await app.$("#visit-observations")).getValue(), draft);

  // "Lock now" closes the store; unlocking opens it again.
  await click(await app.$("#lock-now"));
  await unlock(app);
  await (await app.$("#search")).waitForDisplayed({ timeout: 20000 });
  await app.deleteSession();
});
