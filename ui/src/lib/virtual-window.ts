// Which rows of a long, fixed-row-height list are worth putting in the DOM. 10,000 chats as
// 10,000 buttons make every update and every scroll frame slow; the viewport only shows a dozen.

export interface VirtualWindow {
  /** First rendered index. */
  start: number;
  /** One past the last rendered index. */
  end: number;
  /** Space standing in for the rows above and below, in pixels. */
  before: number;
  after: number;
}

/**
 * The rows to render for a scroll position. `overscan` extra rows on each side keep fast scrolling
 * from showing blank space before the next frame renders. A viewport of zero height (not laid out
 * yet, or a test DOM without layout) is treated as `fallbackViewport` pixels.
 */
export function virtualWindow(
  count: number,
  rowHeight: number,
  scrollTop: number,
  viewportHeight: number,
  overscan = 8,
  fallbackViewport = 1200,
): VirtualWindow {
  const height = Math.max(1, rowHeight);
  const viewport = viewportHeight > 0 ? viewportHeight : fallbackViewport;
  const first = Math.floor(Math.max(0, scrollTop) / height);
  const start = Math.min(count, Math.max(0, first - overscan));
  const end = Math.min(count, first + Math.ceil(viewport / height) + overscan);
  return { start, end, before: start * height, after: (count - end) * height };
}
