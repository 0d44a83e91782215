// Typed calls to the desktop app's commands and its sync events. The UI talks to nothing else.
// Every type comes from ./bindings, generated from the Rust types (see src-tauri/tests/bindings.rs).
import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type { AccessEntry } from "./bindings/AccessEntry";
import type { ChangeInfo } from "./bindings/ChangeInfo";
import type { Draft } from "./bindings/Draft";
import type { HouseholdDetails } from "./bindings/HouseholdDetails";
import type { HouseholdSummary } from "./bindings/HouseholdSummary";
import type { HouseholdText } from "./bindings/HouseholdText";
import type { Identity } from "./bindings/Identity";
import type { ListText } from "./bindings/ListText";
import type { LockView } from "./bindings/LockView";
import type { MemberText } from "./bindings/MemberText";
import type { Page } from "./bindings/Page";
import type { QuarantinedHousehold } from "./bindings/QuarantinedHousehold";
import type { ReferralText } from "./bindings/ReferralText";
import type { SyncView } from "./bindings/SyncView";
import type { UiError } from "./bindings/UiError";
import type { VisitText } from "./bindings/VisitText";

export type { Member } from "./bindings/Member";
export type {
  AccessEntry,
  ChangeInfo,
  Draft,
  HouseholdDetails,
  HouseholdSummary,
  HouseholdText,
  Identity,
  ListText,
  LockView,
  MemberText,
  QuarantinedHousehold,
  SyncView,
  UiError,
  VisitText,
};

/** The event the background sync loop sends on every change of its state. */
export const SYNC_EVENT = "sync-status";

export const api = {
  lockState: () => invoke<LockView>("lock_state"),
  unlock: (passphrase: string) => invoke<LockView>("unlock", { passphrase }),
  choosePassphrase: (passphrase: string, confirm: string) =>
    invoke<LockView>("choose_passphrase", { passphrase, confirm }),
  lock: () => invoke<LockView>("lock"),
  draftLoad: () => invoke<Draft[]>("draft_load"),
  draftSave: (key: string, value: string) => invoke<null>("draft_save", { key, value }),
  draftClear: (key: string) => invoke<null>("draft_clear", { key }),
  identity: () => invoke<Identity | null>("identity"),
  init: (worker: string, device: string) => invoke<Identity>("init", { worker, device }),
  enroll: (server: string, code: string) => invoke<string>("enroll", { server, code }),
  list: (filters: ListText, limit: number, offset: number) =>
    invoke<Page<HouseholdSummary>>("list_households", { filters, limit, offset }),
  search: (text: string, limit = 200) => invoke<HouseholdSummary[]>("search_households", { text, limit }),
  household: (id: string) => invoke<HouseholdDetails>("household", { id }),
  history: (id: string) => invoke<ChangeInfo[]>("history", { id }),
  quarantined: () => invoke<QuarantinedHousehold[]>("quarantined"),
  mayReadAccessHistory: () => invoke<boolean>("may_read_access_history"),
  householdAccess: (id: string) => invoke<AccessEntry[]>("household_access", { id }),
  addHousehold: (form: HouseholdText) => invoke<string>("add_household", { form }),
  addMember: (id: string, form: MemberText) => invoke<string>("add_member", { id, form }),
  editMember: (id: string, member: string, form: MemberText) => invoke<null>("edit_member", { id, member, form }),
  addReferral: (id: string, form: ReferralText) => invoke<string>("add_referral", { id, form }),
  addVisit: (id: string, form: VisitText) => invoke<string>("add_visit", { id, form }),
  syncStatus: () => invoke<SyncView>("sync_status"),
  syncNow: () => invoke<null>("sync_now"),
};

/** Calls `onChange` with every new sync state; resolves to the function that stops listening. */
export function onSyncStatus(onChange: (view: SyncView) => void): Promise<UnlistenFn> {
  return listen<SyncView>(SYNC_EVENT, (event) => onChange(event.payload));
}

/** The error a command rejected with, whatever shape it came in (Tauri itself rejects with a
 * string, e.g. for an argument that is not a valid id). */
export function asUiError(e: unknown): UiError {
  if (e && typeof e === "object" && "message" in e && "code" in e) return e as UiError;
  return { code: "internal", field: null, message: String(e), message_fa: null };
}
