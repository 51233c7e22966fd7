import { screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { SiteVisitor } from '../src/lib/protocol';
import { minutesOnSite } from '../src/visitors/visitors.svelte';
import { renderConsole } from './render-console';

function visitor(id: number, overrides: Partial<SiteVisitor> = {}): SiteVisitor {
  return {
    visitor: id,
    liveChat: 1,
    name: null,
    pageUrl: 'https://shop.example/pricing',
    pageTitle: 'Pricing',
    referrer: 'https://search.example/?q=widgets',
    location: 'Berlin, Germany',
    firstSeen: Date.now() - 5 * 60_000,
    pagesViewed: 3,
    inChat: false,
    ...overrides,
  };
}

describe('visitors on site (B50)', () => {
  it('b50 the_menu_counts_visitors_and_the_view_lists_page_referrer_location_time_and_chat', async () => {
    const { fake } = await renderConsole({ seedDemoChats: false, signedInAs: 'ann@example.com' });
    expect(await screen.findByTestId('visitors-count')).toHaveTextContent('0');
    fake.simulateVisitorsOnSite([
      visitor(1),
      visitor(2, {
        name: '<img src=x onerror=alert(1)>',
        pageTitle: '<script>alert(1)</script>',
        pageUrl: 'javascript:alert(1)',
        referrer: null,
        location: null,
        inChat: true,
      }),
    ]);
    await waitFor(() => expect(screen.getByTestId('visitors-count')).toHaveTextContent('2'));
    expect(screen.getByTestId('visitors-toggle')).toHaveAccessibleName('Visitors on site, 2 visitors');

    // Keyboard: tab to the menu entry and open it with Enter.
    const user = userEvent.setup();
    screen.getByTestId('visitors-toggle').focus();
    await user.keyboard('{Enter}');
    const view = await screen.findByTestId('visitors-view');
    const first = within(view).getByTestId('site-visitor-1');
    expect(within(first).getByText('Visitor')).toBeInTheDocument();
    expect(within(first).getByTestId('visitor-page')).toHaveTextContent('Pricing');
    expect(within(first).getByTestId('visitor-page')).toHaveTextContent('https://shop.example/pricing');
    expect(within(first).getByTestId('visitor-referrer')).toHaveTextContent('https://search.example/?q=widgets');
    expect(within(first).getByTestId('visitor-location')).toHaveTextContent('Berlin, Germany');
    expect(within(first).getByTestId('visitor-duration')).toHaveTextContent('5 min, 3 pages');
    expect(within(first).queryByTestId('visitor-in-chat')).toBeNull();

    // Hostile text stays text: no element, no link.
    const second = within(view).getByTestId('site-visitor-2');
    expect(within(second).getByText('<img src=x onerror=alert(1)>')).toBeInTheDocument();
    expect(within(second).getByText('<script>alert(1)</script>')).toBeInTheDocument();
    expect(second.querySelector('img, script, a')).toBeNull();
    expect(within(second).getByTestId('visitor-referrer')).toHaveTextContent('Direct');
    expect(within(second).getByTestId('visitor-location')).toHaveTextContent('Unknown');
    expect(within(second).getByTestId('visitor-in-chat')).toHaveTextContent('In chat');

    // A departure removes the row; the list is live.
    fake.simulateVisitorsOnSite([visitor(2, { inChat: true })]);
    await waitFor(() => expect(within(view).queryByTestId('site-visitor-1')).toBeNull());
    fake.simulateVisitorsOnSite([]);
    expect(await within(view).findByTestId('visitors-empty')).toHaveTextContent('Nobody is on your website right now.');

    await user.click(within(view).getByTestId('visitors-back'));
    await waitFor(() => expect(screen.queryByTestId('visitors-view')).toBeNull());
  });

  it('b50 time_on_site_is_whole_minutes_and_never_negative', () => {
    expect(minutesOnSite(0, 59_999)).toBe(0);
    expect(minutesOnSite(0, 120_000)).toBe(2);
    expect(minutesOnSite(10_000, 0)).toBe(0);
  });
});
