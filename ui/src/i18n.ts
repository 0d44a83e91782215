// Interface text: Persian first, English as the fallback for administrators.

const fa = {
  app: "مددکار",
  caseload: "پرونده‌ها",
  followups: "پیگیری‌ها",
  search: "جستجو: نام، کد ملی، تلفن، نشانی",
  district: "منطقه",
  status: "وضعیت",
  all: "همه",
  overdue: "پیگیری عقب‌افتاده",
  needFilter: "نیاز",
  calendar: "تقویم",
  assignedWorker: "مددکار مسئول",
  editMember: "ویرایش عضو",
  edit: "ویرایش",
  referral: "معرفی",
  referralTarget: "به کجا (بانک، مرکز آموزش، درمانگاه)",
  relationSpouse: "همسر",
  relationChild: "فرزند",
  relationParent: "والد",
  relationOther: "سایر",
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
  firstName: "نام",
  lastName: "نام خانوادگی",
  nationalId: "کد ملی",
  birthDate: "تاریخ تولد",
  sex: "جنسیت",
  female: "زن",
  male: "مرد",
  relation: "نسبت",
  address: "نشانی",
  phone: "تلفن",
  visitDate: "تاریخ بازدید",
  kind: "نوع",
  observations: "مشاهدات",
  needs: "ارزیابی نیاز (۰ تا ۴)",
  followupDate: "تاریخ پیگیری",
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
  start: "شروع",
  server: "نشانی سرور",
  code: "کد ثبت دستگاه",
  enroll: "ثبت دستگاه",
  enrollLater: "بعداً؛ فعلاً بدون سرور",
  nothing: "چیزی یافت نشد",
  draftKept: "پیش‌نویس نگه داشته می‌شود",
  language: "English",
};

export type Key = keyof typeof fa;

const en: Record<Key, string> = {
  app: "Madadkar", caseload: "Caseload", followups: "Follow-ups", search: "Search: name, national ID, phone, address",
  district: "District", status: "Status", all: "All", overdue: "Overdue follow-up", needFilter: "Need", calendar: "Calendar", assignedWorker: "Assigned worker", editMember: "Edit member",
  edit: "Edit", referral: "Referral", referralTarget: "To (bank, training centre, clinic)", relationSpouse: "Spouse", relationChild: "Child",
  relationParent: "Parent", relationOther: "Other", sort: "Sort", sortName: "Name",
  sortNeed: "Need", sortLastVisit: "Last visit", sortFollowup: "Follow-up", households: "households", members: "Members",
  visits: "Visits", referrals: "Referrals", history: "History", conflict: "Conflicting values", newHousehold: "New household",
  newVisit: "Record visit", newMember: "Add member", save: "Save", cancel: "Cancel", back: "Back", firstName: "First name",
  lastName: "Last name", nationalId: "National ID", birthDate: "Birth date", sex: "Sex", female: "Female", male: "Male",
  relation: "Relation", address: "Address", phone: "Phone", visitDate: "Visit date", kind: "Kind", observations: "Observations",
  needs: "Needs assessment (0–4)", followupDate: "Follow-up date", lastVisit: "Last visit", nextFollowup: "Next follow-up",
  syncNow: "Sync now", pending: "pending changes", lastSync: "Last sync", stateLocal: "This device only", stateOffline: "Offline",
  stateSyncing: "Syncing…", stateSynced: "Synced", stateError: "Sync error",
  offlineKept: "The server cannot be reached; your work is kept on this device and will sync later.", welcome: "Welcome to Madadkar",
  workerName: "Your name", deviceName: "This device's name", start: "Start", server: "Server address", code: "Enrolment code",
  enroll: "Enrol device", enrollLater: "Later; work without a server", nothing: "Nothing found", draftKept: "Draft kept",
  language: "فارسی",
};

let current: "fa" | "en" = "fa";

export function setLanguage(lang: "fa" | "en"): void {
  current = lang;
  document.documentElement.lang = lang;
  document.documentElement.dir = lang === "fa" ? "rtl" : "ltr";
}

export function language(): "fa" | "en" {
  return current;
}

export function t(key: Key): string {
  return current === "fa" ? fa[key] : en[key];
}
