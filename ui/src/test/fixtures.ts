// Records as the app's commands return them, for the component tests: one household with its
// head, a summary row, a visit, and who is working in which role.
import type { HouseholdDetails, HouseholdSummary, Identity, Member, Standing, Visit } from "../api";

export const ID = "0190b7c4-6a7e-7000-8000-000000000001";
export const OTHER = "0190b7c4-6a7e-7000-8000-000000000002";
export const VISIT = "0190b7c4-6a7e-7000-8000-0000000000a1";

export const fieldWorker: Identity = {
  worker_id: "w1",
  worker_name: "زهرا رضایی",
  device_id: "d1",
  device_name: "لپ‌تاپ ۷",
};
export const supervisorIdentity: Identity = {
  worker_id: "s1",
  worker_name: "مریم احمدی",
  device_id: "d2",
  device_name: "دفتر گروه",
};
export const asField: Standing = { role: "field", group: "jihadi-1" };
export const asSupervisor: Standing = { role: "supervisor", group: "jihadi-1" };
export const asCoordinator: Standing = { role: "coordinator", group: null };

export function member(patch: Partial<Member> = {}): Member {
  return {
    id: "m1",
    first_name: "علی",
    last_name: "کریمی",
    national_id: "0499370899",
    birth_date: null,
    sex: null,
    relation: "head",
    education: null,
    employment: null,
    health_notes: "",
    disability_notes: "",
    father_name: null,
    ...patch,
  };
}

export function visit(patch: Partial<Visit> = {}): Visit {
  return {
    id: VISIT,
    date: "2025-11-06",
    worker_id: "w1",
    kind: "home",
    observations: "اجاره عقب افتاده",
    needs: { income: 3 },
    followup_date: null,
    review: [],
    ...patch,
  };
}

/** One household as the household page reads it. */
export function details(patch: Partial<HouseholdDetails> = {}): HouseholdDetails {
  return {
    id: ID,
    head_member_id: "m1",
    district: "منطقه ۳",
    address: "کوچه یاس",
    phone: null,
    alt_phone: null,
    status: "active",
    assigned_group: "jihadi-1",
    assigned_worker: "w1",
    created_at: "2026-11-23T08:00:00Z",
    created_by: "w1",
    members: [member()],
    visits: [],
    referrals: [],
    merged: null,
    not_duplicates: [],
    goals: [],
    criteria: { threshold: 1, visits: 2 },
    status_events: [],
    conflicts: [],
    merged_from: [],
    redirected_from: null,
    ...patch,
  };
}

export function summary(patch: Partial<HouseholdSummary> = {}): HouseholdSummary {
  return {
    id: ID,
    head_name: "علی کریمی",
    head_national_id: "0499370899",
    district: "منطقه ۳",
    address: "کوچه یاس",
    phone: null,
    status: "active",
    assigned_group: "jihadi-1",
    assigned_worker: "w1",
    member_count: 1,
    visit_count: 1,
    last_visit: null,
    next_followup: null,
    max_need: null,
    conflict_count: 0,
    needs_update: false,
    merged_into: null,
    awaiting_review: 0,
    returned_visits: 0,
    ...patch,
  };
}
