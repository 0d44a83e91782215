// Formatting for people: Persian digits and Solar Hijri (Jalali) dates. Data stays ISO.
import { toGregorian, toJalaali, isValidJalaaliDate } from "jalaali-js";

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

/** Today in the Jalali form a worker types: `1404-09-02` (Latin digits). */
export function todayJalali(now = new Date()): string {
  const j = toJalaali(now.getFullYear(), now.getMonth() + 1, now.getDate());
  return `${j.jy}-${String(j.jm).padStart(2, "0")}-${String(j.jd).padStart(2, "0")}`;
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
  const date = `${t.getFullYear()}-${String(t.getMonth() + 1).padStart(2, "0")}-${String(t.getDate()).padStart(2, "0")}`;
  return `${jalali(date)} ${faDigits(`${String(t.getHours()).padStart(2, "0")}:${String(t.getMinutes()).padStart(2, "0")}`)}`;
}
