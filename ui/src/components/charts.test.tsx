// What a report's chart says, read from its Chart.js configuration (no canvas needed): right to
// left for Persian, Persian digits on every tick, tooltip and label, Jalali dates on a date
// axis, a gap (never a zero) for an empty cell, stacking, and a funnel's stages in order with a
// colour each. Then the component under happy-dom, whose canvas has no 2D context.
import { render } from "@testing-library/preact";
import type { TooltipItem } from "chart.js";
import { describe, expect, it } from "vitest";
import { byDistrict, funnel, needsOverTime } from "../test/reports";
import { CHART_FONT, chartConfig, chartSummary, ReportChart, type ReportChartConfig } from "./ReportChart";

const LATIN_DIGIT = /[0-9]/;

function config(c: ReportChartConfig | null): ReportChartConfig {
  if (!c) throw new Error("no chart");
  return c;
}

/** The value axis' tick label of `value`, as Chart.js would ask for it. */
function yTick(c: ReportChartConfig, value: number): string {
  const callback = c.options?.scales?.y?.ticks?.callback;
  if (!callback) throw new Error("no tick callback");
  return String(callback.call({} as never, value, 0, []));
}

/** The tooltip's line for dataset `datasetIndex` at row `dataIndex`. */
function tooltipLine(c: ReportChartConfig, datasetIndex: number, dataIndex: number): string {
  const label = c.options?.plugins?.tooltip?.callbacks?.label;
  if (!label) throw new Error("no tooltip label callback");
  const dataset = c.data.datasets[datasetIndex];
  const item = {
    dataset,
    datasetIndex,
    dataIndex,
    parsed: { x: dataIndex, y: dataset.data[dataIndex] },
    label: String(c.data.labels?.[dataIndex] ?? ""),
  } as unknown as TooltipItem<"bar" | "line">;
  return String(label.call({} as never, item));
}

function tooltipTitle(c: ReportChartConfig, label: string): string {
  const title = c.options?.plugins?.tooltip?.callbacks?.title;
  if (!title) throw new Error("no tooltip title callback");
  return String(title.call({} as never, [{ label } as TooltipItem<"bar" | "line">]));
}

describe("chartConfig", () => {
  it("draws right to left for the Persian interface, and left to right for the English one", () => {
    const fa = config(chartConfig(byDistrict(), "fa"));
    expect(fa.options?.scales?.x?.reverse).toBe(true);
    expect(fa.options?.scales?.y?.position).toBe("right");
    expect(fa.options?.plugins?.legend?.rtl).toBe(true);
    expect(fa.options?.plugins?.legend?.textDirection).toBe("rtl");
    expect(fa.options?.plugins?.tooltip?.rtl).toBe(true);
    expect(fa.options?.plugins?.tooltip?.textDirection).toBe("rtl");
    expect(fa.options?.plugins?.tooltip?.bodyAlign).toBe("right");
    const en = config(chartConfig(byDistrict(), "en"));
    expect(en.options?.scales?.x?.reverse).toBe(false);
    expect(en.options?.scales?.y?.position).toBe("left");
    expect(en.options?.plugins?.legend?.rtl).toBe(false);
  });

  it("writes every tick, tooltip and label in Persian digits", () => {
    const c = config(chartConfig(byDistrict(), "fa"));
    expect(yTick(c, 1234)).toBe("۱٬۲۳۴");
    expect(yTick(c, 0)).toBe("۰");
    // Text labels carry their digits in Persian too.
    expect(c.data.labels).toEqual(["منطقه ۳", "منطقه ۷"]);
    expect(tooltipLine(c, 0, 1)).toBe("نیاز کم: ۱٬۲۳۴");
    expect(tooltipTitle(c, "منطقه 7")).toBe("منطقه ۷");
    for (const s of [yTick(c, 98765), tooltipLine(c, 1, 0), ...(c.data.labels ?? []).map(String)]) {
      expect(s).not.toMatch(LATIN_DIGIT);
    }
  });

  it("labels a rials axis with thousands separators and a share axis as percentages", () => {
    const rials = funnel({ chart: { kind: "bar", label_column: 0, series_columns: [4] } });
    expect(yTick(config(chartConfig(rials, "fa")), 150000000)).toBe("۱۵۰٬۰۰۰٬۰۰۰");
    const shares = funnel({ chart: { kind: "bar", label_column: 0, series_columns: [6] } });
    const c = config(chartConfig(shares, "fa"));
    expect(yTick(c, 0.125)).toBe("۱۲٫۵٪");
    expect(yTick(c, 0.5)).toBe("۵۰٪");
    expect(tooltipLine(c, 0, 0)).toBe("سهم پرداخت: ۱۰٪");
    // Whole counts and rials have no ticks between them.
    expect(config(chartConfig(rials, "fa")).options?.scales?.y?.ticks).toMatchObject({ precision: 0 });
  });

  it("puts a date column on a Jalali axis", () => {
    const c = config(chartConfig(needsOverTime(), "fa"));
    expect(c.type).toBe("line");
    expect(c.data.labels).toEqual(["۱۴۰۴/۰۱/۰۱", "۱۴۰۴/۰۴/۰۱", "۱۴۰۴/۰۸/۱۵"]);
  });

  it("leaves a gap for an empty cell, never a zero", () => {
    const c = config(chartConfig(needsOverTime(), "fa"));
    const income = c.data.datasets[0];
    expect(income.data).toEqual([3, null, 1]);
    expect(c.data.datasets[1].data).toEqual([2, 2.5, 0]);
    // The line breaks at the gap instead of joining over it.
    expect(income).toMatchObject({ spanGaps: false });
    expect((income as { pointRadius?: number }).pointRadius).toBeGreaterThan(0);
    expect(tooltipLine(c, 0, 1)).toBe("");
    // The first and last dates sit inside the chart, not on its edges.
    expect(c.options?.scales?.x).toMatchObject({ offset: true });
  });

  it("stacks a stacked bar chart, and only that", () => {
    const stacked = config(chartConfig(byDistrict(), "fa"));
    expect(stacked.type).toBe("bar");
    expect(stacked.options?.scales?.x?.stacked).toBe(true);
    expect(stacked.options?.scales?.y?.stacked).toBe(true);
    const side = config(
      chartConfig(byDistrict({ chart: { kind: "bar", label_column: 0, series_columns: [1, 2] } }), "fa"),
    );
    expect(side.options?.scales?.x?.stacked).toBe(false);
    expect(side.options?.scales?.y?.stacked).toBe(false);
  });

  it("draws a funnel's stages in the hint's order, a colour each, with what came through", () => {
    const c = config(chartConfig(funnel(), "fa"));
    expect(c.type).toBe("bar");
    expect(c.data.datasets.map((d) => d.label)).toEqual(["ارسال‌شده", "تأییدشده", "پرداخت‌شده"]);
    expect(c.data.datasets.map((d) => d.data)).toEqual([
      [10, 5],
      [4, 0],
      [1, 0],
    ]);
    const colours = c.data.datasets.map((d) => d.backgroundColor);
    expect(new Set(colours).size).toBe(3);
    // Stage order is the hint's, not the columns' order in the table.
    const reordered = config(
      chartConfig(funnel({ chart: { kind: "funnel", label_column: 0, series_columns: [3, 1] } }), "fa"),
    );
    expect(reordered.data.datasets.map((d) => d.label)).toEqual(["پرداخت‌شده", "ارسال‌شده"]);
    // 4 of the 10 sent were approved.
    expect(tooltipLine(c, 1, 0)).toBe("تأییدشده: ۴ (۴۰٪ از مرحلهٔ قبل)");
    // Nothing came before the first stage; nothing to divide by when no referral was approved.
    expect(tooltipLine(c, 0, 0)).toBe("ارسال‌شده: ۱۰");
    expect(tooltipLine(c, 2, 1)).toBe("پرداخت‌شده: ۰");
  });

  it("names each series by its column's header in the interface's language", () => {
    expect(config(chartConfig(byDistrict(), "fa")).data.datasets.map((d) => d.label)).toEqual(["نیاز کم", "نیاز بالا"]);
    expect(config(chartConfig(byDistrict(), "en")).data.datasets.map((d) => d.label)).toEqual([
      "Low need",
      "High need",
    ]);
  });

  it("uses the app's font everywhere it writes", () => {
    const o = config(chartConfig(funnel(), "fa")).options;
    expect(o?.scales?.x?.ticks?.font).toMatchObject({ family: CHART_FONT });
    expect(o?.scales?.y?.ticks?.font).toMatchObject({ family: CHART_FONT });
    expect(o?.plugins?.legend?.labels?.font).toMatchObject({ family: CHART_FONT });
    expect(o?.plugins?.tooltip?.bodyFont).toMatchObject({ family: CHART_FONT });
    expect(CHART_FONT).toMatch(/^Vazirmatn/);
  });

  it("has no legend when compact", () => {
    expect(config(chartConfig(needsOverTime(), "fa", true)).options?.plugins?.legend?.display).toBe(false);
    expect(config(chartConfig(needsOverTime(), "fa")).options?.plugins?.legend?.display).toBe(true);
  });

  it("is nothing for a table without a chart hint", () => {
    expect(chartConfig(funnel({ chart: null }), "fa")).toBeNull();
    expect(chartSummary(funnel({ chart: null }), "fa")).toBe("");
  });
});

describe("ReportChart", () => {
  it("renders its canvas and a text alternative where the canvas cannot draw", () => {
    render(<ReportChart table={funnel()} lang="fa" />);
    const figure = document.querySelector<HTMLElement>('[data-testid="report-chart"]');
    expect(figure).not.toBeNull();
    const canvas = figure?.querySelector("canvas");
    expect(canvas?.getAttribute("role")).toBe("img");
    const summary = canvas?.getAttribute("aria-label") ?? "";
    expect(summary).toMatch(/قیف معرفی‌ها/);
    expect(summary).toMatch(/ارسال‌شده ۱۰/);
    expect(summary).toMatch(/بانک ملی شعبه ۱۲/);
    expect(summary).not.toMatch(LATIN_DIGIT);
  });

  it("says a gap as a dash, and leaves the rest of a long table to the table", () => {
    const many = needsOverTime({
      rows: Array.from({ length: 15 }, () => needsOverTime().rows[1]),
    });
    const summary = chartSummary(many, "fa", 12);
    expect(summary).toMatch(/درآمد —/);
    expect(summary).toMatch(/۳ ردیف دیگر در جدول/);
  });

  it("draws nothing for a table without a chart hint", () => {
    render(<ReportChart table={funnel({ chart: null })} lang="fa" />);
    expect(document.querySelector('[data-testid="report-chart"]')).toBeNull();
  });

  it("is small and marked compact for an inline chart, and is drawn again for new data", () => {
    const { rerender } = render(<ReportChart table={needsOverTime()} lang="fa" compact />);
    const figure = document.querySelector('[data-testid="report-chart"]');
    expect(figure?.classList.contains("compact")).toBe(true);
    rerender(<ReportChart table={needsOverTime({ rows: [] })} lang="fa" compact />);
    expect(document.querySelector("canvas")?.getAttribute("aria-label")).toMatch(/۰ ردیف/);
  });
});
