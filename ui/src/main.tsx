// Mounts the field worker's app; the screens live in screens/, shared parts in components/.
import "vazirmatn/Vazirmatn-font-face.css";
import "./style.css";
import { render } from "preact";
import { App } from "./App";
import { setLanguage } from "./i18n";
import { reportMark } from "./launch";

// The launch's mark of the page loaded and its script running (see launch.ts).
reportMark("script_started");
setLanguage("fa");
const root = document.getElementById("app");
if (root) render(<App />, root);
