// End to end: the supervisor's and the coordinator's screens of the real desktop app (Tauri,
// under Xvfb, through tauri-driver and WebKitWebDriver) against a real madadkar-server on
// loopback, with field workers' replicas driven by the `madadkar` CLI.
//
// Two groups register the same family (one typed on an Arabic keyboard, with another address
// and the phone written +98…); a field worker and the supervisor correct its address differently;
// two visits await review. The supervisor, in the app: sees the counts in the navigation, resolves
// the conflict in the inbox (an empty address refused in Persian first), returns one visit with
// a comment on its need and approves the other (the worker's CLI then lists the returned visit
// with the comment), previews and makes a reassignment through the server, and is warned when
// registering the family again (this replica's match and the server's "registered in group").
// The coordinator, in the app: finds the pair in the duplicates inbox, compares it side by side
// and merges it; the other group's worker then sees the redirect and which group handles the
// family. Screenshots of each screen go to docs/screenshots/ (10 to 16).

import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { Cli, click, Driver, reach, Server, shot, synced, unlock } from "./harness.mjs";

const work = mkdtempSync(path.join(tmpdir(), "madadkar-e2e-reconcile-"));
const server = new Server(path.join(work, "server"));
const drivers = [];

/** A national ID with its check digit (the last digit), from nine digits. */
function nationalId(nine) {
  const digits = String(nine).padStart(9, "0");
  const sum = [...digits].reduce((s, d, i) => s + Number(d) * (10 - i), 0);
  const r = sum % 11;
  return `${digits}${r < 2 ? r : 11 - r}`;
}
const HEAD = nationalId(427153981);
const SPOUSE = nationalId(427153992);
const OTHER_HEAD = nationalId(512640377);
const ADDRESS_SUPERVISOR = "کوچه یاس، پلاک ۴، طبقه دوم";
const ADDRESS_WORKER = "کوچه یاس، پلاک ۶";

const people = {
  zahra: { name: "زهرا رضایی", group: "jihadi-1", role: "field" },
  ali: { name: "علی محمدی", group: "jihadi-1", role: "field" },
  reza: { name: "رضا کاظمی", group: "omid-2", role: "field" },
  maryam: { name: "مریم احمدی", group: "jihadi-1", role: "supervisor" },
  ostan: { name: "دفتر استان", group: null, role: "coordinator" },
};
const replica = {};
const ids = {};
const family = {};

before(async () => {
  server.admin("group", "add", "jihadi-1", "--name", "گروه جهادی شهید همت");
  server.admin("group", "add", "omid-2", "--name", "مرکز نیکوکاری امید");
  for (const [key, p] of Object.entries(people)) {
    const group = p.group ? ["--group", p.group] : [];
    ids[key] = server.admin("worker", "add", p.name, ...group, "--role", p.role).id;
  }
  await server.start();
  for (const [key, p] of Object.entries(people)) {
    replica[key] = new Cli(path.join(work, key), `${key} e2e passphrase 1405`);
    replica[key].enrol(server, ids[key], p.name);
  }
  const { zahra, reza, maryam } = replica;
  // Group jihadi-1 registers the family, with two visits, and another family.
  family.a = zahra.run(
    "household",
    "add",
    "--first",
    "علی",
    "--last",
    "کریمی",
    "--national-id",
    HEAD,
    "--district",
    "منطقه ۳",
    "--address",
    "کوچه یاس، پلاک ۴",
    "--phone",
    "09121234567",
  ).id;
  zahra.run(
    "member",
    "add",
    family.a,
    "--first",
    "مریم",
    "--last",
    "کریمی",
    "--national-id",
    SPOUSE,
    "--relation",
    "spouse",
  );
  family.returned = zahra.run(
    "visit",
    "add",
    family.a,
    "--date",
    "1405-08-20",
    "--observations",
    "اجاره سه ماه عقب افتاده",
    "--need",
    "income=4",
  ).id;
  family.approved = zahra.run(
    "visit",
    "add",
    family.a,
    "--date",
    "1405-08-25",
    "--observations",
    "پیگیری",
    "--need",
    "food=2",
  ).id;
  family.c = zahra.run(
    "household",
    "add",
    "--first",
    "حسن",
    "--last",
    "رضایی",
    "--national-id",
    OTHER_HEAD,
    "--district",
    "منطقه ۵",
    "--address",
    "کوچه نرگس",
    "--phone",
    "09130001122",
  ).id;
  // Group omid-2 registers the same family on an Arabic keyboard, elsewhere, with +98.
  family.b = reza.run(
    "household",
    "add",
    "--first",
    "علي",
    "--last",
    "كريمي",
    "--national-id",
    HEAD,
    "--district",
    "منطقه ۳",
    "--address",
    "خیابان نرگس",
    "--phone",
    "+989121234567",
  ).id;
  reza.run(
    "member",
    "add",
    family.b,
    "--first",
    "مريم",
    "--last",
    "كريمي",
    "--national-id",
    SPOUSE,
    "--relation",
    "spouse",
  );
  zahra.run("sync");
  reza.run("sync");
  replica.ali.run("sync");
  // The supervisor and the worker correct the family's address differently, neither knowing.
  maryam.run("sync");
  maryam.run("household", "edit", family.a, "--address", ADDRESS_SUPERVISOR);
  zahra.run("household", "edit", family.a, "--address", ADDRESS_WORKER);
  zahra.run("sync");
  maryam.run("sync");
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
  return { app, driver };
}

async function count(app, nav) {
  const badge = await app.$(`#${nav} .count-badge`);
  if (!(await badge.isExisting())) return 0;
  return Number(await badge.getAttribute("data-count"));
}

test("a supervisor resolves a conflict, reviews visits, reassigns and is warned at registration", {
  timeout: 240000,
}, async () => {
  const { app, driver } = await open("maryam");
  await (await app.$("#nav-review")).waitForDisplayed({ timeout: 30000 });
  await app.waitUntil(async () => (await count(app, "nav-review")) >= 2 && (await count(app, "nav-conflicts")) >= 1, {
    timeout: 15000,
    timeoutMsg: "the navigation never counted the visits awaiting review and the conflict",
  });

  // The conflicts inbox: an empty address is refused in Persian, then the worker's value kept.
  await click(await app.$("#nav-conflicts"));
  const entry = await app.$(`.inbox-entry[data-household="${family.a}"][data-path="household.address"]`);
  await entry.waitForDisplayed({ timeout: 15000 });
  const values = await entry.$$(".value");
  assert.equal(values.length, 2);
  await click(await entry.$(".save-value"));
  const refused = await entry.$(".field-error");
  await refused.waitForDisplayed({ timeout: 10000 });
  assert.match(await refused.getText(), /[\u0600-\u06FF]/, "the refusal is said in Persian");
  await shot(app, "11-conflicts-inbox");
  await click(await entry.$(`.value[data-value="${ADDRESS_WORKER}"] .keep`));
  await (await app.$("#conflicts-inbox .empty")).waitForDisplayed({ timeout: 15000 });

  // The review queue: one visit returned with a comment on its need, the other approved.
  await click(await app.$("#nav-review"));
  const toReturn = await app.$(`.review-item[data-visit="${family.returned}"]`);
  const toApprove = await app.$(`.review-item[data-visit="${family.approved}"]`);
  await toReturn.waitForDisplayed({ timeout: 15000 });
  await toApprove.waitForDisplayed({ timeout: 15000 });
  // What the visit says, read when the reviewer opens it.
  await click(await toReturn.$("details.visit-content summary"));
  await (await toReturn.$(".observations")).waitForDisplayed({ timeout: 10000 });
  assert.equal(await (await toReturn.$(".observations")).getText(), "اجاره سه ماه عقب افتاده");
  const comment = "نیاز درآمد را با مدارک دوباره بسنجید";
  await (await reach(await toReturn.$(".review-comment"))).setValue(comment);
  await (await reach(await toReturn.$(".review-field"))).selectByAttribute("value", "need");
  await shot(app, "10-review-queue");
  await click(await toReturn.$(".return"));
  await toReturn.waitForExist({ reverse: true, timeout: 15000 });
  await click(await toApprove.$(".approve"));
  await toApprove.waitForExist({ reverse: true, timeout: 15000 });
  await (await app.$("#review-queue .empty")).waitForDisplayed({ timeout: 15000 });

  // Everything reaches the server; the worker's laptop then lists the returned visit as a task.
  await synced(app);
  replica.zahra.run("sync");
  const tasks = replica.zahra.run("review", "returned");
  assert.equal(tasks.length, 1, JSON.stringify(tasks));
  assert.equal(tasks[0].visit_id, family.returned);
  assert.equal(tasks[0].comment, comment);
  assert.equal(tasks[0].field, "need");
  const resolved = replica.zahra.run("household", "show", family.a);
  assert.equal(resolved.address, ADDRESS_WORKER);
  assert.deepEqual(resolved.conflicts, []);

  // Caseloads: the other family moves from Zahra to Ali, previewed first, through the server.
  await click(await app.$("#nav-caseloads"));
  const row = await app.$(`#caseload-table tr[data-worker="${ids.zahra}"]`);
  await row.waitForDisplayed({ timeout: 15000 });
  await click(await row.$(".choose-worker"));
  await click(await app.$(`.pick-household[data-id="${family.c}"]`));
  await (await reach(await app.$("#reassign-target"))).selectByAttribute("value", `jihadi-1/${ids.ali}`);
  await click(await app.$("#reassign-preview"));
  const preview = await app.$(`#reassign-preview-list li[data-id="${family.c}"]`);
  await preview.waitForDisplayed({ timeout: 15000 });
  assert.match(await preview.getText(), /زهرا رضایی ← علی محمدی/);
  await shot(app, "12-caseloads");
  await click(await app.$("#reassign-apply"));
  await (await app.$("#reassign-result")).waitForDisplayed({ timeout: 15000 });
  replica.ali.run("sync");
  assert.equal(replica.ali.run("household", "show", family.c).assigned_worker, ids.ali);

  // Registering the family again: this replica's match and the server's groups, then open it.
  await click(await app.$("#nav-caseload"));
  await click(await app.$("#new-household"));
  const typed = {
    first_name: "علی",
    last_name: "کریمی",
    national_id: HEAD,
    district: "منطقه ۳",
    address: "کوچه یاس",
  };
  for (const [name, value] of Object.entries(typed))
    await (await reach(await app.$(`#household-${name}`))).setValue(value);
  await click(await app.$("#save-household"));
  const warning = await app.$("#registration-warning");
  await warning.waitForDisplayed({ timeout: 15000 });
  await (await warning.$(`.match[data-id="${family.a}"]`)).waitForDisplayed({ timeout: 5000 });
  await (await warning.$('#server-matches li[data-group="omid-2"]')).waitForDisplayed({ timeout: 5000 });
  await shot(app, "16-registration-warning");
  await click(await warning.$(`.match[data-id="${family.a}"] .open-match`));
  const page = await app.$(`#household-page[data-id="${family.a}"]`);
  await page.waitForDisplayed({ timeout: 15000 });
  // Nothing was registered twice (the CLI reads the store beside the app).
  assert.equal(replica.maryam.run("household", "search", HEAD).length, 1);
  await app.deleteSession();
  driver.stop();
});

test("a coordinator merges a pair from the duplicates inbox; the other group sees the redirect", {
  timeout: 240000,
}, async () => {
  replica.ostan.run("sync");
  const { app, driver } = await open("ostan");
  await click(await app.$("#nav-duplicates"));
  const pair = await app.$(
    `.pair[data-a="${family.a}"][data-b="${family.b}"], .pair[data-a="${family.b}"][data-b="${family.a}"]`,
  );
  await pair.waitForDisplayed({ timeout: 30000 });
  assert.equal(await pair.getAttribute("data-band"), "likely");
  await (await pair.$('.reason[data-field="national_id"]')).waitForDisplayed({ timeout: 5000 });
  await shot(app, "13-duplicates");
  await click(await pair.$(".compare"));
  const sideA = await app.$("#compare-a");
  await sideA.waitForDisplayed({ timeout: 15000 });
  await (await app.$("#compare-b")).waitForDisplayed({ timeout: 15000 });
  await shot(app, "14-compare");
  // Jihadi-1's registration stays.
  const keep = (await sideA.getAttribute("data-id")) === family.a ? "a" : "b";
  await click(await app.$(`#survivor-${keep}`));
  await click(await app.$("#merge"));
  const page = await app.$(`#household-page[data-id="${family.a}"]`);
  await page.waitForDisplayed({ timeout: 15000 });
  await (await app.$(`#merged-from li[data-id="${family.b}"]`)).waitForDisplayed({ timeout: 15000 });
  await (await app.$(`#merged-from li[data-id="${family.b}"] .undo-merge`)).waitForDisplayed({ timeout: 5000 });
  await shot(app, "15-merged-household");
  await synced(app);
  await app.deleteSession();
  driver.stop();

  // Reza's group sees that its registration was merged, and which group handles the family now.
  replica.reza.run("sync");
  const seen = replica.reza.run("household", "show", family.b);
  assert.equal(seen.merged?.survivor, family.a);
  assert.equal(seen.merged?.survivor_group, "jihadi-1");
});
