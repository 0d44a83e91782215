import { defineConfig } from "vite";

// Preact through the bundler's automatic JSX runtime: no extra plugin needed.
export default defineConfig({
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: { outDir: "dist", target: "es2022", assetsInlineLimit: 0 },
});
