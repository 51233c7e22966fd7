import { describe, expect, it } from "vitest";
import { EMOJI, EMOJI_COLUMNS, insertAtCaret, moveInGrid } from "../src/emoji";

describe("emoji picker rules (B32)", () => {
  it("moves through the grid without leaving it", () => {
    const count = EMOJI.length;
    expect(count).toBe(40);
    expect(moveInGrid(0, "ArrowLeft", count)).toBe(0);
    expect(moveInGrid(0, "ArrowUp", count)).toBe(0);
    expect(moveInGrid(0, "ArrowDown", count)).toBe(EMOJI_COLUMNS);
    expect(moveInGrid(count - 1, "ArrowRight", count)).toBe(count - 1);
    expect(moveInGrid(count - 1, "ArrowDown", count)).toBe(count - 1);
    expect(moveInGrid(EMOJI_COLUMNS + 3, "Home", count)).toBe(EMOJI_COLUMNS);
    expect(moveInGrid(EMOJI_COLUMNS + 3, "End", count)).toBe(2 * EMOJI_COLUMNS - 1);
    expect(moveInGrid(3, "a", count)).toBeNull();
  });

  it("inserts over the selection, fires input, and respects maxlength", () => {
    const field = document.createElement("textarea");
    document.body.append(field);
    let inputs = 0;
    field.addEventListener("input", () => (inputs += 1));
    field.value = "I love it";
    field.setSelectionRange(2, 6);
    expect(insertAtCaret(field, "❤️")).toBe(true);
    expect(field.value).toBe("I ❤️ it");
    expect(inputs).toBe(1);
    field.maxLength = field.value.length + 1;
    expect(insertAtCaret(field, "🎉"), "two UTF-16 units do not fit in one").toBe(false);
    expect(field.value).toBe("I ❤️ it");
    field.remove();
  });
});
