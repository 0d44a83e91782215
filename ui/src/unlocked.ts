// What the first screen after an unlock needs, asked for together the moment the store opens:
// the caseload's first page first (the store serves one command at a time, in turn, so what is
// asked first is served first), then who is working and in which role, then the drafts. The
// shell shows the workspace once they are in, so that its first render already holds the rows:
// no round trip waits on a render, and no render on a round trip (issue 12, docs/launch.md).
import { api, type Identity, type ListPage, type ListText, type Standing } from "./api";
import { drafts } from "./drafts";

/** The caseload's page: the rows a page of the list asks for. */
export const PAGE = 100;

/** The caseload's filters as it opens: none, by name. */
export const OPENING_FILTERS: ListText = {
  district: "",
  status: "",
  worker: "",
  overdue: false,
  min_need: "",
  sort: "name",
  conflicted: false,
};

/** What was read ahead. A read that failed is left out: the screen that needs it asks again,
 * and shows its error, as it would have without the read ahead. */
export interface Early {
  identity?: Identity | null;
  standing?: Standing;
  firstPage?: ListPage;
}

/** Reads what the first screen needs, with the drafts (which forms read as they render: their
 * failure is the unlock's), and waits for `also` too (the workspace's code). */
export async function readAhead(also: Promise<unknown>): Promise<Early> {
  const firstPage = api.list(OPENING_FILTERS, PAGE, 0);
  const who = Promise.all([api.identity(), api.standing()]);
  const [page, worker] = await Promise.allSettled([firstPage, who, drafts.load(), also]).then(
    ([page, worker, kept, code]) => {
      if (kept.status === "rejected") throw kept.reason;
      if (code.status === "rejected") throw code.reason;
      return [page, worker] as const;
    },
  );
  const early: Early = {};
  if (page.status === "fulfilled") early.firstPage = page.value;
  if (worker.status === "fulfilled") [early.identity, early.standing] = worker.value;
  return early;
}
