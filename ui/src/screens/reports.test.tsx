// The reports screen with only Tauri's IPC mocked: the list of reports, the filter bar sent as
// the store takes it, a run drawn as chart and table, a filter the store refuses shown with its
// field marked, the empty state, exports with the saved path (and a failed one), the cohort box
// for the cohort report only, and the navigation entry for every role.
import { fireEvent, render, screen, waitFor, within } from "@testing-library/preact";
import { describe, expect, it } from "vitest";
import { App } from "../App";
import type { SyncView } from "../api";
import { ReportTable } from "../components/ReportTable";
import { setLanguage } from "../i18n";
import { asField, asSupervisor, fieldWorker, supervisorIdentity } from "../test/fixtures";
import { invalid, mockCommands } from "../test/ipc";
import { byDistrict, funnel, reportList } from "../test/reports";
import { WorkersProvider } from "../workers";
import { filterOfError, Reports } from "./Reports";

const options = { groups: ["jihadi-1", "jihadi-2"], districts: ["منطقه 3", "منطقه 7"], workers: ["w1", "w2"] };

function byTestId(id: string, root: ParentNode = document): HTMLElement {
  const found = root.querySelector<HTMLElement>(`[data-testid="${id}"]`);
  if (!found) throw new Error(`no ${id}`);
  return found;
}

function type(target: HTMLElement, value: string) {
  fireEvent.input(target, { target: { value } });
}

function choose(target: HTMLElement, value: string) {
  fireEvent.change(target, { target: { value } });
}

function show() {
  return render(
    <WorkersProvider identity={fieldWorker} standing={asField}>
      <Reports />
    </WorkersProvider>,
  );
}

describe("the reports screen", () => {
  it("lists the reports and chooses the first", async () => {
    mockCommands({ report_list: () => reportList, report_options: () => options });
    show();
    const item = await waitFor(() => byTestId("report-item-households-by-district"));
    expect(byTestId("reports-screen")).not.toBeNull();
    expect(item.textContent).toMatch(/خانوارها به تفکیک منطقه و نیاز/);
    expect(item.textContent).toMatch(/شمار خانوارهای هر منطقه/);
    expect(item.getAttribute("aria-current")).toBe("true");
    expect(byTestId("report-item-referral-funnel").getAttribute("aria-current")).toBeNull();
    // The selects offer the scope's choices, "all" first; the worker by name where known.
    await waitFor(() => expect(byTestId("filter-group").querySelectorAll("option").length).toBe(3));
    expect(byTestId("filter-district").querySelectorAll("option").length).toBe(3);
    const workers = [...byTestId("filter-worker").querySelectorAll("option")].map((o) => o.textContent);
    expect(workers).toEqual(["همه", "زهرا رضایی", "w2"]);
  });

  it("runs a report with the filter bar and shows its chart, filters and rows", async () => {
    const calls = mockCommands({
      report_list: () => reportList,
      report_options: () => options,
      run_report: () => funnel(),
    });
    show();
    fireEvent.click(await waitFor(() => byTestId("report-item-referral-funnel")));
    await waitFor(() => expect(byTestId("filter-group").querySelectorAll("option").length).toBe(3));
    choose(byTestId("filter-group"), "jihadi-1");
    choose(byTestId("filter-worker"), "w2");
    type(byTestId("filter-from"), "۱۴۰۴/۰۱/۰۱");
    type(byTestId("filter-to"), " ");
    fireEvent.click(byTestId("report-run"));
    const table = await waitFor(() => byTestId("report-table"));
    const run = calls.find((c) => c.cmd === "run_report");
    // Left empty is no filter (null), never ""; the cohort is not sent for another report.
    expect(run?.args).toEqual({
      code: "referral-funnel",
      filter: { group: "jihadi-1", district: null, worker: "w2", from: "۱۴۰۴/۰۱/۰۱", to: null, cohort: null },
    });
    const rows = table.querySelectorAll("tbody tr");
    expect(rows.length).toBe(2);
    const first = [...rows[0].querySelectorAll("td")].map((td) => td.textContent);
    expect(first).toEqual(["بانک ملی شعبه ۱۲", "۱۰", "۴", "۱", "۱۵۰٬۰۰۰٬۰۰۰", "۱۲٫۵", "۱۰٪"]);
    // A median that does not apply is a dash, not a zero.
    expect(rows[1].querySelector('[data-key="median_days_approved"]')?.textContent).toBe("—");
    expect(rows[1].querySelector('[data-key="amount"]')?.classList.contains("num")).toBe(true);
    expect(within(table).getByText("مبلغ پرداخت (ریال)")).not.toBeNull();
    const chart = byTestId("report-chart");
    expect(chart.querySelector("canvas")).not.toBeNull();
    expect(byTestId("report-filters").textContent).toMatch(/گروه:\s*jihadi-1/);
    expect(byTestId("report-count").textContent).toMatch(/۲ ردیف/);
  });

  it("shows a date the store does not read, with its field marked", async () => {
    mockCommands({
      report_list: () => reportList,
      report_options: () => options,
      run_report: () => {
        throw invalid("from" as never, "from: not a Jalali date: 1404/13/01", "تاریخ «از» درست نیست: ۱۴۰۴/۱۳/۰۱");
      },
    });
    show();
    await waitFor(() => byTestId("report-item-households-by-district"));
    type(byTestId("filter-from"), "1404/13/01");
    fireEvent.click(byTestId("report-run"));
    const alert = await waitFor(() => byTestId("report-error"));
    expect(alert.getAttribute("role")).toBe("alert");
    expect(alert.textContent).toMatch(/گزارش تهیه نشد/);
    expect(alert.textContent).toMatch(/تاریخ «از» درست نیست/);
    expect(byTestId("filter-from").getAttribute("aria-invalid")).toBe("true");
    expect(byTestId("filter-to").getAttribute("aria-invalid")).toBeNull();
    expect(document.querySelector('[data-testid="report-table"]')).toBeNull();
    // What was typed is kept for correcting.
    expect((byTestId("filter-from") as HTMLInputElement).value).toBe("1404/13/01");
  });

  it("says so when no rows match the filters", async () => {
    mockCommands({
      report_list: () => reportList,
      report_options: () => options,
      run_report: () => byDistrict({ rows: [] }),
    });
    show();
    await waitFor(() => byTestId("report-item-households-by-district"));
    fireEvent.click(byTestId("report-run"));
    const empty = await waitFor(() => byTestId("report-empty"));
    expect(empty.textContent).toBe("برای این فیلترها ردیفی نیست.");
    expect(document.querySelector('[data-testid="report-table"]')).toBeNull();
    expect(document.querySelector('[data-testid="report-chart"]')).toBeNull();
  });

  it("exports what was run and shows where the file was saved", async () => {
    let fail = false;
    const calls = mockCommands({
      report_list: () => reportList,
      report_options: () => options,
      run_report: () => byDistrict(),
      export_report: ({ format }) => {
        if (fail) throw { code: "storage", field: null, message: "disk full", message_fa: null };
        return `/home/zahra/Documents/households-by-district.${format}`;
      },
    });
    show();
    await waitFor(() => byTestId("report-item-households-by-district"));
    choose(byTestId("filter-district"), "منطقه 3");
    fireEvent.click(byTestId("report-run"));
    await waitFor(() => byTestId("report-table"));
    // A change to the bar after the run does not change what is exported.
    choose(byTestId("filter-district"), "منطقه 7");
    fireEvent.click(byTestId("export-xlsx"));
    const path = await waitFor(() => byTestId("export-path"));
    expect(path.textContent).toBe("/home/zahra/Documents/households-by-district.xlsx");
    const exported = calls.find((c) => c.cmd === "export_report");
    expect(exported?.args).toEqual({
      code: "households-by-district",
      filter: { group: null, district: "منطقه 3", worker: null, from: null, to: null, cohort: null },
      format: "xlsx",
    });
    fireEvent.click(byTestId("export-csv"));
    await waitFor(() => expect(byTestId("export-path").textContent).toMatch(/\.csv$/));
    fail = true;
    fireEvent.click(byTestId("export-csv"));
    const error = await waitFor(() => byTestId("export-error"));
    expect(error.textContent).toMatch(/خروجی ذخیره نشد/);
    expect(error.textContent).toMatch(/disk full/);
    expect(document.querySelector('[data-testid="export-path"]')).toBeNull();
  });

  it("offers the cohort box for the cohort report only, and sends it", async () => {
    const calls = mockCommands({
      report_list: () => reportList,
      report_options: () => options,
      run_report: () => byDistrict({ report: "cohort", chart: null }),
    });
    show();
    await waitFor(() => byTestId("report-item-households-by-district"));
    expect(document.querySelector('[data-testid="filter-cohort"]')).toBeNull();
    fireEvent.click(byTestId("report-item-cohort"));
    const cohort = await waitFor(() => byTestId("filter-cohort"));
    type(cohort, "0190b7c4, 0190b7c5\n0190b7c6");
    fireEvent.click(byTestId("report-run"));
    await waitFor(() => byTestId("report-table"));
    expect(calls.find((c) => c.cmd === "run_report")?.args.filter).toMatchObject({
      cohort: "0190b7c4, 0190b7c5\n0190b7c6",
    });
    // No chart hint: the table alone.
    expect(document.querySelector('[data-testid="report-chart"]')).toBeNull();
    fireEvent.click(byTestId("report-item-referral-funnel"));
    await waitFor(() => expect(document.querySelector('[data-testid="filter-cohort"]')).toBeNull());
    // Another report's result is not left on screen under a different title.
    expect(document.querySelector('[data-testid="report-table"]')).toBeNull();
  });

  it("shows a list that failed to load, with a retry", async () => {
    let failures = 1;
    mockCommands({
      report_list: () => {
        if (failures-- > 0) throw { code: "locked", field: null, message: "the store is locked", message_fa: null };
        return reportList;
      },
      report_options: () => options,
    });
    show();
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toMatch(/the store is locked/);
    fireEvent.click(screen.getByRole("button", { name: "تلاش دوباره" }));
    await waitFor(() => byTestId("report-item-cohort"));
  });

  it("shows English headers and titles in the English interface", async () => {
    setLanguage("en");
    mockCommands({
      report_list: () => reportList,
      report_options: () => options,
      run_report: () => funnel(),
    });
    show();
    fireEvent.click(await waitFor(() => byTestId("report-item-referral-funnel")));
    expect(byTestId("report-item-referral-funnel").textContent).toBe("Referral funnel per partner");
    fireEvent.click(byTestId("report-run"));
    const table = await waitFor(() => byTestId("report-table"));
    expect([...table.querySelectorAll("th")].map((th) => th.textContent)).toContain("Amount paid (rials)");
  });
});

describe("the report table", () => {
  it("sorts by a header, numbers by value, and keeps empty cells last", () => {
    render(<ReportTable table={funnel()} lang="fa" />);
    const cells = (key: string) =>
      [...document.querySelectorAll(`tbody td[data-key="${key}"]`)].map((td) => td.textContent);
    const header = (key: string) => document.querySelector(`th[data-key="${key}"] button`) as HTMLElement;
    fireEvent.click(header("sent"));
    expect(cells("sent")).toEqual(["۵", "۱۰"]);
    expect(document.querySelector('th[data-key="sent"]')?.getAttribute("aria-sort")).toBe("ascending");
    fireEvent.click(header("sent"));
    expect(cells("sent")).toEqual(["۱۰", "۵"]);
    fireEvent.click(header("median_days_approved"));
    expect(cells("median_days_approved")).toEqual(["۱۲٫۵", "—"]);
    fireEvent.click(header("median_days_approved"));
    expect(cells("median_days_approved")).toEqual(["۱۲٫۵", "—"]);
  });
});

describe("filterOfError", () => {
  it("finds the filter an error names", () => {
    expect(filterOfError("from")).toBe("from");
    expect(filterOfError("date_to")).toBe("to");
    expect(filterOfError("report_cohort")).toBe("cohort");
    expect(filterOfError("household")).toBeNull();
    expect(filterOfError(null)).toBeNull();
  });
});

describe("the navigation", () => {
  const local: SyncView = { state: "local", pending_changes: 0, last_sync_at: null, last_error: null, held_back: 0 };

  for (const role of ["field", "supervisor"] as const) {
    it(`offers the reports to a ${role} and opens them`, async () => {
      mockCommands({
        lock_state: () => ({ state: "unlocked", min_length: 10, wait_seconds: 0 }),
        identity: () => (role === "field" ? fieldWorker : supervisorIdentity),
        standing: () => (role === "field" ? asField : asSupervisor),
        sync_status: () => local,
        list_households: () => ({ items: [], more: false }),
        caseloads: () => [],
        report_list: () => reportList,
        report_options: () => options,
      });
      render(<App />);
      const nav = await screen.findByRole("button", { name: /گزارش‌ها/ });
      expect(nav.id).toBe("nav-reports");
      fireEvent.click(nav);
      await waitFor(() => byTestId("report-item-cohort"));
      expect(nav.getAttribute("aria-current")).toBe("page");
    });
  }
});
