// Report tables as `run_report` returns them, for the chart, table and screen tests: a referral
// funnel per partner (money, a median that does not apply), need scores over time (dates, a
// gap), households by district and need (stacked), and the list of reports.
import type { Cell, Column, ReportInfo, Table } from "../api";

export const col = (key: string, fa: string, en: string, kind: Column["kind"]): Column => ({ key, fa, en, kind });
export const text = (value: string): Cell => ({ kind: "text", value });
export const int = (value: number): Cell => ({ kind: "int", value });
export const money = (value: number): Cell => ({ kind: "money", value });
export const decimal = (value: number): Cell => ({ kind: "decimal", value });
export const percent = (value: number): Cell => ({ kind: "percent", value });
export const date = (value: string): Cell => ({ kind: "date", value });
export const empty: Cell = { kind: "empty" };

export function funnel(patch: Partial<Table> = {}): Table {
  return {
    report: "referral-funnel",
    title_fa: "قیف معرفی‌ها به تفکیک همکار",
    title_en: "Referral funnel per partner",
    columns: [
      col("partner", "همکار", "Partner", "text"),
      col("sent", "ارسال‌شده", "Sent", "int"),
      col("approved", "تأییدشده", "Approved", "int"),
      col("disbursed", "پرداخت‌شده", "Disbursed", "int"),
      col("amount", "مبلغ پرداخت (ریال)", "Amount paid (rials)", "money"),
      col("median_days_approved", "میانهٔ روز تا تأیید", "Median days to approval", "decimal"),
      col("paid_share", "سهم پرداخت", "Share paid", "percent"),
    ],
    rows: [
      [text("بانک ملی شعبه 12"), int(10), int(4), int(1), money(150000000), decimal(12.5), percent(0.1)],
      [text("بانک سپه"), int(5), int(0), int(0), money(0), empty, percent(0)],
    ],
    filters: [{ fa: "گروه", en: "Group", value: "jihadi-1" }],
    chart: { kind: "funnel", label_column: 0, series_columns: [1, 2, 3] },
    ...patch,
  };
}

export function needsOverTime(patch: Partial<Table> = {}): Table {
  return {
    report: "need-trend",
    title_fa: "روند نیاز",
    title_en: "Need over time",
    columns: [
      col("date", "تاریخ", "Date", "date"),
      col("income", "درآمد", "Income", "decimal"),
      col("housing", "مسکن", "Housing", "decimal"),
    ],
    rows: [
      [date("2025-03-21"), decimal(3), decimal(2)],
      [date("2025-06-22"), empty, decimal(2.5)],
      [date("2025-11-06"), decimal(1), decimal(0)],
    ],
    filters: [],
    chart: { kind: "line", label_column: 0, series_columns: [1, 2] },
    ...patch,
  };
}

export function byDistrict(patch: Partial<Table> = {}): Table {
  return {
    report: "households-by-district",
    title_fa: "خانوارها به تفکیک منطقه و نیاز",
    title_en: "Households by district and need",
    columns: [
      col("district", "منطقه", "District", "text"),
      col("low", "نیاز کم", "Low need", "int"),
      col("high", "نیاز بالا", "High need", "int"),
    ],
    rows: [
      [text("منطقه 3"), int(12), int(4)],
      [text("منطقه 7"), int(1234), int(0)],
    ],
    filters: [],
    chart: { kind: "stacked_bar", label_column: 0, series_columns: [1, 2] },
    ...patch,
  };
}

export const reportList: ReportInfo[] = [
  {
    code: "households-by-district",
    title_fa: "خانوارها به تفکیک منطقه و نیاز",
    title_en: "Households by district and need",
    description_fa: "شمار خانوارهای هر منطقه در هر سطح نیاز",
  },
  {
    code: "referral-funnel",
    title_fa: "قیف معرفی‌ها به تفکیک همکار",
    title_en: "Referral funnel per partner",
    description_fa: "ارسال، تأیید و پرداخت",
  },
  {
    code: "cohort",
    title_fa: "گروه هدف",
    title_en: "Cohort",
    description_fa: "آغاز و اکنون هر خانوار گروه هدف",
  },
];
