// One self-contained IIFE (`dist/widget.js`) that a website loads with a plain <script> tag:
// no chunks, no CSS files, no runtime dependencies.
import { defineConfig } from "vitest/config";

export default defineConfig({
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2020",
    minify: true,
    sourcemap: false,
    lib: {
      entry: "src/main.ts",
      formats: ["iife"],
      name: "SwitchboardWidget",
      fileName: () => "widget.js",
    },
  },
  test: {
    environment: "happy-dom",
    include: ["test/**/*.test.ts"],
    testTimeout: 20_000,
  },
});
