// What the end-to-end tests share: the built binaries, a real madadkar-server on loopback with
// its admin commands, replicas driven by the `madadkar` CLI, the real desktop app opened through
// tauri-driver (and WebKitWebDriver) on a data directory of the test's choosing, and the
// WebDriver steps the app's panels need.

import { execFileSync, spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { connect, createServer } from "node:net";
import path from "node:path";
import { remote } from "webdriverio";

export const root = path.resolve(import.meta.dirname, "../..");
const target = process.env.CARGO_TARGET_DIR ?? path.join(root, "target");
// The tests use the debug build; the launch bench (scripts/launch-bench.sh) sets "release".
const profile = process.env.MADADKAR_E2E_PROFILE ?? "debug";
export const bin = (name) => path.join(target, profile, name);
export const shots = path.join(root, "docs", "screenshots");

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

export function waitForPort(port, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const socket = connect(port, "127.0.0.1");
      socket.on("connect", () => {
        socket.end();
        resolve();
      });
      socket.on("error", () => {
        if (Date.now() > deadline) reject(new Error(`port ${port} never opened`));
        else setTimeout(attempt, 200);
      });
    };
    attempt();
  });
}

/** A madadkar-server with its data in `dir`: admin commands (JSON out) and the listening process. */
export class Server {
  constructor(dir) {
    this.dir = dir;
    this.process = undefined;
    this.port = undefined;
  }

  admin(...args) {
    return JSON.parse(
      execFileSync(bin("madadkar-server"), ["--data-dir", this.dir, "--json", ...args], { encoding: "utf8" }),
    );
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  async start() {
    this.port ??= await freePort();
    this.process = spawn(
      bin("madadkar-server"),
      ["--data-dir", this.dir, "serve", "--listen", `127.0.0.1:${this.port}`],
      { stdio: "ignore" },
    );
    await waitForPort(this.port);
  }

  stop() {
    const child = this.process;
    this.process = undefined;
    if (!child || child.exitCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      child.once("exit", resolve);
      child.kill("SIGKILL");
    });
  }
}

/** A replica driven by the `madadkar` CLI (`--json`), its store encrypted with `passphrase`. */
export class Cli {
  constructor(dir, passphrase) {
    this.dir = dir;
    this.passphrase = passphrase;
  }

  /** Runs a command; its JSON answer, or null when it printed none. */
  run(...args) {
    const out = execFileSync(bin("madadkar"), ["--data-dir", this.dir, "--json", ...args], {
      encoding: "utf8",
      env: { ...process.env, MADADKAR_PASSPHRASE: this.passphrase },
    });
    return out.trim() ? JSON.parse(out) : null;
  }

  /** Names the replica and enrols it with `server` as `worker` (an id from `worker add`). */
  enrol(server, worker, name) {
    mkdirSync(this.dir, { recursive: true });
    this.run("init", "--worker", name, "--device", `${name} laptop`);
    this.run("enroll", "--server", server.url, "--code", server.admin("enroll-code", worker).code);
  }
}

/** tauri-driver (and through it WebKitWebDriver) in a process group of its own, opening the app
 * on the replica in `dataDir`. */
export class Driver {
  constructor(dataDir) {
    this.dataDir = dataDir;
    this.process = undefined;
    this.port = undefined;
  }

  async start() {
    this.port = await freePort();
    const nativePort = await freePort();
    this.process = spawn("tauri-driver", ["--port", String(this.port), "--native-port", String(nativePort)], {
      env: { ...process.env, MADADKAR_DATA_DIR: this.dataDir },
      stdio: "ignore",
      detached: true,
    });
    await waitForPort(this.port);
  }

  stop() {
    if (!this.process) return;
    try {
      process.kill(-this.process.pid, "SIGKILL");
    } catch {
      // already gone
    }
    this.process = undefined;
  }

  /** Opens the app; on a loaded machine the first session can time out, so try again with a
   * fresh driver before giving up. */
  async open() {
    if (!this.process) await this.start();
    let lastError;
    for (let attempt = 1; attempt <= 3; attempt++) {
      try {
        return await remote({
          hostname: "127.0.0.1",
          port: this.port,
          logLevel: "error",
          connectionRetryTimeout: 90000,
          connectionRetryCount: 0,
          capabilities: { "tauri:options": { application: bin("madadkar-desktop") } },
        });
      } catch (e) {
        lastError = e;
        this.stop();
        await this.start();
      }
    }
    throw lastError;
  }
}

/** Clicks an element once it can be clicked, scrolled into the middle of its scrolling box
 * first (the app scrolls inside a panel, which WebDriver's own scrolling does not always reach). */
export async function click(element) {
  await element.waitForDisplayed({ timeout: 15000 });
  await element.scrollIntoView({ block: "center" });
  await element.waitForClickable({ timeout: 15000 });
  await element.click();
}

/** Brings an element into view in its scrolling box, ready for typing or choosing. */
export async function reach(element) {
  await element.waitForDisplayed({ timeout: 15000 });
  await element.scrollIntoView({ block: "center" });
  return element;
}

/** Empties a field so that the app sees it happen: WebDriver's clearValue fires no input event,
 * and the app's next render would put the old text back. */
export async function clear(browser, element) {
  await reach(element);
  await browser.execute((el) => {
    el.value = "";
    el.dispatchEvent(new Event("input", { bubbles: true }));
  }, element);
}

/** Waits for the lock screen (locked) and unlocks it with `passphrase`. */
export async function unlock(app, passphrase) {
  const lock = await app.$("#lock-screen");
  await lock.waitForDisplayed({ timeout: 30000 });
  if ((await lock.getAttribute("data-state")) !== "locked") {
    throw new Error(`the lock screen is ${await lock.getAttribute("data-state")}, not locked`);
  }
  await (await reach(await app.$("#passphrase"))).setValue(passphrase);
  await click(await app.$("#unlock"));
}

/** Saves a screenshot of the window as docs/screenshots/`name`.png. */
export async function shot(browser, name) {
  mkdirSync(shots, { recursive: true });
  await browser.pause(400);
  await browser.saveScreenshot(path.join(shots, `${name}.png`));
}

/** Waits until the status bar says every change reached the server. */
export async function synced(app, timeout = 60000) {
  const status = await app.$("#sync-status");
  await click(await app.$("#sync-now"));
  await app.waitUntil(
    async () =>
      (await status.getAttribute("data-state")) === "synced" && (await status.getAttribute("data-pending")) === "0",
    { timeout, timeoutMsg: "never synced" },
  );
}

/** Calls one of the app's commands from its window, as the UI does; resolves to its answer, or
 * rejects with the command's error. */
export async function invoke(browser, command, args = {}) {
  const answer = await browser.execute(
    (cmd, a) =>
      window.__TAURI_INTERNALS__.invoke(cmd, a).then(
        (value) => ({ value }),
        (error) => ({ error: JSON.stringify(error) }),
      ),
    command,
    args,
  );
  if (answer && "error" in answer) throw new Error(`${command}: ${answer.error}`);
  return answer?.value;
}
