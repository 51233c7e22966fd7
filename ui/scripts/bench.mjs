// Console benchmarks on the fake-backend web build in headless Chromium (not a test: prints
// figures only). Run via `npm run bench`.
//
// - first paint with 10,000 chats: navigation start → the chat list is in the DOM, and → the
//   next frame after it (what the operator sees), plus Chromium's first-contentful-paint;
// - chat switch with 5,000 messages: click on the row → the message list holds all 5,000 and the
//   next frame has run; the first open (history fetched) and later switches (already loaded);
// - chat list scroll: the list scrolled by 240 px per animation frame for 3 s; frame rate and
//   the slowest frames, plus long tasks (> 50 ms) seen meanwhile.
//
// The fake backend holds its data in memory; in the app the core reads the same chats from its
// SQLite cache, so these figures are the console's share of the time.

import { launchChromium, serveDist, withTimeout } from './browser.mjs';

const CHATS = 10_000;
const MESSAGES = 5_000;
const TIMEOUT_MS = 60_000;

/** Median of the finite values (Chromium does not always report a paint entry). */
function median(values) {
  const sorted = values.filter(Number.isFinite).sort((left, right) => left - right);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

const ms = (value) => (Number.isFinite(value) ? `${value.toFixed(1)} ms` : 'n/a');

/** Records when `selector` first appears and the frame after it, from the page's own clock. */
function watchFor(selector) {
  window.__bench = { seenAt: null, paintedAt: null };
  const check = () => {
    if (window.__bench.seenAt !== null || document.querySelector(selector) === null) return;
    window.__bench.seenAt = performance.now();
    requestAnimationFrame(() => setTimeout(() => (window.__bench.paintedAt = performance.now()), 0));
  };
  new MutationObserver(check).observe(document, { childList: true, subtree: true });
}

async function firstPaint(context, origin) {
  const page = await context.newPage();
  await page.addInitScript(watchFor, '[data-testid="chat-list"] .chat-row');
  await page.goto(`${origin}/?as=ann@example.com&chats=${CHATS}`, { waitUntil: 'load' });
  await page.waitForFunction(() => window.__bench.paintedAt !== null, null, { timeout: TIMEOUT_MS });
  const figures = await page.evaluate(() => ({
    ...window.__bench,
    firstContentfulPaint: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? Number.NaN,
    rows: document.querySelectorAll('[data-testid="chat-list"] li').length,
  }));
  await page.close();
  return figures;
}

async function chatSwitch(context, origin) {
  const page = await context.newPage();
  await page.goto(`${origin}/?as=ann@example.com&chats=${CHATS}&messages=${MESSAGES}&group=myChats`, { waitUntil: 'load' });
  await page.waitForSelector('[data-testid="chat-row-1"]', { timeout: TIMEOUT_MS });
  const timings = [];
  // Alternate between the big chat (1) and a small one (3): even rounds measure the big one.
  for (let round = 0; round < 11; round += 1) {
    const target = round % 2 === 0 ? 1 : 3;
    const expected = target === 1 ? MESSAGES : 1;
    const elapsed = await page.evaluate(
      ({ target, expected }) =>
        new Promise((resolve) => {
          const started = performance.now();
          document.querySelector(`[data-testid="chat-row-${target}"]`).click();
          const poll = () => {
            const view = document.querySelector('[data-testid="chat-view"]');
            const list = document.querySelector('[data-testid="message-list"]');
            if (view?.dataset.chatId === String(target) && list?.dataset.total === String(expected)) {
              requestAnimationFrame(() => setTimeout(() => resolve(performance.now() - started), 0));
            } else {
              requestAnimationFrame(poll);
            }
          };
          poll();
        }),
      { target, expected },
    );
    if (target === 1) timings.push(elapsed);
  }
  const rendered = await page.evaluate(() => document.querySelectorAll('[data-testid="message"]').length);
  await page.close();
  return { first: timings[0], later: timings.slice(1), rendered };
}

async function scroll(context, origin) {
  const page = await context.newPage();
  await page.goto(`${origin}/?as=ann@example.com&chats=${CHATS}`, { waitUntil: 'load' });
  await page.waitForSelector('[data-testid="chat-list-viewport"] .chat-row', { timeout: TIMEOUT_MS });
  const figures = await page.evaluate(
    () =>
      new Promise((resolve) => {
        const viewport = document.querySelector('[data-testid="chat-list-viewport"]');
        const longTasks = [];
        let observer = null;
        try {
          observer = new PerformanceObserver((list) => longTasks.push(...list.getEntries().map((entry) => entry.duration)));
          observer.observe({ type: 'longtask' });
        } catch {
          observer = null;
        }
        const frames = [];
        const started = performance.now();
        let last = started;
        let direction = 1;
        const step = (now) => {
          frames.push(now - last);
          last = now;
          const max = viewport.scrollHeight - viewport.clientHeight;
          if (viewport.scrollTop >= max - 1) direction = -1;
          if (viewport.scrollTop <= 0) direction = 1;
          viewport.scrollTop += 240 * direction;
          if (now - started < 3000) requestAnimationFrame(step);
          else {
            observer?.disconnect();
            resolve({ frames: frames.slice(1), duration: now - started, longTasks, rows: viewport.querySelectorAll('li').length });
          }
        };
        requestAnimationFrame(step);
      }),
  );
  await page.close();
  return figures;
}

async function main() {
  const server = await serveDist();
  const browser = await launchChromium();
  try {
    // The first load of a fresh browser pays for starting its renderer and compiling the bundle;
    // it is reported apart, and the median of three warm loads after it.
    const runs = [];
    for (let run = 0; run < 4; run += 1) {
      runs.push(await withTimeout(firstPaint(browser.context, server.origin), TIMEOUT_MS, 'first paint'));
    }
    const [cold, ...warm] = runs;
    console.log(`first paint with ${CHATS} chats (${cold.rows} rows in the DOM), cold | warm median of ${warm.length}:`);
    console.log(`  chat list in the DOM      ${ms(cold.seenAt)} | ${ms(median(warm.map((run) => run.seenAt)))}`);
    console.log(`  next frame after it       ${ms(cold.paintedAt)} | ${ms(median(warm.map((run) => run.paintedAt)))}`);
    console.log(`  first-contentful-paint    ${ms(cold.firstContentfulPaint)} | ${ms(median(warm.map((run) => run.firstContentfulPaint)))}`);

    const switching = await withTimeout(chatSwitch(browser.context, server.origin), TIMEOUT_MS, 'chat switch');
    console.log(`chat switch to a chat with ${MESSAGES} messages (${switching.rendered} rendered):`);
    console.log(`  first open (history fetched)  ${ms(switching.first)}`);
    console.log(`  later switches, median        ${ms(median(switching.later))} (max ${ms(Math.max(...switching.later))}, n=${switching.later.length})`);

    const scrolling = await withTimeout(scroll(browser.context, server.origin), TIMEOUT_MS, 'scroll');
    const fps = (scrolling.frames.length / scrolling.duration) * 1000;
    const sorted = [...scrolling.frames].sort((left, right) => left - right);
    const p95 = sorted[Math.floor(sorted.length * 0.95)] ?? Number.NaN;
    console.log(`chat list scroll, ${CHATS} chats (${scrolling.rows} rows in the DOM), 3 s:`);
    console.log(`  ${fps.toFixed(1)} frames/s, frame time median ${ms(median(scrolling.frames))}, p95 ${ms(p95)}, max ${ms(sorted.at(-1) ?? Number.NaN)}`);
    console.log(`  long tasks: ${scrolling.longTasks.length}${scrolling.longTasks.length > 0 ? ` (longest ${ms(Math.max(...scrolling.longTasks))})` : ''}`);
  } finally {
    await browser.close();
    await server.close();
  }
}

await main();
