// A report's table drawn as its chart hint says (bars, stacked bars, a line, a funnel), with
// Chart.js bundled into the app so it draws offline. Right to left for the Persian interface:
// the first row on the right, the value axis on the right, Persian digits, Jalali dates and the
// Vazirmatn font everywhere. `chartConfig` builds the whole configuration as a pure function,
// so what the chart says is tested without a canvas.
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  type ChartConfiguration,
  type ChartDataset,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  type TooltipItem,
} from "chart.js";
import { useEffect, useRef } from "preact/hooks";
import type { ChartKind, ColumnKind, Table } from "../api";
import { cellNumber, cellText, formatPercent, formatValue } from "../cells";
import { faDigits } from "../format";
import { type Language, language } from "../i18n";

// Only what these charts use, so the rest of Chart.js is left out of the bundle.
Chart.register(
  BarController,
  BarElement,
  LineController,
  LineElement,
  PointElement,
  CategoryScale,
  LinearScale,
  Legend,
  Tooltip,
);

/** The app's font (see style.css), bundled with the app. */
export const CHART_FONT = "Vazirmatn, 'DejaVu Sans', sans-serif";

/** Series colours that stay apart for the common kinds of colour blindness (Okabe–Ito), led by
 * the app's own green. */
const PALETTE = ["#106050", "#e69f00", "#56b4e9", "#cc79a7", "#009e73", "#d55e00", "#0072b2", "#8a6d3b"];

/** A funnel's stages from light to dark in the app's green: one colour per stage, and the eye
 * reads the order (sent → approved → disbursed) from the colour alone. */
export function stageColours(n: number): string[] {
  return Array.from({ length: n }, (_, i) => {
    const lightness = n === 1 ? 35 : Math.round(72 - (i * 50) / (n - 1));
    return `hsl(165, 60%, ${lightness}%)`;
  });
}

type Kind = "bar" | "line";
type Data = (number | null)[];
export type ReportChartConfig = ChartConfiguration<Kind, Data, string>;

const TEXT = {
  fa: {
    bar: "نمودار میله‌ای",
    stacked_bar: "نمودار میله‌ای انباشته",
    line: "نمودار خطی",
    funnel: "نمودار قیف",
    of: "از",
    previous: "از مرحلهٔ قبل",
    rows: "ردیف",
    more: "ردیف دیگر در جدول",
    list: "، ",
    rowSep: "؛ ",
  },
  en: {
    bar: "Bar chart",
    stacked_bar: "Stacked bar chart",
    line: "Line chart",
    funnel: "Funnel chart",
    of: "of",
    previous: "of the previous stage",
    rows: "rows",
    more: "more rows in the table",
    list: ", ",
    rowSep: "; ",
  },
} as const;

/** The kind the value axis is labelled in: the series' own when they share one (counts,
 * rials, shares), otherwise plain numbers. */
function axisKind(kinds: readonly ColumnKind[]): ColumnKind {
  return kinds.length > 0 && kinds.every((k) => k === kinds[0]) ? kinds[0] : "decimal";
}

/** The chart of `table` as Chart.js takes it, or null when the table has no chart hint. */
export function chartConfig(table: Table, lang: Language, compact = false): ReportChartConfig | null {
  const hint = table.chart;
  if (!hint) return null;
  const rtl = lang === "fa";
  const text = TEXT[lang];
  const font = { family: CHART_FONT };
  const series = hint.series_columns.filter((c) => c < table.columns.length);
  const kinds = series.map((c) => table.columns[c].kind);
  const yKind = axisKind(kinds);
  const labels = table.rows.map((row) => (row[hint.label_column] ? cellText(row[hint.label_column]) : ""));
  const colours =
    hint.kind === "funnel" ? stageColours(series.length) : series.map((_, i) => PALETTE[i % PALETTE.length]);
  const type: Kind = hint.kind === "line" ? "line" : "bar";
  const stacked = hint.kind === "stacked_bar";
  const datasets: ChartDataset<Kind, Data>[] = series.map((c, i) => {
    const column = table.columns[c];
    const common = {
      label: lang === "fa" ? column.fa : column.en,
      // An empty cell is a gap, never a zero.
      data: table.rows.map((row) => cellNumber(row[c])),
      backgroundColor: colours[i],
      borderColor: colours[i],
    };
    return type === "line"
      ? { ...common, fill: false, spanGaps: false, tension: 0, pointRadius: compact ? 2 : 3, borderWidth: 2 }
      : { ...common, borderWidth: 0, ...(stacked ? { stack: "all" } : {}) };
  });
  const tooltipLabel = (item: TooltipItem<Kind>): string => {
    const value = item.parsed.y;
    if (value === null || value === undefined || Number.isNaN(value)) return "";
    let line = `${item.dataset.label ?? ""}: ${formatValue(value, kinds[item.datasetIndex] ?? yKind)}`;
    // A funnel stage after the first says how much of the stage before it came through.
    if (hint.kind === "funnel" && item.datasetIndex > 0) {
      const before = datasets[item.datasetIndex - 1].data[item.dataIndex];
      if (typeof before === "number" && before > 0) line += ` (${formatPercent(value / before)} ${text.previous})`;
    }
    return line;
  };
  return {
    type,
    data: { labels, datasets },
    options: {
      locale: rtl ? "fa-IR" : "en",
      responsive: true,
      maintainAspectRatio: false,
      // Drawn at once: nothing moves for people who asked for less motion, and a screenshot
      // shows the finished chart.
      animation: false,
      font,
      interaction: { mode: "index", intersect: false },
      scales: {
        x: {
          // The first row on the right, where a right-to-left reader starts.
          reverse: rtl,
          // Every row in the middle of its own slot, a line's points too: the first and last
          // labels are not cut in half at the edges.
          offset: true,
          stacked,
          grid: { display: !compact },
          ticks: { font, autoSkip: true, maxRotation: compact ? 0 : 50 },
        },
        y: {
          position: rtl ? "right" : "left",
          stacked,
          beginAtZero: true,
          ticks: {
            font,
            maxTicksLimit: compact ? 4 : 8,
            // Whole counts and rials have no ticks between them.
            precision: yKind === "int" || yKind === "money" ? 0 : undefined,
            callback: (value) => formatValue(Number(value), yKind),
          },
        },
      },
      plugins: {
        legend: {
          display: !compact,
          position: "top",
          rtl,
          textDirection: rtl ? "rtl" : "ltr",
          // A line's series by a point, a bar's by a box.
          labels: { font, usePointStyle: type === "line", ...(type === "line" ? { boxHeight: 8 } : {}) },
        },
        tooltip: {
          rtl,
          textDirection: rtl ? "rtl" : "ltr",
          // Each line against its colour box (Chart.js leaves the body on the left otherwise).
          bodyAlign: rtl ? "right" : "left",
          titleFont: font,
          bodyFont: font,
          footerFont: font,
          callbacks: {
            title: (items) => (items.length > 0 ? faDigits(items[0].label) : ""),
            label: tooltipLabel,
          },
        },
      },
    },
  };
}

/** The chart said in words, for screen readers: what is drawn and its values (the first rows;
 * the table has the rest). */
export function chartSummary(table: Table, lang: Language, limit = 12): string {
  const hint = table.chart;
  if (!hint) return "";
  const text = TEXT[lang];
  const title = lang === "fa" ? table.title_fa : table.title_en;
  const series = hint.series_columns.filter((c) => c < table.columns.length);
  const names = series.map((c) => (lang === "fa" ? table.columns[c].fa : table.columns[c].en));
  const head = `${title}: ${text[hint.kind as ChartKind]} ${text.of} ${names.join(text.list)} (${faDigits(table.rows.length)} ${text.rows})`;
  const rows = table.rows.slice(0, limit).map((row) => {
    const label = row[hint.label_column] ? cellText(row[hint.label_column]) : "";
    const values = series.map((c, i) => `${names[i]} ${row[c] ? cellText(row[c]) : ""}`);
    return `${label}: ${values.join(text.list)}`;
  });
  const rest = table.rows.length > limit ? [`${faDigits(table.rows.length - limit)} ${text.more}`] : [];
  return [head, ...rows, ...rest].join(text.rowSep);
}

/** Draws `table` by its chart hint; nothing when it has none. `compact`: a small inline chart
 * without a legend (the household page's need scores over time). */
export function ReportChart({ table, compact = false, lang }: { table: Table; compact?: boolean; lang?: Language }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const shown = lang ?? language();
  // A new chart for every new table (or language); the old one is destroyed with its listeners.
  useEffect(() => {
    const config = chartConfig(table, shown, compact);
    const target = canvas.current;
    if (!config || !target) return;
    let chart: Chart<Kind, Data, string> | undefined;
    try {
      // A canvas without a 2D context (a test's DOM, a webview without one): the canvas and its
      // text alternative stay, the picture is left out.
      if (target.getContext("2d")) chart = new Chart(target, config);
    } catch {
      chart = undefined;
    }
    return () => chart?.destroy();
  }, [table, shown, compact]);
  if (!table.chart) return null;
  return (
    <figure class={`report-chart${compact ? " compact" : ""}`} data-testid="report-chart" data-kind={table.chart.kind}>
      <div class="chart-box">
        <canvas ref={canvas} role="img" aria-label={chartSummary(table, shown)} />
      </div>
    </figure>
  );
}
