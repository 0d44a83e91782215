// End to end: the real desktop app (Tauri, under Xvfb) driven through tauri-driver and
// WebKitWebDriver, against a real madadkar-server on loopback. A field worker chooses the
// passphrase the app's store is encrypted with, enrols, registers a household and records a
// visit while the server is down, finds the household again with an Arabic-keyboard spelling,
// watches the work sync when the server is back, and finds it all after restarting the app and
// unlocking it (a wrong passphrase first). A half-typed visit survives a restart inside the
// encrypted store, not in the WebView's storage, and none of it is in the data directory's
// files in the clear. Screenshots of each screen go to docs/screenshots/.

import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { clear, click, Driver, reach, Server, shot, unlock as unlockWith } from "./harness.mjs";

const work = mkdtempSync(path.join(tmpdir(), "madadkar-e2e-"));
const appDir = path.join(work, "app");
const server = new Server(path.join(work, "server"));
const driver = new Driver(appDir);

const PASSPHRASE = "کلید یاس ۱۴۰۴ برای آزمون";

/** Waits for the lock screen and unlocks it with `passphrase`. */
function unlock(app, passphrase = PASSPHRASE) {
  return unlockWith(app, passphrase);
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

before(async () => {
  server.admin("group", "add", "jihadi-1", "--name", "گروه جهادی شهید همت");
  const worker = server.admin("worker", "add", "زهرا رضایی", "--group", "jihadi-1", "--role", "field");
  process.env.E2E_CODE = server.admin("enroll-code", worker.id).code;
  await server.start();
  await driver.start();
});

after(async () => {
  await server.stop();
  driver.stop();
});

test("a field worker records a visit offline, finds it, and sees it sync", { timeout: 240000 }, async () => {
  let app = await driver.open();
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
  await (await reach(await app.$("#server-url"))).setValue(server.url);
  await (await reach(await app.$("#enroll-code"))).setValue(process.env.E2E_CODE);
  await shot(app, "01-first-run");
  await click(await app.$("#start-enrol"));
  await (await app.$("#search")).waitForDisplayed({ timeout: 20000 });

  // The network goes away: everything below is recorded offline.
  await server.stop();

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
  // A referral to somewhere not in the partner directory (which this server has none of): the
  // only kind that may name its target in free text.
  await (await reach(await app.$("#referral-kind"))).selectByAttribute("value", "other");
  await (await reach(await app.$("#referral-target"))).setValue("انجمن خیریهٔ محله");
  await shot(app, "03-visit-form");
  await click(await app.$("#save-visit"));
  await (await app.$("#visits li")).waitForDisplayed({ timeout: 10000 });
  assert.equal((await app.$$("#visits li")).length, 1);
  assert.match(await (await app.$("#referrals")).getText(), /سایر → انجمن خیریهٔ محله/);
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
  await server.start();
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
  app = await driver.open();
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
  app = await driver.open();
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
