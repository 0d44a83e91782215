// Who the workers are, for showing names instead of ids: this replica's own worker always, and
// for a supervisor or a coordinator every worker in scope (from the caseloads, which list the
// server's directory). A failure to load leaves ids shown as they are.
import { type ComponentChildren, createContext } from "preact";
import { useContext, useEffect, useState } from "preact/hooks";
import { api, type Caseload, type Identity, type Standing } from "./api";

export interface Workers {
  /** Every worker in scope (one row per worker, with their group), by name. */
  list: Caseload[];
  /** A worker's name, or the id itself when unknown. */
  name: (id: string | null | undefined) => string;
  /** The groups in scope, for a coordinator's filters and reassignment. */
  groups: string[];
}

const NONE: Workers = { list: [], name: (id) => id ?? "", groups: [] };
const Context = createContext<Workers>(NONE);

export function useWorkers(): Workers {
  return useContext(Context);
}

/** Loads the workers once `ready` (the shell holds it back until the caseload's first page is
 * in, which goes to the store first); without `ready`, at once. */
export function WorkersProvider({
  identity,
  standing,
  ready = true,
  children,
}: {
  identity: Identity;
  standing: Standing;
  ready?: boolean;
  children: ComponentChildren;
}) {
  const [loads, setLoads] = useState<Caseload[]>([]);
  useEffect(() => {
    if (standing.role === "field" || !ready) return;
    api.caseloads().then(setLoads, () => setLoads([]));
  }, [standing.role, ready]);
  const names = new Map<string, string>();
  for (const l of loads) if (l.worker_id && l.worker_name) names.set(l.worker_id, l.worker_name);
  names.set(identity.worker_id, identity.worker_name);
  const list = loads
    .filter((l) => l.worker_id)
    .sort((a, b) => (a.worker_name ?? "").localeCompare(b.worker_name ?? "", "fa"));
  const groups = [...new Set(loads.map((l) => l.group_id).filter((g): g is string => !!g))].sort();
  const value: Workers = { list, name: (id) => (id ? (names.get(id) ?? id) : ""), groups };
  return <Context.Provider value={value}>{children}</Context.Provider>;
}
