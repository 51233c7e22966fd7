// Accessibility check of the console: axe-core in headless Chromium against the fake-backend web
// build, in the states operators spend their day in (sign-in, lists, an open chat before and after
// joining, search results, hostile text, the end dialog, invitations, attachments, the customer
// panel, the chat actions menu and its dialogs, tickets and the audit log), at 100 % and at 200 % zoom (where the layout must also reflow:
// nothing cut off, clipped or overlapping). A state passes when axe
// finds no serious or critical violation; moderate and minor ones are printed as warnings.
// Prints `N passed, N failed` and exits non-zero on any failure. Run via `npm run a11y`.

import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { launchChromium, serveDist, withTimeout } from './browser.mjs';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const RUN_LIMIT_MS = 300_000;
const STEP_TIMEOUT_MS = 20_000;

/** Sue opens Ann's active chat from "All active" and monitors it (B21). */
async function monitorAnnsChat(page) {
  await page.click('[data-testid="group-others-active"]');
  await page.waitForSelector('[data-testid="chat-row-2"]', { timeout: STEP_TIMEOUT_MS });
  await page.click('[data-testid="chat-row-2"]');
  await page.click('[data-testid="monitor-button"]');
  await page.waitForSelector('[data-testid="monitoring-banner"]', { timeout: STEP_TIMEOUT_MS });
}

/** Each state: a URL query and optional interaction after the console is ready. */
const STATES = [
  { name: 'sign-in form', query: '' },
  { name: 'unassigned list with ringing and hostile chats', query: '?as=ann@example.com', ready: '[data-testid="chat-list"]' },
  {
    name: 'open chat after joining (reply, note, system messages, links)',
    query: '?as=ann@example.com&group=myChats&chat=2',
    ready: '[data-testid="composer-input"]',
  },
  {
    name: 'pending chat before joining (notes only composer)',
    query: '?as=ann@example.com&group=unassigned&chat=1',
    ready: '[data-testid="accept-button"]',
  },
  {
    name: 'supervisor with All active group and hostile chat open',
    query: '?as=sue@example.com&group=unassigned&chat=4',
    ready: '[data-testid="composer-input"]',
  },
  {
    name: 'search results',
    query: '?as=ann@example.com',
    ready: '[data-testid="search-input"]',
    async act(page) {
      await page.fill('[data-testid="search-input"]', 'a');
      await page.waitForSelector('[data-testid="search-results"]', { timeout: STEP_TIMEOUT_MS });
    },
  },
  {
    name: 'canned response picker with a missing value',
    query: '?as=ann@example.com&group=myChats&chat=2',
    ready: '[data-testid="composer-input"]',
    async act(page) {
      await page.click('[data-testid="canned-open"]');
      await page.waitForSelector('[data-testid="canned-option-3"]', { timeout: STEP_TIMEOUT_MS });
      await page.fill('[data-testid="canned-search"]', 'email');
      await page.waitForSelector('[data-testid="canned-value-visitor.email"]', { timeout: STEP_TIMEOUT_MS });
    },
  },
  {
    name: 'knowledge base picker and emoji palette',
    query: '?as=ann@example.com&group=myChats&chat=2',
    ready: '[data-testid="composer-input"]',
    async act(page) {
      await page.click('[data-testid="articles-open"]');
      await page.waitForSelector('[data-testid="article-option-1"]', { timeout: STEP_TIMEOUT_MS });
      const axeSource = AXE_SOURCE;
      await page.evaluate(axeSource);
      // @ts-expect-error axe is the global the injected source defines.
      const articles = await page.evaluate(async () => (await window.axe.run(document)).violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical').map((violation) => violation.id));
      if (articles.length > 0) throw new Error(`article picker: ${articles.join(', ')}`);
      await page.click('[data-testid="article-close"]');
      await page.click('[data-testid="emoji-open"]');
      await page.waitForSelector('[data-testid="emoji-picker"]', { timeout: STEP_TIMEOUT_MS });
    },
  },
  {
    name: 'note with an @mention list open',
    query: '?as=ann@example.com&group=unassigned&chat=1',
    ready: '[data-testid="composer-input"]',
    async act(page) {
      await page.click('[data-testid="composer-input"]');
      await page.keyboard.type('Ask @b');
      await page.waitForSelector('[data-testid="mention-list"]', { timeout: STEP_TIMEOUT_MS });
    },
  },
  {
    name: 'offline banner and a pending reply',
    query: '?as=ann@example.com&group=myChats&chat=2&offline',
    ready: '[data-testid="composer-input"]',
    async act(page) {
      await page.fill('[data-testid="composer-input"]', 'Back in a minute');
      await page.keyboard.press('Enter');
      await page.waitForSelector('[data-testid="outbox-message"]', { timeout: STEP_TIMEOUT_MS });
    },
  },
  {
    name: 'open chat at 200 % zoom',
    query: '?as=ann@example.com&group=myChats&chat=2',
    ready: '[data-testid="composer-input"]',
    zoom: 2,
    // WCAG reflow: at 200 % nothing needs horizontal scrolling, nothing is cut off or overlaps.
    act: checkLayout,
  },
];


/** A 1×1 PNG, for an image attachment in the chat. */
const PIXEL_PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=';

/**
 * Invitations and an attachment have no URL: the fake-backend build exposes its backend as
 * `window.switchboardFake`, and these states drive it like a colleague or a visitor would.
 */
async function inviteAndAttach(page) {
  await page.evaluate((png) => {
    // @ts-expect-error the fake build's global.
    const fake = window.switchboardFake;
    fake.simulateInvitation(1, { id: 2, name: 'Bob Operator' }, 'invite', 'Can you take the <b>refund</b>?');
    fake.simulateInvitation(3, { id: 2, name: 'Bob Operator' }, 'transfer', null);
    const bytes = Uint8Array.from(atob(png), (character) => character.charCodeAt(0));
    fake.simulateVisitorAttachment(2, 'receipt "<img onerror>".png', 'image/png', bytes);
  }, PIXEL_PNG);
  await page.waitForSelector('[data-testid="invitation-accept"]', { timeout: STEP_TIMEOUT_MS });
  await page.waitForSelector('[data-testid="attachment"]', { timeout: STEP_TIMEOUT_MS });
}

async function openEndDialog(page) {
  await page.click('[data-testid="end-button"]');
  await page.waitForSelector('[data-testid="end-dialog"]', { timeout: STEP_TIMEOUT_MS });
}

/** The chat actions menu, opened from the keyboard (the way its arrow-key handling is reached). */
async function openChatActions(page) {
  await page.focus('[data-testid="chat-actions-menu"]');
  await page.keyboard.press('ArrowDown');
  await page.waitForSelector('[role="menu"] [data-testid="menu-invite"]:focus', { timeout: STEP_TIMEOUT_MS });
}

/** The transfer dialog from the menu, with a colleague and a note filled in. */
async function openTransferDialog(page) {
  await openChatActions(page);
  await page.click('[data-testid="menu-transfer"]');
  await page.waitForSelector('[data-testid="collaboration-dialog"] [data-testid="colleague-picker"]', { timeout: STEP_TIMEOUT_MS });
  await page.waitForSelector('[data-testid="colleague-picker"] option[value="2"]', { state: 'attached', timeout: STEP_TIMEOUT_MS });
  await page.selectOption('[data-testid="colleague-picker"]', '2');
  await page.fill('[data-testid="transfer-note"]', 'Knows <b>billing</b>');
}

async function openLeaveDialog(page) {
  await openChatActions(page);
  await page.click('[data-testid="leave-button"]');
  await page.waitForSelector('[data-testid="leave-confirm"]', { timeout: STEP_TIMEOUT_MS });
}

async function openCustomerPanel(page) {
  await page.click('[data-testid="customer-panel"] > summary');
  await page.waitForSelector('[data-testid="customer-name"]', { timeout: STEP_TIMEOUT_MS });
  const create = await page.$('[data-testid="customer-create"]');
  if (create !== null) {
    await create.click();
    await page.waitForSelector('[data-testid="customer-form"]', { timeout: STEP_TIMEOUT_MS });
  }
}

/**
 * WCAG reflow at 200 %: nothing scrolls sideways, no control is cut off at the window's edge or
 * clipped inside its own box, and the layout's regions (header, menu, list, chat) never lie on
 * top of each other. Dialogs are exempt from the region rule: they cover the page by design.
 */
async function checkLayout(page) {
  const problems = await page.evaluate(() => {
    const found = [];
    const overflow = document.documentElement.scrollWidth - window.innerWidth;
    if (overflow > 1) found.push(`the page scrolls sideways by ${overflow} px`);
    const shown = (element) => {
      const box = element.getBoundingClientRect();
      return box.width > 0 && box.height > 0 && getComputedStyle(element).visibility !== 'hidden';
    };
    const describe = (element) =>
      element.getAttribute('data-testid') ?? (element.textContent ?? '').trim().slice(0, 40) ?? element.tagName.toLowerCase();
    for (const element of document.querySelectorAll('button, input, select, textarea, a[href], summary')) {
      if (!shown(element) || element.closest('.visually-hidden') !== null) continue;
      const box = element.getBoundingClientRect();
      if (box.right > window.innerWidth + 1 || box.left < -1) found.push(`${describe(element)} is cut off at the window's edge`);
      if (element.tagName === 'BUTTON' && element.scrollWidth > element.clientWidth + 1) found.push(`${describe(element)}: its label is clipped`);
    }
    const regions = ['header.header', 'nav.menu', 'section.list', 'main.chat']
      .map((selector) => document.querySelector(selector))
      .filter((element) => element !== null && shown(element));
    for (let first = 0; first < regions.length; first += 1) {
      for (let second = first + 1; second < regions.length; second += 1) {
        const one = regions[first].getBoundingClientRect();
        const other = regions[second].getBoundingClientRect();
        const width = Math.min(one.right, other.right) - Math.max(one.left, other.left);
        const height = Math.min(one.bottom, other.bottom) - Math.max(one.top, other.top);
        if (width > 1 && height > 1) {
          found.push(`${regions[first].tagName.toLowerCase()}.${regions[first].className} overlaps ${regions[second].tagName.toLowerCase()}.${regions[second].className}`);
        }
      }
    }
    return found;
  });
  if (problems.length > 0) throw new Error(`at 200 % zoom: ${[...new Set(problems)].slice(0, 6).join('; ')}`);
}

STATES.push(
  {
    name: 'end dialog with the ticket fields',
    query: '?as=ann@example.com&group=myChats&chat=2',
    ready: '[data-testid="end-button"]',
    act: openEndDialog,
  },
  {
    name: 'chat actions menu open',
    query: '?as=ann@example.com&group=myChats&chat=2',
    ready: '[data-testid="chat-actions-menu"]',
    act: openChatActions,
  },
  {
    name: 'transfer dialog with a colleague and a note',
    query: '?as=ann@example.com&group=myChats&chat=2',
    ready: '[data-testid="chat-actions-menu"]',
    act: openTransferDialog,
  },
  {
    name: 'leave confirmation',
    query: '?as=ann@example.com&group=myChats&chat=2',
    ready: '[data-testid="chat-actions-menu"]',
    act: openLeaveDialog,
  },
  {
    name: 'supervisor with the chat actions menu open',
    query: '?as=sue@example.com&group=unassigned&chat=4',
    ready: '[data-testid="composer-input"]',
    async act(page) {
      await page.click('[data-testid="group-others-active"]');
      await page.waitForSelector('[data-testid="chat-row-2"]', { timeout: STEP_TIMEOUT_MS });
      await page.click('[data-testid="chat-row-2"]');
      await openChatActions(page);
    },
  },
  {
    name: 'invitation, transfer and an image attachment',
    query: '?as=ann@example.com&group=myChats&chat=2',
    ready: '[data-testid="composer-input"]',
    act: inviteAndAttach,
  },
  {
    name: 'customer panel with the record form',
    query: '?as=ann@example.com&group=myChats&chat=2',
    ready: '[data-testid="customer-panel"]',
    act: openCustomerPanel,
  },
  {
    name: 'tickets view',
    query: '?as=ann@example.com',
    ready: '[data-testid="tickets-toggle"]',
    async act(page) {
      await page.click('[data-testid="tickets-toggle"]');
      await page.waitForSelector('[data-testid="tickets-view"]', { timeout: STEP_TIMEOUT_MS });
    },
  },
  {
    name: 'audit log (supervisor)',
    query: '?as=sue@example.com',
    ready: '[data-testid="audit-toggle"]',
    async act(page) {
      await page.click('[data-testid="audit-toggle"]');
      await page.waitForFunction(() => document.querySelector('[data-testid="audit-toggle"]')?.getAttribute('aria-pressed') === 'true', undefined, { timeout: STEP_TIMEOUT_MS });
      // B33: the rating switch above the log, checked once its setting has loaded.
      await page.waitForSelector('[data-testid="rating-switch-toggle"]:not([disabled])', { timeout: STEP_TIMEOUT_MS });
    },
  },
  {
    name: 'header settings disclosure open (send shortcut and sounds)',
    query: '?as=ann@example.com',
    ready: '[data-testid="header-settings-button"]',
    async act(page) {
      await page.click('[data-testid="header-settings-button"]');
      await page.waitForSelector('[data-testid="send-shortcut-select"]', { state: 'visible', timeout: STEP_TIMEOUT_MS });
    },
  },
  {
    name: 'supervisor monitoring a chat (one-line bar)',
    query: '?as=sue@example.com&group=unassigned&chat=4',
    ready: '[data-testid="composer-input"]',
    act: monitorAnnsChat,
  },
  // The same views at 200 % zoom, each also checked for reflow (nothing cut off or overlapping).
  {
    name: 'supervisor monitoring a chat at 200 % zoom',
    query: '?as=sue@example.com&group=unassigned&chat=4',
    ready: '[data-testid="composer-input"]',
    zoom: 2,
    async act(page) {
      await monitorAnnsChat(page);
      await checkLayout(page);
    },
  },
  {
    name: 'header settings disclosure at 200 % zoom',
    query: '?as=ann@example.com',
    ready: '[data-testid="header-settings-button"]',
    zoom: 2,
    async act(page) {
      await page.click('[data-testid="header-settings-button"]');
      await page.waitForSelector('[data-testid="send-shortcut-select"]', { state: 'visible', timeout: STEP_TIMEOUT_MS });
      await checkLayout(page);
    },
  },
  { name: 'chat lists at 200 % zoom (supervisor)', query: '?as=sue@example.com', ready: '[data-testid="chat-list"]', zoom: 2, act: checkLayout },
  {
    name: 'pending chat before joining at 200 % zoom',
    query: '?as=ann@example.com&group=unassigned&chat=1',
    ready: '[data-testid="accept-button"]',
    zoom: 2,
    act: checkLayout,
  },
  {
    name: 'end dialog at 200 % zoom',
    query: '?as=ann@example.com&group=myChats&chat=2',
    ready: '[data-testid="end-button"]',
    zoom: 2,
    async act(page) {
      await openEndDialog(page);
      await checkLayout(page);
    },
  },
  {
    name: 'chat actions menu at 200 % zoom',
    query: '?as=ann@example.com&group=myChats&chat=2',
    ready: '[data-testid="chat-actions-menu"]',
    zoom: 2,
    async act(page) {
      await openChatActions(page);
      await checkLayout(page);
    },
  },
  {
    name: 'transfer dialog at 200 % zoom',
    query: '?as=ann@example.com&group=myChats&chat=2',
    ready: '[data-testid="chat-actions-menu"]',
    zoom: 2,
    async act(page) {
      await openTransferDialog(page);
      await checkLayout(page);
    },
  },
  {
    name: 'invitations, attachment and customer panel at 200 % zoom',
    query: '?as=ann@example.com&group=myChats&chat=2',
    ready: '[data-testid="composer-input"]',
    zoom: 2,
    async act(page) {
      await inviteAndAttach(page);
      await openCustomerPanel(page);
      await checkLayout(page);
    },
  },
  {
    name: 'tickets view at 200 % zoom',
    query: '?as=ann@example.com',
    ready: '[data-testid="tickets-toggle"]',
    zoom: 2,
    async act(page) {
      await page.click('[data-testid="tickets-toggle"]');
      await page.waitForSelector('[data-testid="tickets-view"]', { timeout: STEP_TIMEOUT_MS });
      await checkLayout(page);
    },
  },
);

let passed = 0;
let failed = 0;

async function checkState(context, origin, state) {
  const page = await context.newPage();
  try {
    // 200 % zoom of a 1280×800 window is the same CSS layout as a 640×400 viewport.
    const zoom = state.zoom ?? 1;
    await page.setViewportSize({ width: Math.round(1280 / zoom), height: Math.round(800 / zoom) });
    const errors = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${origin}/${state.query}`, { waitUntil: 'load', timeout: STEP_TIMEOUT_MS });
    await page.waitForSelector(state.ready ?? '[data-testid="sign-in-email"]', { timeout: STEP_TIMEOUT_MS });
    if (state.act) await state.act(page);
    await page.evaluate(AXE_SOURCE);
    const outcome = await page.evaluate(async () => {
      // @ts-expect-error axe is the global the injected source defines.
      const result = await window.axe.run(document, { resultTypes: ['violations'] });
      return { rules: result.passes.length + result.violations.length + result.incomplete.length, violations: result.violations.map((violation) => ({
        id: violation.id,
        impact: violation.impact,
        help: violation.help,
        targets: violation.nodes.slice(0, 3).map((node) => node.target.join(' ')),
      })) };
    });
    if (outcome.rules === 0) throw new Error('axe checked no rules');
    const violations = outcome.violations;
    console.log(`    axe checked ${outcome.rules} rules`);
    const blocking = violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical');
    for (const violation of violations) {
      const tag = blocking.includes(violation) ? 'VIOLATION' : 'warning';
      console.log(`    ${tag} [${violation.impact}] ${violation.id}: ${violation.help} (${violation.targets.join(', ')})`);
    }
    if (errors.length > 0) throw new Error(`page errors: ${errors.join('; ')}`);
    if (blocking.length > 0) throw new Error(`${blocking.length} serious or critical violation(s)`);
  } finally {
    await page.close();
  }
}

/**
 * Keyboard: Tab from the top of an open chat must reach the group menu, a chat row, the accept
 * button, the composer and the canned response button, and every stop must show a focus ring.
 */
async function checkKeyboard(context, origin) {
  const page = await context.newPage();
  try {
    await page.goto(`${origin}/?as=ann@example.com&group=unassigned&chat=1`, { waitUntil: 'load', timeout: STEP_TIMEOUT_MS });
    await page.waitForSelector('[data-testid="accept-button"]', { timeout: STEP_TIMEOUT_MS });
    const reached = new Set();
    const withoutRing = [];
    for (let step = 0; step < 80; step += 1) {
      await page.keyboard.press('Tab');
      const stop = await page.evaluate(() => {
        const element = document.activeElement;
        if (element === null || element === document.body) return null;
        const style = getComputedStyle(element);
        const ring = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2;
        return { testId: element.getAttribute('data-testid') ?? element.tagName.toLowerCase(), ring };
      });
      if (stop === null) continue;
      reached.add(stop.testId);
      if (!stop.ring) withoutRing.push(stop.testId);
    }
    const wanted = ['group-my-chats', 'chat-row-1', 'accept-button', 'composer-input', 'canned-open', 'search-input'];
    const missed = wanted.filter((testId) => !reached.has(testId));
    if (missed.length > 0) throw new Error(`Tab never reached ${missed.join(', ')}`);
    if (withoutRing.length > 0) throw new Error(`no visible focus on ${[...new Set(withoutRing)].join(', ')}`);
    console.log(`    ${reached.size} distinct focus stops, all with a focus ring`);
  } finally {
    await page.close();
  }
}

async function main() {
  const server = await serveDist();
  const browser = await launchChromium();
  try {
    try {
      await withTimeout(checkKeyboard(browser.context, server.origin), STEP_TIMEOUT_MS * 3, 'keyboard check');
      passed += 1;
      console.log('ok - keyboard reaches every control with a visible focus ring');
    } catch (error) {
      failed += 1;
      console.log(`FAIL - keyboard: ${error instanceof Error ? error.message : String(error)}`);
    }
    for (const state of STATES) {
      try {
        await withTimeout(checkState(browser.context, server.origin, state), STEP_TIMEOUT_MS * 2, state.name);
        passed += 1;
        console.log(`ok - ${state.name}`);
      } catch (error) {
        failed += 1;
        console.log(`FAIL - ${state.name}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  } finally {
    await browser.close();
    await server.close();
  }
}

try {
  await withTimeout(main(), RUN_LIMIT_MS, 'the accessibility check');
} catch (error) {
  failed += 1;
  console.log(`FAIL - ${error instanceof Error ? error.message : String(error)}`);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
