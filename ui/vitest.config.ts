// Unit and component tests: a DOM (happy-dom) and Iran's time zone, so that tests of "today"
// and "overdue" run where the app's users are (UTC+3:30) whatever the machine's zone.
import { defineConfig, mergeConfig } from "vitest/config";
import viteConfig from "./vite.config";

process.env.TZ = "Asia/Tehran";

export default mergeConfig(
  viteConfig,
  defineConfig({
    test: {
      environment: "happy-dom",
      include: ["src/**/*.test.{ts,tsx}"],
      setupFiles: ["src/test/setup.ts"],
    },
  }),
);
