// Mounts the field worker's app; the screens live in screens/, shared parts in components/.
import "vazirmatn/Vazirmatn-font-face.css";
import "./style.css";
import { render } from "preact";
import { App } from "./App";
import { api } from "./api";
import { setLanguage } from "./i18n";
import { reportMark } from "./launch";

// The launch's mark of the page loaded and its script running (see launch.ts).
reportMark("script_started");
setLanguage("fa");
const root = document.getElementById("app");
// The lock screen's state is asked for before anything renders, so the first render is the lock
// screen itself rather than an empty shell whose effect asks for it a frame later. If it
// cannot be read, the app asks again itself and shows the failure with a retry.
if (root) {
  api.lockState().then(
    (view) => render(<App opening={view} />, root),
    () => render(<App />, root),
  );
}
