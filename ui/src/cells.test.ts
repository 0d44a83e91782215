// How report values read: Persian digits and separators, rials, percentages from shares, Jalali
// dates, a dash for a value that does not apply, and ids left as they are.
import { describe, expect, it } from "vitest";
import { cellNumber, cellText, faText, formatMoney, formatNumber, formatPercent, sortRows } from "./cells";
import { date, decimal, empty, int, money, percent, text } from "./test/reports";

describe("report values", () => {
  it("writes numbers with Persian digits and separators", () => {
    expect(formatNumber(0)).toBe("۰");
    expect(formatNumber(999)).toBe("۹۹۹");
    expect(formatNumber(1000)).toBe("۱٬۰۰۰");
    expect(formatNumber(1234567.891, 2)).toBe("۱٬۲۳۴٬۵۶۷٫۸۹");
    expect(formatNumber(2.5, 2)).toBe("۲٫۵");
    expect(formatNumber(-1500)).toBe("−۱٬۵۰۰");
    // What rounds to zero has no sign.
    expect(formatNumber(-0.001, 2)).toBe("۰");
    expect(formatNumber(Number.NaN)).toBe("—");
  });

  it("writes rials whole and shares as percentages", () => {
    expect(formatMoney(150000000)).toBe("۱۵۰٬۰۰۰٬۰۰۰");
    expect(formatMoney(1999.6)).toBe("۲٬۰۰۰");
    expect(formatPercent(0.125)).toBe("۱۲٫۵٪");
    expect(formatPercent(1)).toBe("۱۰۰٪");
    expect(formatPercent(0)).toBe("۰٪");
    expect(formatPercent(1 / 3)).toBe("۳۳٫۳٪");
  });

  it("writes each kind of cell, a dash for an empty one", () => {
    expect(cellText(empty)).toBe("—");
    expect(cellText(int(42))).toBe("۴۲");
    expect(cellText(money(2500000))).toBe("۲٬۵۰۰٬۰۰۰");
    expect(cellText(decimal(1.456))).toBe("۱٫۴۶");
    expect(cellText(percent(0.4))).toBe("۴۰٪");
    expect(cellText(date("2025-03-21"))).toBe("۱۴۰۴/۰۱/۰۱");
    expect(cellText(text("منطقه 3"))).toBe("منطقه ۳");
  });

  it("leaves text with Latin letters (ids, codes) as it is", () => {
    expect(faText("0190b7c4")).toBe("0190b7c4");
    expect(faText("w12")).toBe("w12");
    expect(faText("1404/01")).toBe("۱۴۰۴/۰۱");
  });

  it("gives a chart a number only where there is one", () => {
    expect(cellNumber(int(0))).toBe(0);
    expect(cellNumber(percent(0.5))).toBe(0.5);
    expect(cellNumber(empty)).toBeNull();
    expect(cellNumber(text("12"))).toBeNull();
    expect(cellNumber(date("2025-03-21"))).toBeNull();
    expect(cellNumber(undefined)).toBeNull();
  });

  it("sorts dates and text, with empty cells last", () => {
    const rows = [[date("2025-06-01")], [empty], [date("2025-01-01")]];
    expect(sortRows(rows, 0, false).map((r) => r[0])).toEqual([date("2025-01-01"), date("2025-06-01"), empty]);
    expect(sortRows(rows, 0, true).map((r) => r[0])).toEqual([date("2025-06-01"), date("2025-01-01"), empty]);
    const names = [[text("ب")], [text("آ")]];
    expect(sortRows(names, 0, false).map((r) => r[0])).toEqual([text("آ"), text("ب")]);
  });
});
