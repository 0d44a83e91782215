import { describe, expect, it } from "vitest";
import {
  faDigits,
  isOverdue,
  jalali,
  jalaliDisplay,
  jalaliToIso,
  latinDigits,
  localIsoDate,
  normaliseJalali,
  todayJalali,
} from "./format";

describe("digits", () => {
  it("shows Persian digits and reads any", () => {
    expect(faDigits("1403/08/15")).toBe("۱۴۰۳/۰۸/۱۵");
    expect(faDigits("٤٥")).toBe("۴۵");
    expect(latinDigits("۱۴۰۳-٠٨-15")).toBe("1403-08-15");
  });
});

describe("Jalali dates", () => {
  it("formats ISO dates in the Solar Hijri calendar", () => {
    expect(jalali("2024-11-05")).toBe("۱۴۰۳/۰۸/۱۵");
    expect(jalali("2024-03-20")).toBe("۱۴۰۳/۰۱/۰۱");
    expect(jalali(null)).toBe("");
  });

  it("checks typed dates, leap years included", () => {
    expect(normaliseJalali("۱۴۰۳/۸/۱۵")).toBe("1403-08-15");
    expect(normaliseJalali("1403-12-30")).toBe("1403-12-30");
    expect(normaliseJalali("1402-12-30")).toBeNull();
    expect(normaliseJalali("1403-13-01")).toBeNull();
    expect(normaliseJalali("دیروز")).toBeNull();
    expect(jalaliToIso(1403, 8, 15)).toBe("2024-11-05");
  });

  it("gives today in Jalali", () => {
    expect(todayJalali(new Date(2026, 10, 23))).toBe("1405-09-02");
  });
});

describe("the device's local date", () => {
  // 2026-11-24 01:00 in Tehran (UTC+3:30) is still 2026-11-23 in UTC.
  const afterMidnightInTehran = new Date("2026-11-23T21:30:00Z");

  it("runs in Iran's time zone", () => {
    expect(afterMidnightInTehran.getTimezoneOffset()).toBe(-210);
  });

  it("is today for a worker, not UTC's date", () => {
    expect(localIsoDate(afterMidnightInTehran)).toBe("2026-11-24");
    expect(afterMidnightInTehran.toISOString().slice(0, 10)).toBe("2026-11-23");
  });

  it("decides what is overdue", () => {
    expect(isOverdue("2026-11-23", afterMidnightInTehran)).toBe(true);
    expect(isOverdue("2026-11-24", afterMidnightInTehran)).toBe(false);
    expect(isOverdue(null, afterMidnightInTehran)).toBe(false);
  });

  it("shows today as every other date is shown", () => {
    expect(jalaliDisplay(todayJalali(new Date(2026, 10, 24)))).toBe("۱۴۰۵/۰۹/۰۳");
  });
});
