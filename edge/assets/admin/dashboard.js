// The shop dashboard: loads what `trainer kpis` published (GET /v1/admin/dashboard, admin key)
// and draws it with Chart.js. Every figure is computed here from the KPI tables' rows for the
// chosen date range and category; each card also carries its exact value in `data-value`.
'use strict';

const KEY_STORE = 'vitrine-admin-key';
const money = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });
const count = new Intl.NumberFormat('en-US');
const pct = (x) => (x == null || !Number.isFinite(x) ? '–' : `${(100 * x).toFixed(1)}%`);
const $ = (sel) => document.querySelector(sel);

let data = null;
const charts = {};

/** Rows of a section as objects keyed by its column names. */
function table(name) {
  const cols = data[`${name}_columns`] || [];
  return (data[name] || []).map((r) => Object.fromEntries(cols.map((c, i) => [c, r[i]])));
}

const sum = (rows, f) => rows.reduce((a, r) => a + (Number(r[f]) || 0), 0);

function groupBy(rows, key) {
  const out = new Map();
  for (const r of rows) {
    const k = typeof key === 'function' ? key(r) : r[key];
    if (!out.has(k)) out.set(k, []);
    out.get(k).push(r);
  }
  return out;
}

function filters() {
  return { from: $('[name=from]').value, to: $('[name=to]').value, category: $('[name=category]').value };
}

const inRange = (f) => (r) => r.dt >= f.from && r.dt <= f.to;

function setCard(kpi, value, text) {
  const el = $(`[data-kpi="${kpi}"] .value`);
  el.textContent = text;
  el.dataset.value = value == null || !Number.isFinite(value) ? '' : String(value);
}

function chart(id, config) {
  charts[id]?.destroy();
  charts[id] = new Chart(document.getElementById(id), config);
}

function rowsHtml(tbody, rows) {
  tbody.replaceChildren(
    ...rows.map((cells) => {
      const tr = document.createElement('tr');
      for (const [text, numeric] of cells) {
        const td = document.createElement('td');
        td.textContent = text;
        if (numeric) td.className = 'num';
        tr.append(td);
      }
      return tr;
    }),
  );
}

function render() {
  const f = filters();
  const days = data.days.filter((d) => d >= f.from && d <= f.to);
  const sales = f.category
    ? table('sales').filter((r) => r.category === f.category).filter(inRange(f))
    : table('totals').filter(inRange(f));
  const funnel = table('funnel').filter(inRange(f));

  const revenue = sum(sales, 'revenue');
  const orders = sum(sales, 'orders');
  const sessions = sum(funnel, 'sessions');
  const carts = sum(funnel, 'cart_sessions');
  setCard('revenue', revenue, money.format(revenue));
  setCard('orders', orders, count.format(orders));
  setCard('aov', orders ? revenue / orders : null, orders ? money.format(revenue / orders) : '–');
  const conversion = sessions ? sum(funnel, 'purchase_sessions') / sessions : null;
  setCard('conversion', conversion, pct(conversion));
  const abandonment = carts ? 1 - sum(funnel, 'cart_purchase_sessions') / carts : null;
  setCard('abandonment', abandonment, pct(abandonment));
  setCard('sessions', sessions, count.format(sessions));

  const byDay = groupBy(sales, 'dt');
  chart('revenue-chart', {
    type: 'line',
    data: { labels: days, datasets: [{ label: f.category || 'all categories', data: days.map((d) => sum(byDay.get(d) || [], 'revenue')), borderColor: '#2e6be6', tension: 0.2 }] },
    options: { animation: false, plugins: { legend: { display: false } } },
  });
  const fByDay = new Map(funnel.map((r) => [r.dt, r]));
  chart('conversion-chart', {
    type: 'line',
    data: { labels: days, datasets: [{ label: 'conversion', data: days.map((d) => { const r = fByDay.get(d); return r && r.sessions ? (100 * r.purchase_sessions) / r.sessions : null; }), borderColor: '#12b76a', tension: 0.2 }] },
    options: { animation: false, plugins: { legend: { display: false } }, scales: { y: { ticks: { callback: (v) => `${v}%` } } } },
  });
  chart('funnel-chart', {
    type: 'bar',
    data: { labels: ['sessions', 'viewed', 'added to cart', 'purchased'], datasets: [{ data: ['sessions', 'view_sessions', 'cart_sessions', 'purchase_sessions'].map((k) => sum(funnel, k)), backgroundColor: '#2e6be6' }] },
    options: { animation: false, plugins: { legend: { display: false } } },
  });

  // Recommendations: per placement × variant in range.
  const recs = [...groupBy(table('recs').filter(inRange(f)), (r) => `${r.placement}\u0000${r.variant}`).values()].map((rows) => ({
    placement: rows[0].placement, variant: rows[0].variant,
    impressions: sum(rows, 'impressions'), clicks: sum(rows, 'clicks'), revenue: sum(rows, 'attributed_revenue'),
  })).sort((a, b) => b.impressions - a.impressions);
  const byVariant = [...groupBy(recs, 'variant').entries()].map(([variant, rows]) => ({ variant, ctr: sum(rows, 'impressions') ? sum(rows, 'clicks') / sum(rows, 'impressions') : 0 }));
  chart('ctr-chart', {
    type: 'bar',
    data: { labels: byVariant.map((v) => v.variant), datasets: [{ data: byVariant.map((v) => 100 * v.ctr), backgroundColor: '#f79009' }] },
    options: { animation: false, plugins: { legend: { display: false } }, scales: { y: { ticks: { callback: (v) => `${v}%` } } } },
  });
  rowsHtml($('[data-testid=recs] tbody'), recs.map((r) => [[r.placement], [r.variant], [count.format(r.impressions), true], [pct(r.impressions ? r.clicks / r.impressions : null), true], [money.format(r.revenue), true]]));

  // Products and queries aggregated over the range.
  const products = [...groupBy(table('products').filter(inRange(f)).filter((r) => !f.category || r.category === f.category), 'item_id').values()]
    .map((rows) => ({ title: rows[0].title || rows[0].item_id, views: sum(rows, 'views'), orders: sum(rows, 'orders'), revenue: sum(rows, 'revenue') }))
    .sort((a, b) => b.revenue - a.revenue || b.views - a.views).slice(0, 10);
  rowsHtml($('[data-testid=top-products] tbody'), products.map((p) => [[p.title], [count.format(p.views), true], [count.format(p.orders), true], [money.format(p.revenue), true]]));
  const queries = [...groupBy(table('searches').filter(inRange(f)), 'query').entries()]
    .map(([query, rows]) => ({ query, searches: sum(rows, 'searches'), zero: sum(rows, 'zero_results'), clicked: sum(rows, 'clicked_searches'), refined: sum(rows, 'refined_searches'), abandoned: sum(rows, 'abandoned_searches') }));
  rowsHtml($('[data-testid=top-queries] tbody'), [...queries].sort((a, b) => b.searches - a.searches).slice(0, 10)
    .map((q) => [[q.query], [count.format(q.searches), true], [pct(q.searches ? q.clicked / q.searches : null), true]]));
  rowsHtml($('[data-testid=zero-queries] tbody'), queries.filter((q) => q.zero > 0).sort((a, b) => b.zero - a.zero).slice(0, 10)
    .map((q) => [[q.query], [count.format(q.zero), true]]));
  rowsHtml($('[data-testid=struggling-queries] tbody'), queries.filter((q) => q.refined + q.abandoned > 0)
    .sort((a, b) => (b.refined + b.abandoned) / b.searches - (a.refined + a.abandoned) / a.searches || b.searches - a.searches).slice(0, 10)
    .map((q) => [[q.query], [count.format(q.searches), true], [pct(q.refined / q.searches), true], [pct(q.abandoned / q.searches), true]]));

  // Forecast: the chosen category, else the best-selling one; its last 28 days and the next 14.
  const catSales = table('sales');
  const top = f.category || [...groupBy(catSales, 'category').entries()].sort((a, b) => sum(b[1], 'revenue') - sum(a[1], 'revenue'))[0]?.[0];
  const history = data.days.slice(-28);
  const units = new Map(catSales.filter((r) => r.category === top).map((r) => [r.dt, r.units]));
  const ahead = table('forecasts').filter((r) => r.category === top);
  $('[data-testid=forecast-title]').textContent = `Demand forecast (units): ${top || '–'}${ahead[0] ? ` · ${ahead[0].method.replace('_', ' ')}` : ''}`;
  chart('forecast-chart', {
    type: 'line',
    data: {
      labels: [...history, ...ahead.map((r) => r.date)],
      datasets: [
        { label: 'sold', data: [...history.map((d) => units.get(d) || 0), ...ahead.map(() => null)], borderColor: '#2e6be6' },
        { label: 'forecast', data: [...history.map(() => null), ...ahead.map((r) => r.units)], borderColor: '#f04438', borderDash: [5, 4] },
      ],
    },
    options: { animation: false },
  });
}

function renderStatic() {
  const segments = table('segments');
  chart('segments-chart', {
    type: 'doughnut',
    data: { labels: segments.map((s) => s.segment), datasets: [{ data: segments.map((s) => s.shoppers) }] },
    options: { animation: false },
  });
  rowsHtml($('[data-testid=segments] tbody'), segments.map((s) => [[s.segment], [count.format(s.shoppers), true], [s.recency_days.toFixed(1), true], [s.orders.toFixed(2), true], [money.format(s.revenue), true]]));
  rowsHtml($('[data-testid=backtest] tbody'), table('backtest').map((b) => [[b.category], [pct(b.model_mape), true], [pct(b.naive_mape), true], [b.method.replace('_', ' ')]]));
}

function fillFilters() {
  const option = (value, label = value) => Object.assign(document.createElement('option'), { value, textContent: label });
  $('[name=from]').replaceChildren(...data.days.map((d) => option(d)));
  $('[name=to]').replaceChildren(...data.days.map((d) => option(d)));
  $('[name=from]').value = data.days[0] || '';
  $('[name=to]').value = data.days[data.days.length - 1] || '';
  $('[name=category]').replaceChildren(option('', 'All categories'), ...data.categories.map((c) => option(c)));
  for (const name of ['from', 'to', 'category']) $(`[name=${name}]`).addEventListener('change', render);
}

async function load(key) {
  const res = await fetch('/v1/admin/dashboard', { headers: { authorization: `Bearer ${key}` } });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body?.error?.message || `HTTP ${res.status}`);
  return body;
}

async function open(key) {
  const login = $('#login');
  try {
    data = await load(key);
  } catch (e) {
    sessionStorage.removeItem(KEY_STORE);
    login.hidden = false;
    $('[data-testid=login-error]').textContent = e.message;
    return;
  }
  sessionStorage.setItem(KEY_STORE, key);
  login.hidden = true;
  $('#board').hidden = false;
  $('[data-testid=generated]').textContent = `KPI run ${new Date(data.generated_at).toISOString().slice(0, 16).replace('T', ' ')} UTC · ${data.days.length} days`;
  fillFilters();
  renderStatic();
  render();
  document.body.dataset.state = 'ready';
}

document.addEventListener('DOMContentLoaded', () => {
  $('#login').addEventListener('submit', (e) => {
    e.preventDefault();
    open(new FormData(e.target).get('key'));
  });
  const saved = sessionStorage.getItem(KEY_STORE);
  if (saved) open(saved);
  else $('#login').hidden = false;
});
