// Madadkar's household documents as a third-party Automerge client sees them: the JavaScript
// package reads the document Madadkar writes (schema/tests/fixtures/madadkar-household.automerge)
// and writes one that Madadkar's Rust test reads (js-household.automerge). Run with
// WRITE_FIXTURE=1 to write the latter again. The layout is in docs/document-format.md.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import * as A from "@automerge/automerge";

const fixtures = new URL("../../schema/tests/fixtures/", import.meta.url);

test("a Madadkar household reads in JavaScript with plain numbers and sensible times", () => {
  const doc = A.load(readFileSync(new URL("madadkar-household.automerge", fixtures)));
  assert.equal(typeof doc.schema_version, "number", "not a BigInt");
  const json = JSON.parse(JSON.stringify(doc));
  assert.equal(json.kind, "household");
  assert.equal(json.household.district, "منطقه ۳");
  const [visit] = Object.values(json.visits);
  assert.equal(visit.needs.income, 4);
  for (const { change } of A.getHistory(doc)) {
    const year = new Date(change.time * 1000).getUTCFullYear();
    assert.equal(year, 2026, `change time ${change.time} is Unix seconds`);
    assert.equal(JSON.parse(change.message).device_id, "device-1");
  }
});

/** A household written with plain JavaScript assignments, as another client would. */
function javascriptHousehold() {
  const id = "019ab000-0000-7000-8000-0000000000aa";
  const head = "019ab000-0000-7000-8000-0000000000ab";
  const visit = "019ab000-0000-7000-8000-0000000000ac";
  let doc = A.init({ actor: "0123456789abcdef0123456789abcdef" });
  doc = A.change(doc, { time: 1795248000 }, (d) => {
    d.schema_version = 1;
    d.kind = "household";
    d.id = id;
    d.household = {
      district: "منطقه ۵",
      address: "خیابان لاله",
      phone: "09351234567",
      status: "active",
      head_member_id: head,
      created_at: "2026-11-21T08:00:00Z",
      created_by: "js-client",
    };
    d.members = { [head]: { first_name: "رضا", last_name: "احمدی", relation: "head" } };
    d.visits = {
      [visit]: { date: "2026-11-21", worker_id: "js-client", kind: "home", needs: { food: 3 } },
    };
    d.referrals = {};
  });
  return A.save(doc);
}

test("a household written with plain JavaScript assignments round-trips", () => {
  const bytes = javascriptHousehold();
  if (process.env.WRITE_FIXTURE) {
    writeFileSync(new URL("js-household.automerge", fixtures), bytes);
  }
  const back = A.load(bytes);
  assert.equal(back.household.phone.toString(), "09351234567");
  const committed = A.load(readFileSync(new URL("js-household.automerge", fixtures)));
  assert.deepEqual(JSON.parse(JSON.stringify(committed)), JSON.parse(JSON.stringify(back)));
});
