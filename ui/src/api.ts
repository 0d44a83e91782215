// Typed calls to the desktop app's commands and its sync events. The UI talks to nothing else.
// Every type comes from ./bindings, generated from the Rust types (see src-tauri/tests/bindings.rs).
import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type { AccessEntry } from "./bindings/AccessEntry";
import type { Caseload } from "./bindings/Caseload";
import type { ChangeInfo } from "./bindings/ChangeInfo";
import type { Comparison } from "./bindings/Comparison";
import type { Draft } from "./bindings/Draft";
import type { DuplicatePair } from "./bindings/DuplicatePair";
import type { ExportFormat } from "./bindings/ExportFormat";
import type { Field } from "./bindings/Field";
import type { Followup } from "./bindings/Followup";
import type { GoalText } from "./bindings/GoalText";
import type { HouseholdDetails } from "./bindings/HouseholdDetails";
import type { HouseholdSummary } from "./bindings/HouseholdSummary";
import type { HouseholdText } from "./bindings/HouseholdText";
import type { Identity } from "./bindings/Identity";
import type { InboxEntry } from "./bindings/InboxEntry";
import type { InboxFilter } from "./bindings/InboxFilter";
import type { LaunchMarks } from "./bindings/LaunchMarks";
import type { LedgerEntry } from "./bindings/LedgerEntry";
import type { ListPage } from "./bindings/ListPage";
import type { ListText } from "./bindings/ListText";
import type { LockView } from "./bindings/LockView";
import type { MatchReason } from "./bindings/MatchReason";
import type { MemberText } from "./bindings/MemberText";
import type { NavCounts } from "./bindings/NavCounts";
import type { NeedHistory } from "./bindings/NeedHistory";
import type { Page } from "./bindings/Page";
import type { PairBand } from "./bindings/PairBand";
import type { Partner } from "./bindings/Partner";
import type { PlanView } from "./bindings/PlanView";
import type { ProgressText } from "./bindings/ProgressText";
import type { QuarantinedHousehold } from "./bindings/QuarantinedHousehold";
import type { Reassignment } from "./bindings/Reassignment";
import type { ReferralStepText } from "./bindings/ReferralStepText";
import type { ReferralText } from "./bindings/ReferralText";
import type { RegisteredGroup } from "./bindings/RegisteredGroup";
import type { RegistrationMatch } from "./bindings/RegistrationMatch";
import type { ReportFilterText } from "./bindings/ReportFilterText";
import type { ReportInfo } from "./bindings/ReportInfo";
import type { ReportOptions } from "./bindings/ReportOptions";
import type { ReturnedVisit } from "./bindings/ReturnedVisit";
import type { ReviewFilter } from "./bindings/ReviewFilter";
import type { ReviewItem } from "./bindings/ReviewItem";
import type { StalledReferral } from "./bindings/StalledReferral";
import type { Standing } from "./bindings/Standing";
import type { StepText } from "./bindings/StepText";
import type { SyncView } from "./bindings/SyncView";
import type { Table } from "./bindings/Table";
import type { UiError } from "./bindings/UiError";
import type { UiMark } from "./bindings/UiMark";
import type { VisitText } from "./bindings/VisitText";

export type { AppliedFilter } from "./bindings/AppliedFilter";
export type { Cell } from "./bindings/Cell";
export type { ChartHint } from "./bindings/ChartHint";
export type { ChartKind } from "./bindings/ChartKind";
export type { Column } from "./bindings/Column";
export type { ColumnKind } from "./bindings/ColumnKind";
export type { Field } from "./bindings/Field";
export type { Goal } from "./bindings/Goal";
export type { Member } from "./bindings/Member";
export type { Referral } from "./bindings/Referral";
export type { Step } from "./bindings/Step";
export type { Visit } from "./bindings/Visit";
export type {
  AccessEntry,
  Caseload,
  ChangeInfo,
  Comparison,
  Draft,
  DuplicatePair,
  ExportFormat,
  Followup,
  GoalText,
  HouseholdDetails,
  HouseholdSummary,
  HouseholdText,
  Identity,
  InboxEntry,
  InboxFilter,
  LaunchMarks,
  LedgerEntry,
  ListPage,
  ListText,
  LockView,
  MatchReason,
  MemberText,
  NavCounts,
  NeedHistory,
  Partner,
  PlanView,
  ProgressText,
  QuarantinedHousehold,
  Reassignment,
  ReferralStepText,
  RegisteredGroup,
  RegistrationMatch,
  ReportFilterText,
  ReportInfo,
  ReportOptions,
  ReturnedVisit,
  ReviewFilter,
  ReviewItem,
  StalledReferral,
  Standing,
  StepText,
  SyncView,
  Table,
  UiError,
  UiMark,
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
  /** Tells the app a launch's step was reached (see launch.ts); it keeps the time. */
  uiMark: (what: UiMark) => invoke<null>("ui_mark", { what }),
  /** The launch's timing marks and the count of document loads (for the e2e test and bench). */
  launchMarks: () => invoke<LaunchMarks>("launch_marks"),
  draftLoad: () => invoke<Draft[]>("draft_load"),
  draftSave: (key: string, value: string) => invoke<null>("draft_save", { key, value }),
  draftClear: (key: string) => invoke<null>("draft_clear", { key }),
  identity: () => invoke<Identity | null>("identity"),
  init: (worker: string, device: string) => invoke<Identity>("init", { worker, device }),
  enroll: (server: string, code: string) => invoke<string>("enroll", { server, code }),
  /** A page of the caseload and whether more follow (not the count: see `count`). */
  list: (filters: ListText, limit: number, offset: number) =>
    invoke<ListPage>("list_households", { filters, limit, offset }),
  /** How many households the caseload's filters match: it reads every household, so the
   * caseload asks once per filter, after its first page is on the screen. */
  count: (filters: ListText) => invoke<number>("count_households", { filters }),
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
  /** Records a visit with the progress on plan steps ticked on it (all kept or none). */
  addVisit: (id: string, form: VisitText, progress: ProgressText[] = []) =>
    invoke<string>("add_visit", { id, form, progress }),
  // Case outcomes (issue 11): the plan and graduation, the referral ledger, the need history,
  // the partner directory, follow-ups and stalled referrals.
  plan: (household: string) => invoke<PlanView>("plan", { household }),
  addGoal: (household: string, goal: GoalText) => invoke<string>("add_goal", { household, goal }),
  addStep: (household: string, goal: string, step: StepText) => invoke<string>("add_step", { household, goal, step }),
  updateStep: (household: string, step: string, progress: ProgressText) =>
    invoke<null>("update_step", { household, step, progress }),
  setGraduationCriteria: (household: string, threshold: string, visits: string) =>
    invoke<null>("set_graduation_criteria", { household, threshold, visits }),
  graduate: (household: string, reason: string) => invoke<null>("graduate", { household, reason }),
  reenter: (household: string, reason: string) => invoke<null>("reenter", { household, reason }),
  needHistory: (household: string) => invoke<NeedHistory>("need_history", { household }),
  referralLedger: (household: string) => invoke<LedgerEntry[]>("referral_ledger", { household }),
  updateReferralStep: (household: string, referral: string, step: ReferralStepText) =>
    invoke<null>("update_referral_step", { household, referral, step }),
  partners: () => invoke<Partner[]>("partners"),
  stalledReferrals: () => invoke<StalledReferral[]>("stalled_referrals"),
  followups: (within: number) => invoke<Followup[]>("followups", { within }),
  syncStatus: () => invoke<SyncView>("sync_status"),
  syncNow: () => invoke<null>("sync_now"),
  standing: () => invoke<Standing>("standing"),
  navCounts: () => invoke<NavCounts>("nav_counts"),
  reviewQueue: (filter: ReviewFilter, limit: number, offset: number) =>
    invoke<Page<ReviewItem>>("review_queue", { filter, limit, offset }),
  approveVisit: (visit: string, comment: string) => invoke<null>("approve_visit", { visit, comment }),
  returnVisit: (visit: string, comment: string, field: Field | null) =>
    invoke<null>("return_visit", { visit, comment, field }),
  resubmitVisit: (visit: string, comment: string) => invoke<null>("resubmit_visit", { visit, comment }),
  editVisit: (visit: string, form: VisitText) => invoke<null>("edit_visit", { visit, form }),
  returnedVisits: (everyone: boolean) => invoke<ReturnedVisit[]>("returned_visits", { everyone }),
  conflictInbox: (filter: InboxFilter) => invoke<InboxEntry[]>("conflict_inbox", { filter }),
  resolveConflict: (household: string, path: string, value: string) =>
    invoke<null>("resolve_conflict", { household, path, value }),
  caseloads: () => invoke<Caseload[]>("caseloads"),
  mergeHouseholds: (survivor: string, other: string) => invoke<null>("merge_households", { survivor, other }),
  unmergeHouseholds: (survivor: string, other: string) => invoke<null>("unmerge_households", { survivor, other }),
  markNotDuplicate: (a: string, b: string, reason: string) => invoke<null>("mark_not_duplicate", { a, b, reason }),
  duplicatePairs: (band: PairBand | null) => invoke<DuplicatePair[]>("duplicate_pairs", { band }),
  compareHouseholds: (a: string, b: string) => invoke<Comparison>("compare_households", { a, b }),
  registrationMatches: (form: HouseholdText) => invoke<RegistrationMatch[]>("registration_matches", { form }),
  memberMatches: (household: string, form: MemberText) =>
    invoke<RegistrationMatch[]>("member_matches", { household, form }),
  lookupNationalId: (nationalId: string) => invoke<RegisteredGroup[]>("lookup_national_id", { nationalId }),
  assign: (households: string[], group: string | null, worker: string | null, dryRun: boolean) =>
    invoke<Reassignment>("assign_households", { households, group, worker, dryRun }),
  reportList: () => invoke<ReportInfo[]>("report_list"),
  reportOptions: () => invoke<ReportOptions>("report_options"),
  runReport: (code: string, filter: ReportFilterText) => invoke<Table>("run_report", { code, filter }),
  /** Writes the report to a file; resolves to the file's absolute path. */
  exportReport: (code: string, filter: ReportFilterText, format: ExportFormat) =>
    invoke<string>("export_report", { code, filter, format }),
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
