// The composer's emoji picker (B32): a button and a small grid of common emoji, shown only while
// the live chat allows visitors emoji. Keyboard first: arrows move through the grid (one tab stop,
// roving tabindex), Enter or Space inserts, Escape closes and gives focus back to the button.
// An emoji goes in at the caret of the composer, replacing a selection, as if typed.

/** Forty common emoji: faces, hands, hearts and a few shop words; no skin-tone variants. */
export const EMOJI = [
  "😀", "😃", "😄", "😁", "😆", "😅", "😂", "🙂",
  "😉", "😊", "😍", "😘", "😎", "🤔", "😐", "😕",
  "😢", "😭", "😡", "😮", "😴", "🙄", "🙏", "👍",
  "👎", "👏", "🙌", "👋", "💪", "🤝", "❤️", "💔",
  "🎉", "✅", "❌", "⭐", "🔥", "💡", "📦", "🚚",
] as const;

export const EMOJI_COLUMNS = 8;

/** The cell focus moves to from `index` for `key` in a grid of `count` cells; null: not ours. */
export function moveInGrid(index: number, key: string, count: number, columns = EMOJI_COLUMNS): number | null {
  switch (key) {
    case "ArrowRight":
      return Math.min(index + 1, count - 1);
    case "ArrowLeft":
      return Math.max(index - 1, 0);
    case "ArrowDown":
      return index + columns < count ? index + columns : index;
    case "ArrowUp":
      return index >= columns ? index - columns : index;
    case "Home":
      return index - (index % columns);
    case "End":
      return Math.min(index - (index % columns) + columns - 1, count - 1);
    default:
      return null;
  }
}

/**
 * Puts `text` at the caret of `field` (over any selection) with the caret after it, and fires
 * `input` like typing would. Nothing happens if it would pass the field's `maxlength`.
 */
export function insertAtCaret(field: HTMLTextAreaElement, text: string): boolean {
  const start = field.selectionStart ?? field.value.length;
  const end = field.selectionEnd ?? start;
  if (field.maxLength > 0 && field.value.length - (end - start) + text.length > field.maxLength) return false;
  field.setRangeText(text, start, end, "end");
  // Some engines move the caret to the end when the value changes: put it after the emoji.
  field.setSelectionRange(start + text.length, start + text.length);
  field.dispatchEvent(new Event("input", { bubbles: true }));
  return true;
}

function setAttributes(node: Element, attributes: Record<string, string>): void {
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
}

export interface EmojiPicker {
  /** The composer's button that opens the grid. */
  toggle: HTMLButtonElement;
  /** The grid, placed by the caller (inside the composer, above it). */
  popup: HTMLDivElement;
  /** Shows or hides the button; hiding closes an open grid. */
  setEnabled(enabled: boolean): void;
}

export function createEmojiPicker(document: Document, field: HTMLTextAreaElement): EmojiPicker {
  const toggle = document.createElement("button");
  toggle.textContent = "😊";
  setAttributes(toggle, {
    type: "button",
    class: "emoji",
    "data-testid": "sb-emoji",
    "aria-label": "Insert emoji",
    "aria-haspopup": "dialog",
    "aria-expanded": "false",
    "aria-controls": "sb-emoji-picker",
  });

  const popup = document.createElement("div");
  popup.hidden = true;
  setAttributes(popup, {
    id: "sb-emoji-picker",
    class: "emoji-picker",
    role: "dialog",
    "aria-label": "Emoji",
    "data-testid": "sb-emoji-picker",
  });
  const cells = EMOJI.map((emoji, index) => {
    const cell = document.createElement("button");
    cell.type = "button";
    cell.textContent = emoji;
    cell.tabIndex = index === 0 ? 0 : -1;
    popup.append(cell);
    return cell;
  });
  let current = 0;

  const focusCell = (index: number): void => {
    cells[current]?.setAttribute("tabindex", "-1");
    current = index;
    const cell = cells[index];
    cell?.setAttribute("tabindex", "0");
    cell?.focus();
  };
  const setOpen = (open: boolean): void => {
    popup.hidden = !open;
    toggle.setAttribute("aria-expanded", String(open));
  };

  toggle.addEventListener("click", () => {
    if (popup.hidden) {
      setOpen(true);
      focusCell(current);
    } else {
      setOpen(false);
    }
  });
  popup.addEventListener("click", (event) => {
    const index = cells.indexOf(event.target as HTMLButtonElement);
    const emoji = EMOJI[index];
    if (emoji === undefined) return;
    current = index;
    setOpen(false);
    field.focus();
    insertAtCaret(field, emoji);
  });
  popup.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      // Only the grid closes, not the whole chat panel.
      event.preventDefault();
      event.stopPropagation();
      setOpen(false);
      toggle.focus();
      return;
    }
    const next = moveInGrid(current, event.key, cells.length);
    if (next === null) return;
    event.preventDefault();
    focusCell(next);
  });
  popup.addEventListener("focusout", (event) => {
    // Focus left for somewhere else (Tab, a click outside): the grid gets out of the way.
    const to = event.relatedTarget;
    if (to instanceof Node && (popup.contains(to) || to === toggle)) return;
    setOpen(false);
  });

  return {
    toggle,
    popup,
    setEnabled(enabled) {
      toggle.hidden = !enabled;
      if (!enabled) setOpen(false);
    },
  };
}
