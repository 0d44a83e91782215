// Loading data for a screen: what came, what failed, and a way to load again. A failure is
// kept and shown, never swallowed.
import { useEffect, useRef, useState } from "preact/hooks";
import { asUiError, type UiError } from "../api";

export interface Loaded<T> {
  data: T | null;
  error: UiError | null;
  /** Loads again (after a failure, or after a save changed what is shown). */
  reload: () => void;
}

export function useLoad<T>(load: () => Promise<T>, deps: readonly unknown[]): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<UiError | null>(null);
  const [attempt, setAttempt] = useState(0);
  const generation = useRef(0);
  // The caller names what the load depends on; `attempt` changes to load again.
  useEffect(() => {
    const gen = ++generation.current;
    load()
      .then((value) => {
        if (gen !== generation.current) return;
        setData(value);
        setError(null);
      })
      .catch((e) => gen === generation.current && setError(asUiError(e)));
  }, [...deps, attempt]);
  return { data, error, reload: () => setAttempt((a) => a + 1) };
}
