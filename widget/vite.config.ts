// One self-contained IIFE (`dist/widget.js`) that a website loads with a plain <script> tag:
// no chunks, no CSS files, no runtime dependencies.
import { defineConfig } from "vitest/config";

/**
 * The widget's CSS is a template string in `styles.ts` (adopted as a constructed stylesheet), so
 * no CSS minifier sees it: squeeze it here. Only whitespace around `{};,` and after a declaration's
 * colon goes, with each block's last `;` and the 0 of `0.5`; a space before a colon (a descendant
 * `:focus`) stays.
 */
function compactWidgetCss() {
  return {
    name: "compact-widget-css",
    transform(code: string, id: string) {
      if (!id.endsWith("/src/styles.ts")) return null;
      return code.replace(/`[^`]*`/, (css) =>
        css
          .replace(/\n\s*/g, "")
          .replace(/\s*([{};,])\s*/g, "$1")
          .replace(/([a-z-]):\s+/g, "$1:")
          .replace(/;}/g, "}")
          .replace(/([\s:,(])0\./g, "$1."),
      );
    },
  };
}

export default defineConfig({
  plugins: [compactWidgetCss()],
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
