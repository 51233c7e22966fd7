import { describe, expect, it } from "vitest";

// The widget runs inside other people's pages under their CSP and renders hostile text: no source
// file may parse markup from strings or evaluate code. Checked on the sources so the rule holds
// for code paths the other tests do not reach.
const sources = import.meta.glob<string>("../src/*.ts", { query: "?raw", import: "default", eager: true });

const FORBIDDEN: [RegExp, string][] = [
  [/\.innerHTML\b|\.outerHTML\b|insertAdjacentHTML|createContextualFragment|DOMParser/, "markup parsing"],
  [/\beval\s*\(|new\s+Function\s*\(|setTimeout\(\s*["'`]|setInterval\(\s*["'`]/, "string evaluation"],
  [/document\.write/, "document.write"],
  [/setAttribute\(\s*["'`]on|setAttribute\(\s*["'`]style/, "inline handlers or styles"],
];

describe("source policy", () => {
  it("finds the widget's sources", () => {
    expect(Object.keys(sources).length).toBeGreaterThanOrEqual(6);
  });

  for (const [path, text] of Object.entries(sources)) {
    it(`${path} parses no markup and evaluates no strings`, () => {
      for (const [pattern, what] of FORBIDDEN) {
        expect(pattern.test(text), `${path} uses ${what}`).toBe(false);
      }
    });
  }
});
