// Interface text that is not domain vocabulary: Persian first, English as the fallback for
// administrators. Names of fields, kinds, statuses and relations come from the generated
// vocabulary (see labels.ts), never from here.

const fa = {
  app: "مددکار",
  caseload: "پرونده‌ها",
  followups: "پیگیری‌ها",
  search: "جستجو: نام، کد ملی، تلفن، نشانی",
  all: "همه",
  overdue: "پیگیری عقب‌افتاده",
  calendar: "تقویم",
  editMember: "ویرایش عضو",
  edit: "ویرایش",
  referral: "معرفی",
  referralTargetHint: "بانک، مرکز آموزش، درمانگاه",
  sort: "ترتیب",
  sortName: "نام",
  sortNeed: "نیاز",
  sortLastVisit: "آخرین بازدید",
  sortFollowup: "پیگیری",
  households: "خانوار",
  members: "اعضا",
  visits: "بازدیدها",
  referrals: "معرفی‌ها",
  history: "تاریخچه",
  conflict: "مقادیر متعارض",
  newHousehold: "ثبت خانوار",
  newVisit: "ثبت بازدید",
  newMember: "افزودن عضو",
  save: "ذخیره",
  cancel: "انصراف",
  back: "بازگشت",
  retry: "تلاش دوباره",
  loadFailed: "بارگیری نشد.",
  needs: "ارزیابی نیاز (۰ تا ۴)",
  lastVisit: "آخرین بازدید",
  nextFollowup: "پیگیری بعدی",
  syncNow: "همگام‌سازی",
  pending: "تغییر در صف",
  lastSync: "آخرین همگام‌سازی",
  stateLocal: "فقط روی این دستگاه",
  stateOffline: "بدون اتصال",
  stateSyncing: "در حال همگام‌سازی…",
  stateSynced: "همگام",
  stateError: "خطای همگام‌سازی",
  offlineKept: "سرور در دسترس نیست؛ کارهای شما روی همین دستگاه نگه داشته می‌شود و بعداً همگام می‌شود.",
  welcome: "به مددکار خوش آمدید",
  workerName: "نام شما",
  deviceName: "نام این دستگاه",
  server: "نشانی سرور",
  code: "کد ثبت دستگاه",
  enroll: "ثبت دستگاه",
  enrollLater: "بعداً؛ فعلاً بدون سرور",
  nothing: "چیزی یافت نشد",
  draftKept: "پیش‌نویس نگه داشته می‌شود",
  language: "English",
  badVisitDate: "تاریخ بازدید معتبر نیست (نمونه: ۱۴۰۴/۰۸/۱۵).",
  badFollowupDate: "تاریخ پیگیری معتبر نیست (نمونه: ۱۴۰۴/۰۹/۰۱).",
  followupBeforeVisit: "تاریخ پیگیری نمی‌تواند پیش از تاریخ بازدید باشد.",
  targetRequired: "مقصد معرفی را وارد کنید.",
  stateLocked: "قفل",
  lockNow: "قفل کن",
  unlockTitle: "داده‌ها قفل است",
  unlockHint: "برای باز کردن پرونده‌ها گذرواژه‌ی این دستگاه را وارد کنید.",
  unlock: "باز کن",
  passphrase: "گذرواژه",
  choosePassphraseTitle: "یک گذرواژه برگزینید",
  choosePassphraseHint:
    "پرونده‌های این دستگاه با این گذرواژه رمزگذاری می‌شوند. آن را فراموش نکنید: بدون آن هیچ‌کس، حتی پشتیبانی، داده‌ها را باز نمی‌کند.",
  encryptOldHint: "داده‌های این دستگاه هنوز رمزگذاری نشده است. یک گذرواژه برگزینید تا رمزگذاری شود.",
  confirmPassphrase: "تکرار گذرواژه",
  choosePassphrase: "رمزگذاری و ادامه",
  passphraseMismatch: "دو گذرواژه یکسان نیست.",
  passphraseShort: "گذرواژه کوتاه است.",
  unlocking: "در حال باز کردن…",
  draftNotKept: "پیش‌نویس ذخیره نشد؛ فرم را ذخیره کنید.",
};

export type Key = keyof typeof fa;

const en: Record<Key, string> = {
  app: "Madadkar",
  caseload: "Caseload",
  followups: "Follow-ups",
  search: "Search: name, national ID, phone, address",
  all: "All",
  overdue: "Overdue follow-up",
  calendar: "Calendar",
  editMember: "Edit member",
  edit: "Edit",
  referral: "Referral",
  referralTargetHint: "bank, training centre, clinic",
  sort: "Sort",
  sortName: "Name",
  sortNeed: "Need",
  sortLastVisit: "Last visit",
  sortFollowup: "Follow-up",
  households: "households",
  members: "Members",
  visits: "Visits",
  referrals: "Referrals",
  history: "History",
  conflict: "Conflicting values",
  newHousehold: "New household",
  newVisit: "Record visit",
  newMember: "Add member",
  save: "Save",
  cancel: "Cancel",
  back: "Back",
  retry: "Try again",
  loadFailed: "Could not load.",
  needs: "Needs assessment (0–4)",
  lastVisit: "Last visit",
  nextFollowup: "Next follow-up",
  syncNow: "Sync now",
  pending: "pending changes",
  lastSync: "Last sync",
  stateLocal: "This device only",
  stateOffline: "Offline",
  stateSyncing: "Syncing…",
  stateSynced: "Synced",
  stateError: "Sync error",
  offlineKept: "The server cannot be reached; your work is kept on this device and will sync later.",
  welcome: "Welcome to Madadkar",
  workerName: "Your name",
  deviceName: "This device's name",
  server: "Server address",
  code: "Enrolment code",
  enroll: "Enrol device",
  enrollLater: "Later; work without a server",
  nothing: "Nothing found",
  draftKept: "Draft kept",
  language: "فارسی",
  badVisitDate: "visit date: not a Jalali date (e.g. 1404/08/15)",
  badFollowupDate: "follow-up date: not a Jalali date (e.g. 1404/09/01)",
  followupBeforeVisit: "follow-up date: is before the visit date",
  targetRequired: "target: required",
  stateLocked: "Locked",
  lockNow: "Lock now",
  unlockTitle: "Locked",
  unlockHint: "Type this device's passphrase to open the caseload.",
  unlock: "Unlock",
  passphrase: "Passphrase",
  choosePassphraseTitle: "Choose a passphrase",
  choosePassphraseHint:
    "The caseload on this device is encrypted with this passphrase. Do not forget it: without it nobody, not even support, can open the data.",
  encryptOldHint: "The data on this device is not encrypted yet. Choose a passphrase to encrypt it.",
  confirmPassphrase: "Passphrase again",
  choosePassphrase: "Encrypt and continue",
  passphraseMismatch: "The two passphrases differ.",
  passphraseShort: "The passphrase is too short.",
  unlocking: "Unlocking…",
  draftNotKept: "A draft could not be kept; save the form.",
};

export type Language = "fa" | "en";

let current: Language = "fa";

export function setLanguage(lang: Language): void {
  current = lang;
  document.documentElement.lang = lang;
  document.documentElement.dir = lang === "fa" ? "rtl" : "ltr";
}

export function language(): Language {
  return current;
}

export function t(key: Key): string {
  return current === "fa" ? fa[key] : en[key];
}

/** The same text in both languages, for errors the UI raises itself (`message`, `message_fa`). */
export function both(key: Key): { message: string; message_fa: string } {
  return { message: en[key], message_fa: fa[key] };
}
