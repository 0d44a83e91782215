// Screens loaded when first needed rather than with the lock screen: the less script the window
// parses before it can show the lock screen, the sooner it shows (issue 12: launch to the first
// caseload page under a second). Vite makes each `import()` a chunk of its own.
import type { ComponentType, FunctionComponent } from "preact";
import { useEffect, useState } from "preact/hooks";
import type { UiError } from "./api";
import { LoadError } from "./components/Errors";

export interface Lazy<P> extends FunctionComponent<P> {
  /** Loads the component's code now (once), so that showing it later waits for nothing. */
  preload: () => Promise<ComponentType<P>>;
}

/** A component whose code is loaded by `load` the first time it is shown or preloaded. Until
 * then it shows nothing; a chunk that fails to load says so, with a way to try again. */
export function lazy<P extends object>(load: () => Promise<ComponentType<P>>): Lazy<P> {
  let loaded: ComponentType<P> | undefined;
  let pending: Promise<ComponentType<P>> | undefined;
  const preload = () => {
    pending ??= load().then(
      (component) => {
        loaded = component;
        return component;
      },
      (e) => {
        // Not kept: trying again loads again.
        pending = undefined;
        throw e;
      },
    );
    return pending;
  };
  const Component = (props: P) => {
    // Renders again once the code is in (`loaded` is shared by every instance).
    const [, setShown] = useState(false);
    const [error, setError] = useState<UiError | null>(null);
    const [attempt, setAttempt] = useState(0);
    useEffect(() => {
      if (loaded) return;
      preload().then(
        () => setShown(true),
        (e) => setError({ code: "internal", field: null, message: String(e), message_fa: null }),
      );
    }, [attempt]);
    if (error) {
      const retry = () => {
        setError(null);
        setAttempt((a) => a + 1);
      };
      return <LoadError error={error} retry={retry} />;
    }
    const Shown = loaded;
    return Shown ? <Shown {...props} /> : null;
  };
  return Object.assign(Component, { preload });
}
