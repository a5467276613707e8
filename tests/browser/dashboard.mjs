// The dashboard browser test: opens /admin/ in headless Chromium against a running worker that
// has dashboard data, signs in with the admin key, and checks that the figures shown equal the
// KPI tables (expected values computed from the Parquet tables by the caller), that a date-range
// and a category filter change them to the right values, and that nothing fails on the page.
//
//   VITRINE_URL=… VITRINE_ADMIN_KEY=… EXPECTED=expected.json [SCREENSHOT=out.png] node tests/browser/dashboard.mjs
//
// expected.json: {"days": {"YYYY-MM-DD": {"revenue", "orders"}}, "category": "…",
// "category_revenue": number, "sessions": number}. Prints a JSON summary, exits 1 on failure.

import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';

const BASE = (process.env.VITRINE_URL || '').replace(/\/+$/, '');
const KEY = process.env.VITRINE_ADMIN_KEY || '';
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const expected = JSON.parse(readFileSync(process.env.EXPECTED || '', 'utf8'));

function die(message) {
  console.error(`dashboard test FAILED: ${message}`);
  process.exit(1);
}
const deadline = setTimeout(() => die('no result within 90 s'), 90_000);

const close = (a, b) => Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b));
const card = (page, kpi) => page.$eval(`[data-kpi="${kpi}"] .value`, (el) => Number(el.dataset.value));

async function waitCard(page, kpi, want, what) {
  await page.waitForFunction(
    ([k, w]) => Math.abs(Number(document.querySelector(`[data-kpi="${k}"] .value`)?.dataset.value) - w) <= 1e-6 * Math.max(1, Math.abs(w)),
    [kpi, want],
    { timeout: 10_000 },
  ).catch(async () => die(`${what}: ${kpi} shows ${await card(page, kpi)}, the tables say ${want}`));
}

const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
const problems = [];
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1800 } });
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));

  // A wrong key is refused with the API's message, then the right one opens the board.
  await page.goto(`${BASE}/admin/`);
  await page.fill('[name=key]', 'not-the-key');
  await page.click('#login button');
  await page.waitForFunction(() => document.querySelector('[data-testid=login-error]')?.textContent);
  problems.length = 0; // the 401 above is expected
  await page.fill('[name=key]', KEY);
  await page.click('#login button');
  await page.waitForFunction(() => document.body.dataset.state === 'ready', null, { timeout: 20_000 });

  const days = Object.keys(expected.days).sort();
  const total = (ds, f) => ds.reduce((a, d) => a + expected.days[d][f], 0);
  await waitCard(page, 'revenue', total(days, 'revenue'), 'all days');
  await waitCard(page, 'orders', total(days, 'orders'), 'all days');
  await waitCard(page, 'sessions', expected.sessions, 'all days');

  // The last 3 days only.
  const last = days.slice(-3);
  await page.selectOption('[name=from]', last[0]);
  await waitCard(page, 'revenue', total(last, 'revenue'), `from ${last[0]}`);
  await waitCard(page, 'orders', total(last, 'orders'), `from ${last[0]}`);

  // Back to all days, one category.
  await page.selectOption('[name=from]', days[0]);
  await page.selectOption('[name=category]', expected.category);
  await waitCard(page, 'revenue', expected.category_revenue, `category ${expected.category}`);

  const rows = await page.$$eval('[data-testid=top-products] tbody tr', (t) => t.length);
  const segments = await page.$$eval('[data-testid=segments] tbody tr', (t) => t.length);
  const canvases = await page.$$eval('canvas', (cs) => cs.filter((c) => c.width > 0 && c.height > 0).length);
  if (rows === 0) die('no top products');
  if (segments === 0) die('no segments');
  if (canvases < 6) die(`only ${canvases} charts drawn`);
  if (process.env.SCREENSHOT) {
    await page.selectOption('[name=category]', '');
    await page.screenshot({ path: process.env.SCREENSHOT, fullPage: true });
  }
  if (problems.length) die(problems.join('; '));
  console.log(JSON.stringify({ ok: true, days: days.length, top_products: rows, segments, charts: canvases }));
} finally {
  await browser.close();
  clearTimeout(deadline);
}
