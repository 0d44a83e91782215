// Formatting for people: Persian digits and Solar Hijri (Jalali) dates. Data stays ISO.
import { isValidJalaaliDate, toGregorian, toJalaali } from "jalaali-js";

const PERSIAN = "۰۱۲۳۴۵۶۷۸۹";
const ARABIC = "٠١٢٣٤٥٦٧٨٩";

/** Every digit in Persian form. */
export function faDigits(text: string | number): string {
  return String(text).replace(/[0-9٠-٩]/g, (d) => {
    const a = ARABIC.indexOf(d);
    return PERSIAN[a >= 0 ? a : Number(d)];
  });
}

/** Every digit (Persian, Arabic-Indic or Latin) in Latin form, as the store expects. */
export function latinDigits(text: string): string {
  return text.replace(/[۰-۹٠-٩]/g, (d) => {
    const p = PERSIAN.indexOf(d);
    return String(p >= 0 ? p : ARABIC.indexOf(d));
  });
}

/** `2024-11-05` → `۱۴۰۳/۰۸/۱۵`; empty for a missing date. */
export function jalali(iso: string | null | undefined): string {
  if (!iso) return "";
  const [y, m, d] = iso.slice(0, 10).split("-").map(Number);
  if (!y || !m || !d) return "";
  const j = toJalaali(y, m, d);
  return faDigits(`${j.jy}/${String(j.jm).padStart(2, "0")}/${String(j.jd).padStart(2, "0")}`);
}

/** Today in the normalised Jalali form: `1404-09-02` (Latin digits, for parsing and the picker). */
export function todayJalali(now = new Date()): string {
  const j = toJalaali(now.getFullYear(), now.getMonth() + 1, now.getDate());
  return `${j.jy}-${String(j.jm).padStart(2, "0")}-${String(j.jd).padStart(2, "0")}`;
}

/** A normalised Jalali date as every date is shown: `1404-09-02` → `۱۴۰۴/۰۹/۰۲`. */
export function jalaliDisplay(normalised: string): string {
  return faDigits(normalised.replaceAll("-", "/"));
}

/** The device's local date as ISO `YYYY-MM-DD`: what "today" means to a worker (not UTC's date,
 * which in Iran is still yesterday until 03:30). */
export function localIsoDate(now = new Date()): string {
  return `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, "0")}-${String(now.getDate()).padStart(2, "0")}`;
}

/** Whether a follow-up date (ISO) has passed, by the device's local date. */
export function isOverdue(followup: string | null | undefined, now = new Date()): boolean {
  return !!followup && followup < localIsoDate(now);
}

/** Checks a typed Jalali date (`۱۴۰۴/۸/۱۵`, `1404-08-15`) before it is sent; returns the
 * normalised `YYYY-MM-DD` Jalali form or null. The store checks again and has the last word. */
export function normaliseJalali(input: string): string | null {
  const parts = latinDigits(input.trim()).split(/[-/.]/);
  if (parts.length !== 3 || parts.some((p) => !/^\d{1,4}$/.test(p))) return null;
  const [y, m, d] = parts.map(Number);
  if (!isValidJalaaliDate(y, m, d)) return null;
  return `${y}-${String(m).padStart(2, "0")}-${String(d).padStart(2, "0")}`;
}

/** The ISO date of a Jalali date, for the date picker. */
export function jalaliToIso(jy: number, jm: number, jd: number): string {
  const g = toGregorian(jy, jm, jd);
  return `${g.gy}-${String(g.gm).padStart(2, "0")}-${String(g.gd).padStart(2, "0")}`;
}

/** `2026-11-23T20:48:58Z` → `۱۴۰۵/۰۹/۰۲ ۲۰:۴۸` in local time. */
export function jalaliTime(iso: string | null | undefined): string {
  if (!iso) return "";
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return "";
  return `${jalali(localIsoDate(t))} ${faDigits(`${String(t.getHours()).padStart(2, "0")}:${String(t.getMinutes()).padStart(2, "0")}`)}`;
}
