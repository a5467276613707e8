// The storefront browser test: drives the demo shop (/demo/, which uses only /vitrine.js) in
// headless Chromium against a running worker with a model loaded, and checks what a shopper
// would see: three views of one category make "Recommended for you" lean to that category, the
// product view shows its widgets, the cart gets "Complete your cart", the search box finds a
// product from a misspelled brand and a model number's prefix and its facets filter, the snippet's
// events are all accepted (fetch and sendBeacon), and nothing fails on the page.
//
//   VITRINE_URL=http://127.0.0.1:8787 node tests/browser/storefront.mjs
//
// Env: VITRINE_URL (required), VITRINE_KEY (the public key, when the worker has PUBLIC_KEYS),
// CHROMIUM (default /usr/bin/chromium). Prints a one-line JSON
// summary and exits 0, or prints what failed and exits 1.

import { chromium } from 'playwright-core';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BASE = (process.env.VITRINE_URL || '').replace(/\/+$/, '');
const KEY = process.env.VITRINE_KEY || '';
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const OVERALL_MS = 120_000;
const STEP_MS = 20_000;
const CLICKS = 3;

class Failure extends Error {}

function check(ok, message) {
  if (!ok) throw new Failure(message);
}

function die(message) {
  console.error(`storefront test FAILED: ${message}`);
  process.exit(1);
}

if (!BASE) die('set VITRINE_URL to the base URL of a running worker with a model loaded');
setTimeout(() => die(`no result within ${OVERALL_MS / 1000} s`), OVERALL_MS);

/** Cards of a widget: [{id, category}] in display order. */
function cards(page, testid) {
  return page.$$eval(`[data-testid="${testid}"] [data-item-id]`, (nodes) =>
    nodes.map((n) => ({ id: n.dataset.itemId, category: n.dataset.category })),
  );
}

function serveId(page, testid) {
  return page.$eval(`[data-testid="${testid}"]`, (s) => s.dataset.serveId || '');
}

/** Waits until a widget section shows an answer other than `previous`; fails on its error state. */
async function ready(page, testid, previous = '') {
  const handle = await page.waitForFunction(
    ([t, prev]) => {
      const s = document.querySelector(`[data-testid="${t}"]`);
      if (!s) return false;
      if (s.dataset.state === 'error') return `error: ${s.querySelector('.note')?.textContent}`;
      return s.dataset.state === 'ready' && s.dataset.serveId && s.dataset.serveId !== prev && 'ready';
    },
    [testid, previous],
    { timeout: STEP_MS },
  ).catch(() => {
    throw new Failure(`widget "${testid}" did not render a new answer within ${STEP_MS / 1000} s`);
  });
  const outcome = await handle.jsonValue();
  check(outcome === 'ready', `widget "${testid}" failed: ${outcome}`);
}

/** One letter of `word` replaced (never the first): a typo a shopper makes. */
function typo(word) {
  const i = Math.min(2, word.length - 2);
  return word.slice(0, i) + (word[i].toLowerCase() === 'x' ? 'z' : 'x') + word.slice(i + 1);
}

/** A title word that reads as a model number: letters and digits, not a size or capacity. */
function modelNumber(title, brand) {
  return title.split(/\s+/).filter((w) => w.toLowerCase() !== brand.toLowerCase())
    .find((w) => /\d/.test(w) && /[a-z]/i.test(w) && w.length >= 4 && !/^\d+(gb|tb|hz|mp|w|mah|in)$/i.test(w)) || null;
}

/** Types `q` into the search box and submits it; resolves with the hits' ids in order. */
async function searchFor(page, q) {
  const prev = await serveId(page, 'search');
  await page.fill('[data-testid="search-input"]', q);
  await page.press('[data-testid="search-input"]', 'Enter');
  await ready(page, 'search', prev);
  return page.$$eval('[data-testid="hits"] [data-item-id]', (nodes) => nodes.map((n) => n.dataset.itemId));
}

function facetButtons(page) {
  return page.$$eval('[data-testid="facets"] [data-facet]', (nodes) =>
    nodes.map((n) => ({ facet: n.dataset.facet, value: n.dataset.value, count: Number(n.dataset.count) })));
}

const searchTotal = (page) => page.$eval('[data-testid="search-summary"]', (p) => parseInt(p.textContent, 10));

/**
 * The storefront's search, as a shopper uses it: suggestions while typing, a misspelled brand and
 * a model number's typo-free prefix finding the product the exact words find, a facet that
 * narrows the hits (the other facets' counts change), and a hit's click carrying the search's
 * serve id (how search click-through is attributed in the lake's KPI tables).
 */
async function searchStep(page, gridIds) {
  const products = await page.evaluate((ids) => Promise.all(ids.map((id) => window.Vitrine.item(id))), gridIds);
  let target = null;
  for (const p of products) {
    const brand = p.brand || '';
    const model = modelNumber(p.title || '', brand);
    if (brand.length < 5 || /\s/.test(brand) || !model) continue;
    const exact = await searchFor(page, `${brand} ${model}`);
    if (exact[0] === p.id) {
      target = { ...p, model };
      break;
    }
  }
  check(target, `no grid product has a brand of 5+ letters and a model number that finds it (${products.map((p) => p.title).join(' | ')})`);

  // As-you-type suggestions for the start of the brand.
  await page.fill('[data-testid="search-input"]', '');
  await page.type('[data-testid="search-input"]', target.brand.slice(0, 4).toLowerCase(), { delay: 40 });
  await page.waitForSelector('[data-testid="suggestions"]:not([hidden]) li', { timeout: STEP_MS }).catch(() => {
    throw new Failure(`no suggestions while typing "${target.brand.slice(0, 4)}"`);
  });

  const typed = `${typo(target.brand).toLowerCase()} ${target.model.slice(0, target.model.length - 1)}`;
  const hits = await searchFor(page, typed);
  check(hits[0] === target.id, `"${typed}" put ${hits[0]} first, not ${target.id} ("${target.title}")`);
  const mark = await page.$eval('[data-testid="hits"] [data-item-id] .title', (t) => t.querySelector('em')?.textContent || '');
  check(mark, `the first hit for "${typed}" has no highlighted word`);

  // Facets: the misspelled brand alone; one value narrows the hits and the counts change.
  await searchFor(page, typo(target.brand).toLowerCase());
  const total0 = await searchTotal(page);
  const facets0 = await facetButtons(page);
  const pick = facets0.find((f) => f.facet === 'category' && f.count > 0 && f.count < total0) ||
    facets0.find((f) => f.count > 0 && f.count < total0);
  check(pick, `no facet value narrows the ${total0} hits for "${typo(target.brand)}": ${JSON.stringify(facets0)}`);
  const prev = await serveId(page, 'search');
  await page.click(`[data-testid="facets"] [data-facet="${pick.facet}"][data-value="${pick.value}"]`);
  await ready(page, 'search', prev);
  const total1 = await searchTotal(page);
  const facets1 = await facetButtons(page);
  // A price band's edges are not the inclusive price filter's, so only its direction is checked.
  check(pick.facet === 'price' ? total1 < total0 : total1 === pick.count,
    `the ${pick.facet} facet "${pick.value}" promised ${pick.count} of ${total0} hits, the page says ${total1}`);
  const counts = (list) => list.map((f) => `${f.facet}:${f.value}=${f.count}`).join(' ');
  check(counts(facets1) !== counts(facets0), `the facet counts did not change after choosing ${pick.facet} "${pick.value}"`);
  const active = await page.$$eval('[data-testid="facets"] [data-facet].active', (n) => n.map((b) => b.dataset.value));
  check(active.includes(pick.value), `the chosen facet value is not shown as active: ${active}`);
  if (pick.facet === 'category') {
    const cats = (await cards(page, 'hits')).map((c) => c.category);
    check(cats.every((c) => c === pick.value || c.startsWith(`${pick.value}.`)), `hits outside "${pick.value}": ${cats}`);
  }

  // A hit's click: the rec_click carries the search's serve id.
  const serve = await serveId(page, 'search');
  const sent = [];
  const listen = (r) => {
    if (r.url().includes('/v1/events') && r.method() === 'POST') sent.push(r.postData() || '');
  };
  page.on('request', listen);
  const first = (await cards(page, 'hits'))[0];
  await page.click(`[data-testid="hits"] [data-item-id="${first.id}"]`);
  await page.evaluate(() => window.Vitrine.flush());
  page.off('request', listen);
  const clicks = sent.flatMap((body) => {
    try { return JSON.parse(body).events || []; } catch (_) { return []; }
  }).filter((e) => e.type === 'rec_click' && e.item_id === first.id);
  check(clicks.some((e) => e.serve_id === serve && e.placement === 'search'),
    `the click on search hit ${first.id} did not carry the search's serve id ${serve}: ${JSON.stringify(clicks)}`);
  return {
    target: target.id,
    typed,
    facet: `${pick.facet}=${pick.value}`,
    hits_before_facet: total0,
    hits_after_facet: total1,
    search_serve_id: serve,
  };
}

const share = (list, category) => list.filter((c) => c.category === category).length / Math.max(list.length, 1);
const count = (list, category) => list.filter((c) => c.category === category).length;

async function run(browser, problems, eventChecks) {
  const started = Date.now();
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_MS);
  let live = true; // closing the context at the end aborts whatever is still in flight
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => {
    if (live && r.url().includes('/v1/')) problems.push(`request failed: ${r.method()} ${r.url()}: ${r.failure()?.errorText}`);
  });
  page.on('response', (r) => {
    if (!r.url().includes('/v1/')) return;
    if (r.status() >= 400) problems.push(`${r.request().method()} ${r.url()} → ${r.status()}`);
    if (r.url().includes('/v1/events') && r.request().method() === 'POST') {
      eventChecks.push(r.json().then(
        (body) => body,
        () => null, // beacon answers may not be readable; their status is checked above
      ));
    }
  });

  await page.goto(`${BASE}/demo/${KEY ? `?key=${encodeURIComponent(KEY)}` : ''}`);
  await Promise.all([ready(page, 'catalog'), ready(page, 'for-you')]);
  const grid0 = await cards(page, 'grid');
  const forYou0 = await cards(page, 'for-you');
  check(grid0.length > 0, 'the product grid is empty');
  check(forYou0.length > 0, 'the "Recommended for you" row is empty');

  // The grid's category least represented in for-you (then: most products on the grid), so a
  // shift toward it is measurable. Its chip reloads the grid when the grid has too few of it.
  const inGrid = [...new Set(grid0.map((c) => c.category).filter(Boolean))];
  inGrid.sort((a, b) => count(forYou0, a) - count(forYou0, b) || count(grid0, b) - count(grid0, a) || a.localeCompare(b));
  let category = null;
  let fallback = null;
  for (const c of inGrid) {
    let n = count(await cards(page, 'grid'), c);
    if (n < CLICKS + 1) {
      const prev = await serveId(page, 'catalog');
      await page.click(`[data-chip="${c}"]`);
      await ready(page, 'catalog', prev);
      n = count(await cards(page, 'grid'), c);
    }
    if (n >= CLICKS + 1) {
      category = c; // one more than we click, so for-you has one left to show
      break;
    }
    if (n >= CLICKS && !fallback) fallback = c;
  }
  if (!category && fallback) {
    const prev = await serveId(page, 'catalog');
    await page.click(`[data-chip="${fallback}"]`);
    await ready(page, 'catalog', prev);
    category = fallback;
  }
  check(category, `no category of the grid has ${CLICKS} products to click (${inGrid.join(', ')})`);

  // Three different products of that category, each opened from the grid. An anonymous shopper's
  // for-you carries the recent session (no Durable Object read, no wait for the event POST).
  const carried = [];
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (u.pathname === '/v1/recommendations' && u.searchParams.has('anonymous_id')) carried.push(u.searchParams.get('session') || '');
  });
  const clicked = [];
  const clickToForYou = [];
  let widgets = {};
  for (let i = 0; i < CLICKS; i++) {
    const next = (await cards(page, 'grid')).find((c) => c.category === category && !clicked.includes(c.id));
    check(next, `the grid ran out of "${category}" products after ${clicked.length}`);
    const before = {};
    for (const t of ['for-you', 'similar', 'bought-together']) before[t] = await serveId(page, t);
    const t0 = Date.now();
    await page.click(`[data-testid="grid"] [data-item-id="${next.id}"]`);
    clicked.push(next.id);
    await ready(page, 'for-you', before['for-you']);
    clickToForYou.push(Date.now() - t0);
    await Promise.all(['similar', 'bought-together'].map((t) => ready(page, t, before[t])));
    const last = carried[carried.length - 1] || '';
    check(/^[vcap]\.\d+\./.test(last) && last.split(',')[0].endsWith(`.${next.id}`),
      `for-you after opening ${next.id} did not carry it first in \`session\`: "${last}"`);
    const shown = await page.$eval('[data-testid="product"]', (p) => ({
      hidden: p.hidden,
      id: p.dataset.productId,
      title: p.querySelector('.product-title')?.textContent || '',
    }));
    check(!shown.hidden && shown.id === next.id && shown.title, `the product view does not show ${next.id}: ${JSON.stringify(shown)}`);
    widgets = { similar: await cards(page, 'similar'), bought_together: await cards(page, 'bought-together') };
    check(widgets.similar.length > 0, `"Similar items" is empty for ${next.id}`);
    check(widgets.bought_together.length > 0, `"Bought together" is empty for ${next.id}`);
  }

  const forYou1 = await cards(page, 'for-you');
  const ids0 = forYou0.map((c) => c.id).join(',');
  const ids1 = forYou1.map((c) => c.id).join(',');
  check(ids1 !== ids0, `"Recommended for you" did not change after ${CLICKS} views: ${ids1}`);
  const before = share(forYou0, category);
  const after = share(forYou1, category);
  check(after > before, `"${category}" share in for-you did not rise: ${before.toFixed(2)} → ${after.toFixed(2)} (${ids1})`);

  // Add to cart: the line appears, "Complete your cart" renders, for-you refreshes again.
  const cartItem = clicked[clicked.length - 1];
  const forYouPrev = await serveId(page, 'for-you');
  await page.click('[data-testid="add-to-cart"]');
  await page.waitForSelector(`[data-testid="cart"] [data-line-id="${cartItem}"]`);
  await Promise.all([ready(page, 'cart-recs'), ready(page, 'for-you', forYouPrev)]);
  const cartRecs = await cards(page, 'cart-recs');
  check(cartRecs.length > 0, '"Complete your cart" is empty');
  check(!cartRecs.some((c) => c.id === cartItem), `"Complete your cart" recommends the cart's own ${cartItem}`);

  const searched = await searchStep(page, grid0.map((c) => c.id));

  // The snippet's cookie: a first-party anonymous id kept for about a year, SameSite=Lax.
  const aid = (await context.cookies(BASE)).find((c) => c.name === 'vitrine_aid');
  check(aid && aid.value.length >= 16, 'the snippet did not set the vitrine_aid cookie');
  const days = (aid.expires * 1000 - Date.now()) / 86_400_000;
  check(days > 360 && aid.sameSite === 'Lax', `vitrine_aid: ${days.toFixed(0)} days, SameSite=${aid.sameSite}`);

  // Queued events (impressions, the cart) by fetch, then one by sendBeacon on pagehide (Chromium
  // reports a beacon as a `ping` request without its body, but with its answer).
  await page.evaluate(() => window.Vitrine.flush());
  const beacon = page.waitForResponse((r) => r.url().includes('/v1/events') && r.request().resourceType() === 'ping');
  await page.evaluate((item) => {
    window.Vitrine.view(item);
    window.dispatchEvent(new Event('pagehide'));
  }, cartItem);
  const beaconAnswer = await beacon;
  const beaconBody = await beaconAnswer.json().catch(() => null);
  check(beaconAnswer.status() === 202 && beaconBody?.accepted >= 1 && !beaconBody.rejected,
    `the beacon got ${beaconAnswer.status()} ${JSON.stringify(beaconBody)}`);

  // The same browser logs in (`?user=`: the demo asks the worker's DEV_MODE token endpoint the
  // way a shop's backend would sign the id). The snippet sends the signed token with every request
  // naming the user; the login merges this browser's history into the account.
  const signed = [];
  page.on('request', (r) => {
    if (r.url().includes('/v1/recommendations') && r.url().includes('user_id=')) signed.push(r.url());
  });
  const user = `e2e-customer-${Date.now()}`;
  await page.goto(`${BASE}/demo/?user=${user}${KEY ? `&key=${encodeURIComponent(KEY)}` : ''}`);
  await ready(page, 'for-you');
  const forYouUser = await cards(page, 'for-you');
  check(forYouUser.length > 0, 'the logged-in "Recommended for you" row is empty');
  check(signed.length > 0 && signed.every((u) => u.includes('user_token=v1.')),
    `logged-in requests without the signed token: ${signed.join(' ')}`);
  const ids = await page.evaluate(() => window.Vitrine.ids());
  check(ids.userId === user, `the snippet is not identified as ${user}: ${JSON.stringify(ids)}`);
  // The merged history shapes the account's list (the login event is processed before the next
  // request: the snippet sends queued events first).
  const userPrev = await serveId(page, 'for-you');
  await page.evaluate(() => window.Vitrine.flush());
  await page.reload();
  await ready(page, 'for-you', userPrev);
  const forYouMerged = await cards(page, 'for-you');
  check(share(forYouMerged, category) > before,
    `"${category}" share after the login merge: ${share(forYouMerged, category).toFixed(2)} (anonymous before: ${before.toFixed(2)})`);

  // Every event the page sent was valid: the edge accepted all of them.
  const answers = (await Promise.all(eventChecks)).filter(Boolean);
  for (const a of answers) check(!a.rejected, `events rejected: ${JSON.stringify(a.errors)}`);
  const accepted = answers.reduce((n, a) => n + (a.accepted || 0), 0);
  check(accepted > 0, 'no event was accepted by POST /v1/events');

  live = false;
  await context.close();
  return {
    category,
    share_before: Number(before.toFixed(3)),
    share_after: Number(after.toFixed(3)),
    clicked,
    for_you_before: forYou0.map((c) => c.id),
    for_you_after: forYou1.map((c) => c.id),
    carried_session: carried[carried.length - 1],
    click_to_for_you_ms: clickToForYou,
    similar: widgets.similar.length,
    bought_together: widgets.bought_together.length,
    cart_recs: cartRecs.length,
    search: searched,
    events_accepted: accepted,
    logged_in_for_you: forYouMerged.map((c) => c.id),
    seconds: Number(((Date.now() - started) / 1000).toFixed(1)),
  };
}

async function main() {
  const problems = [];
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  let summary;
  let failure = null;
  try {
    summary = await run(browser, problems, []);
  } catch (err) {
    const shot = join(tmpdir(), 'vitrine-storefront-failure.png');
    const pages = browser.contexts().flatMap((c) => c.pages());
    if (pages.length) await pages[0].screenshot({ path: shot, fullPage: true }).catch(() => {});
    const also = problems.map((p) => `\n  also: ${p}`).join('');
    failure = `${err instanceof Failure ? err.message : err.stack || err}${also}\n  screenshot: ${shot}`;
  }
  await browser.close().catch(() => {});
  if (failure) die(failure);
  if (problems.length) die(problems.join('\n  '));
  console.log(JSON.stringify({ ok: true, ...summary }));
  process.exit(0);
}

main().catch((err) => die(err.stack || String(err)));
