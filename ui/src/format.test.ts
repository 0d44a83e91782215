import { describe, expect, it } from "vitest";
import { faDigits, jalali, latinDigits, normaliseJalali, todayJalali, jalaliToIso } from "./format";

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
