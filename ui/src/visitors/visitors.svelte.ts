// Visitors on site (B50): the list the core keeps from the server's presence frames, and
// whether the console shows it instead of the open chat.

import type { SiteVisitor } from '../lib/protocol';

export class VisitorsStore {
  list = $state<SiteVisitor[]>([]);
  /** The "Visitors on site" view replaces the main pane while open. */
  open = $state(false);

  replace(visitors: SiteVisitor[]): void {
    this.list = visitors;
  }

  toggle(): void {
    this.open = !this.open;
  }

  reset(): void {
    this.list = [];
    this.open = false;
  }
}

/** Whole minutes between `since` and `now`, never negative (clocks of two machines differ). */
export function minutesOnSite(since: number, now: number): number {
  return Math.max(0, Math.floor((now - since) / 60_000));
}
