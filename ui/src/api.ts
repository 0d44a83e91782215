// Typed calls to the desktop app's commands. The UI talks to nothing else.
import { invoke } from "@tauri-apps/api/core";

export interface UiError {
  code: string;
  field: string | null;
  message: string;
  message_fa?: string | null;
}

export interface Identity {
  worker_id: string;
  worker_name: string;
  device_id: string;
  device_name: string;
}

export interface HouseholdSummary {
  id: string;
  head_name: string;
  head_national_id: string | null;
  district: string;
  address: string;
  phone: string | null;
  status: string;
  member_count: number;
  visit_count: number;
  last_visit: string | null;
  next_followup: string | null;
  max_need: number | null;
  conflict_count: number;
}

export interface Page<T> {
  total: number;
  items: T[];
}

export interface Member {
  id: string;
  first_name: string;
  last_name: string;
  national_id: string | null;
  birth_date: string | null;
  sex: string | null;
  relation: string;
}

export interface Visit {
  id: string;
  date: string;
  worker_id: string;
  kind: string;
  observations: string;
  needs: Record<string, number>;
  followup_date: string | null;
}

export interface Referral {
  id: string;
  kind: string;
  target: string;
  history: { status: string; date: string; note: string }[];
}

export interface ConflictValue {
  value: string;
  worker_name: string;
  time: string;
}

export interface Household {
  id: string;
  head_member_id: string | null;
  district: string;
  address: string;
  phone: string | null;
  status: string;
  members: Member[];
  visits: Visit[];
  referrals: Referral[];
  conflicts: { path: string; current: string; values: ConflictValue[] }[];
}

export interface ChangeInfo {
  hash: string;
  time: string;
  worker_name: string;
  action: string;
}

export interface SyncView {
  state: "local" | "offline" | "syncing" | "synced" | "error" | "";
  pending_changes: number;
  last_sync_at: string | null;
  last_error: string | null;
}

export interface ListArgs {
  district?: string;
  status?: string;
  overdue?: boolean;
  worker?: string;
  min_need?: number | null;
  sort?: string;
  limit: number;
  offset: number;
}

export const api = {
  identity: () => invoke<Identity | null>("identity"),
  init: (worker: string, device: string) => invoke<Identity>("init", { worker, device }),
  enroll: (server: string, code: string) => invoke<string>("enroll", { server, code }),
  list: (query: ListArgs) => invoke<Page<HouseholdSummary>>("list_households", { query }),
  search: (text: string, limit = 200) => invoke<HouseholdSummary[]>("search_households", { text, limit }),
  household: (id: string) => invoke<Household>("household", { id }),
  history: (id: string) => invoke<ChangeInfo[]>("history", { id }),
  addHousehold: (form: Record<string, string>) => invoke<string>("add_household", { form }),
  addMember: (id: string, form: Record<string, string>) => invoke<string>("add_member", { id, form }),
  editMember: (id: string, member: string, form: Record<string, string>) => invoke<void>("edit_member", { id, member, form }),
  addReferral: (id: string, form: { kind: string; target: string; visit_id: string; date: string; note: string }) =>
    invoke<string>("add_referral", { id, form }),
  addVisit: (id: string, form: { date: string; kind: string; observations: string; needs: Record<string, number>; followup: string }) =>
    invoke<string>("add_visit", { id, form }),
  syncStatus: () => invoke<SyncView>("sync_status"),
  syncNow: () => invoke<void>("sync_now"),
};

/** The error a command rejected with, whatever shape it came in. */
export function asUiError(e: unknown): UiError {
  if (e && typeof e === "object" && "message" in e) return e as UiError;
  return { code: "internal", field: null, message: String(e) };
}
