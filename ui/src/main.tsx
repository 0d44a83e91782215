// Mounts the field worker's app; the screens live in screens/, shared parts in components/.
import "vazirmatn/Vazirmatn-font-face.css";
import "./style.css";
import { render } from "preact";
import { App } from "./App";
import { setLanguage } from "./i18n";

setLanguage("fa");
const root = document.getElementById("app");
if (root) render(<App />, root);
