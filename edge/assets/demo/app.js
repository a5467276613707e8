/*
 * The demo storefront's page logic (/demo/app.js). It exists to show a shop integration that
 * uses nothing but the snippet (window.Vitrine): a trending grid with category chips, a product
 * view with "Similar items" and "Bought together", a cart with "Complete your cart", and a
 * "Recommended for you" row that refreshes after every view and add-to-cart, and a search box
 * with as-you-type suggestions, facets as filters with counts, a price range, sort, highlighted
 * hits and "did you mean" (a hit's click carries the search's serve id, like a widget's).
 *
 * For tests, each widget section carries data-state (loading | ready | error) and data-serve-id
 * (the serve id of the answer on screen); each card carries data-item-id and data-category.
 */
(function () {
  'use strict';

  var CURRENCY = 'EUR';
  var page = new URLSearchParams(window.location.search);
  Vitrine.init({ key: page.get('key') || undefined, currency: CURRENCY });

  var money = new Intl.NumberFormat('en', { style: 'currency', currency: CURRENCY });
  var REASONS = {
    session: 'for you', viewed_together: 'viewed together', bought_together: 'bought together',
    trending: 'trending', popular: 'popular', buy_again: 'buy again', rule: 'featured'
  };

  var $ = function (sel) { return document.querySelector(sel); };
  var sections = {
    forYou: $('[data-testid="for-you"]'),
    similar: $('[data-testid="similar"]'),
    together: $('[data-testid="bought-together"]'),
    catalog: $('[data-testid="catalog"]'),
    cartRecs: $('[data-testid="cart-recs"]')
  };
  var product = $('[data-testid="product"]');
  var cards = new WeakMap(); // card element → {item, response, position}
  var cart = []; // {item, quantity}
  var current = null; // the product on display
  var grid = { category: '', categories: null };
  var searchSection = $('[data-testid="search"]');
  var searchInput = $('[data-testid="search-input"]');
  var suggestBox = $('[data-testid="suggestions"]');
  var priceMin = $('[data-testid="price-min"]');
  var priceMax = $('[data-testid="price-max"]');
  // The search on screen: its words, the facet values chosen and the order.
  var query = { q: '', brand: [], category: '', sort: 'relevance', intents: 'on' };
  var suggested = {}; // product id → the suggested product
  var SUGGEST_DELAY_MS = 120;
  var FACET_LABELS = { category: 'Category', brand: 'Brand', price: 'Price' };

  // ---- rendering ------------------------------------------------------------------------------

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /** "computers.notebook" → "Notebook"; the chips and cards show the leaf. */
  function categoryLabel(category) {
    var leaf = String(category || 'other').split('.').pop().replace(/_/g, ' ');
    return leaf.charAt(0).toUpperCase() + leaf.slice(1);
  }

  /** A stable colour per category for the image placeholder. */
  function tint(node, category) {
    var h = 0;
    for (var i = 0; i < category.length; i++) h = (h * 31 + category.charCodeAt(i)) % 360;
    node.style.background = 'linear-gradient(135deg, hsl(' + h + ' 55% 82%), hsl(' + ((h + 40) % 360) + ' 60% 68%))';
    node.textContent = categoryLabel(category).charAt(0);
  }

  function card(item, response, position) {
    var node = el('article', 'card');
    node.dataset.itemId = item.id;
    node.dataset.category = item.category || '';
    node.tabIndex = 0;
    node.setAttribute('role', 'button');
    var thumb = el('div', 'thumb');
    tint(thumb, item.category || '');
    node.append(thumb, el('h4', 'title', item.title || item.id), el('p', 'meta', (item.brand || '') +
      ' · ' + categoryLabel(item.category)), el('p', 'price', money.format(item.price || 0)));
    var why = item.reason && REASONS[item.reason.kind];
    if (why) node.append(el('p', 'reason', why));
    cards.set(node, { item: item, response: response, position: position });
    return node;
  }

  function setState(section, state, message) {
    section.dataset.state = state;
    section.querySelector('.note').textContent = message || '';
  }

  /**
   * Loads one widget into its section. Each section keeps a request counter, so an answer that
   * arrives after a newer request was made is dropped and data-state reads `ready` only once the
   * latest request rendered.
   */
  function load(section, widget, params) {
    var seq = (section.seq = (section.seq || 0) + 1);
    setState(section, 'loading');
    return Vitrine.recommend(widget, params).then(function (resp) {
      if (seq !== section.seq) return null;
      var list = section.querySelector('.cards');
      list.replaceChildren.apply(list, resp.items.map(function (item, i) { return card(item, resp, i + 1); }));
      section.dataset.serveId = resp.serve_id;
      setState(section, 'ready', resp.items.length ? '' : 'Nothing to show yet.');
      return resp;
    }, function (err) {
      if (seq === section.seq) setState(section, 'error', err.message);
      console.error(err);
      return null;
    });
  }

  function refreshForYou() {
    return load(sections.forYou, 'for_you', { k: 8, placement: 'home_for_you' });
  }

  // ---- catalogue ------------------------------------------------------------------------------

  function loadGrid(category) {
    grid.category = category;
    renderChips();
    var params = { k: 24, placement: 'home_trending' };
    if (category) params.category = category;
    return load(sections.catalog, 'trending', params).then(function (resp) {
      // The chips are the categories of the unfiltered grid, kept while a chip is active.
      if (resp && !category && !grid.categories) {
        grid.categories = [];
        resp.items.forEach(function (i) {
          if (i.category && grid.categories.indexOf(i.category) < 0) grid.categories.push(i.category);
        });
        grid.categories.sort();
        renderChips();
      }
    });
  }

  function renderChips() {
    var nav = $('[data-testid="chips"]');
    var chip = function (category, label) {
      var b = el('button', 'chip' + (category === grid.category ? ' active' : ''), label);
      b.type = 'button';
      b.dataset.chip = category;
      if (category) b.title = category;
      return b;
    };
    nav.replaceChildren.apply(nav, [chip('', 'All')].concat((grid.categories || []).map(function (c) {
      return chip(c, categoryLabel(c));
    })));
  }

  // ---- product view ---------------------------------------------------------------------------

  /** Opens a product: records the click (when it came from a widget) and the view, then refreshes. */
  function openProduct(item, response, position) {
    if (response) Vitrine.clicked(response, item.id, position);
    Vitrine.view(item.id);
    current = item;
    product.hidden = false;
    product.dataset.productId = item.id;
    tint(product.querySelector('.thumb'), item.category || '');
    product.querySelector('.crumbs').textContent = String(item.category || '').split('.').map(categoryLabel).join(' › ');
    product.querySelector('.product-title').textContent = item.title || item.id;
    product.querySelector('.product-brand').textContent = item.brand ? 'by ' + item.brand : '';
    product.querySelector('.product-price').textContent = money.format(item.price || 0);
    product.querySelector('.product-stock').textContent = item.in_stock === false ? 'Out of stock' : 'In stock';
    product.scrollIntoView({ block: 'start', behavior: 'smooth' });
    load(sections.similar, 'similar', { item: item.id, k: 6, placement: 'pdp_similar' });
    load(sections.together, 'bought_together', { item: item.id, k: 6, placement: 'pdp_bought_together' });
    refreshForYou();
  }

  // ---- search ---------------------------------------------------------------------------------

  /**
   * Puts the engine's highlight into `node`: text, with the matched words in <em>, and nothing
   * else. The API escapes titles already; parsing into an inert template and copying only text
   * and <em> keeps even a broken highlight from adding markup to the page.
   */
  function highlighted(node, html) {
    var t = document.createElement('template');
    t.innerHTML = html;
    node.replaceChildren.apply(node, Array.prototype.map.call(t.content.childNodes, function (n) {
      return n.nodeName === 'EM' ? el('em', null, n.textContent) : document.createTextNode(n.textContent);
    }));
  }

  function priceLabel(band) {
    var m = /^(\d+)(?:-(\d+)|\+)$/.exec(band);
    if (!m) return band;
    return m[2] ? money.format(+m[1]) + ' – ' + money.format(+m[2]) : money.format(+m[1]) + ' and up';
  }

  function priceActive(band) {
    var m = /^(\d+)(?:-(\d+)|\+)$/.exec(band);
    return !!m && priceMin.value === m[1] && priceMax.value === (m[2] || '');
  }

  function facetActive(facet, value) {
    if (facet === 'brand') return query.brand.indexOf(value) >= 0;
    if (facet === 'category') return query.category === value;
    return priceActive(value);
  }

  function searchParams() {
    var p = { k: 24, sort: query.sort, intents: query.intents };
    if (query.brand.length) p.brand = query.brand;
    if (query.category) p.category = query.category;
    if (priceMin.value !== '') p.min_price = priceMin.value;
    if (priceMax.value !== '') p.max_price = priceMax.value;
    return p;
  }

  /** Runs the search on screen; like a widget, only the latest request's answer renders. */
  function runSearch() {
    var seq = (searchSection.seq = (searchSection.seq || 0) + 1);
    hideSuggestions();
    $('[data-testid="search-results"]').hidden = false;
    setState(searchSection, 'loading');
    return Vitrine.search(query.q, searchParams()).then(function (resp) {
      if (seq !== searchSection.seq) return null;
      renderSearch(resp);
      searchSection.dataset.serveId = resp.serve_id;
      setState(searchSection, 'ready', resp.items.length ? '' : 'No products match.');
      return resp;
    }, function (err) {
      if (seq === searchSection.seq) setState(searchSection, 'error', err.message);
      console.error(err);
      return null;
    });
  }

  /** A new query from the box: the facet choices of the last one no longer apply. */
  function newSearch(q) {
    searchInput.value = q;
    query.q = q;
    query.brand = [];
    query.category = '';
    query.intents = 'on';
    return runSearch();
  }

  function renderSearch(resp) {
    var hits = $('[data-testid="hits"]');
    hits.replaceChildren.apply(hits, resp.items.map(function (item, i) {
      var node = card(item, resp, i + 1);
      highlighted(node.querySelector('.title'), item.highlight || item.title || item.id);
      return node;
    }));
    $('[data-testid="search-summary"]').textContent = resp.total + (resp.total === 1 ? ' product' : ' products') +
      (resp.query ? ' for “' + resp.query + '”' : '') + (resp.relaxed ? ', some matching fewer words' : '');
    // Price words read as a filter ("under 800"): shown, and removable.
    var applied = $('[data-testid="applied"]');
    applied.replaceChildren.apply(applied, (resp.intents || []).map(function (it) {
      var b = el('button', null, '“' + it.text + '” ×');
      b.type = 'button';
      b.title = 'Remove this price filter';
      b.dataset.without = it.without;
      return b;
    }));
    $('[data-testid="did-you-mean-box"]').hidden = !resp.did_you_mean;
    $('[data-testid="did-you-mean"]').textContent = resp.did_you_mean || '';
    var facets = resp.facets || {};
    var box = $('[data-testid="facets"]');
    box.replaceChildren.apply(box, ['category', 'brand', 'price'].filter(function (f) {
      return (facets[f] || []).length > 0;
    }).map(function (f) {
      var group = el('div', 'facet');
      group.dataset.facetName = f;
      group.append(el('h4', null, FACET_LABELS[f]));
      facets[f].forEach(function (v) {
        var b = el('button', facetActive(f, v.value) ? 'active' : '');
        b.type = 'button';
        b.dataset.facet = f;
        b.dataset.value = v.value;
        b.dataset.count = String(v.count);
        var label = f === 'category' ? categoryLabel(v.value) : f === 'price' ? priceLabel(v.value) : v.value;
        b.append(el('span', 'label', label), el('span', 'count', String(v.count)));
        group.append(b);
      });
      return group;
    }));
  }

  /** A facet value clicked: brands add up (any of them), a category or price band replaces. */
  function toggleFacet(facet, value) {
    if (facet === 'brand') {
      var at = query.brand.indexOf(value);
      if (at >= 0) query.brand.splice(at, 1);
      else query.brand.push(value);
    } else if (facet === 'category') {
      query.category = query.category === value ? '' : value;
    } else {
      var m = /^(\d+)(?:-(\d+)|\+)$/.exec(value);
      var off = !m || priceActive(value);
      priceMin.value = off ? '' : m[1];
      priceMax.value = off ? '' : m[2] || '';
    }
    return runSearch();
  }

  function hideSuggestions() {
    suggestBox.seq = (suggestBox.seq || 0) + 1; // an answer still on its way is dropped
    suggestBox.hidden = true;
    suggestBox.replaceChildren();
  }

  function renderSuggestions(s) {
    suggested = {};
    var items = (s.queries || []).map(function (q) {
      var li = el('li', 'query', q);
      li.dataset.suggestion = q;
      li.setAttribute('role', 'option');
      return li;
    }).concat((s.products || []).map(function (p) {
      var li = el('li', 'product');
      highlighted(li, p.highlight || p.title || p.id);
      li.dataset.productId = p.id;
      li.setAttribute('role', 'option');
      suggested[p.id] = p;
      return li;
    }));
    suggestBox.replaceChildren.apply(suggestBox, items);
    suggestBox.hidden = items.length === 0;
  }

  var suggestTimer = null;
  searchInput.addEventListener('input', function () {
    clearTimeout(suggestTimer);
    var typed = searchInput.value;
    if (!typed.trim()) return hideSuggestions();
    suggestTimer = setTimeout(function () {
      var seq = (suggestBox.seq = (suggestBox.seq || 0) + 1);
      Vitrine.suggest(typed, { k: 5 }).then(function (s) {
        if (seq === suggestBox.seq && searchInput.value === typed) renderSuggestions(s);
      }, function (err) { console.error(err); });
    }, SUGGEST_DELAY_MS);
    return undefined;
  });
  $('[data-testid="search-form"]').addEventListener('submit', function (e) {
    e.preventDefault();
    clearTimeout(suggestTimer);
    newSearch(searchInput.value.trim());
  });
  $('[data-testid="sort"]').addEventListener('change', function (e) {
    query.sort = e.target.value;
    runSearch();
  });
  [priceMin, priceMax].forEach(function (input) {
    input.addEventListener('change', function () { runSearch(); });
  });

  /** Clicks inside the search section; true when handled. */
  function searchClick(e) {
    var t = e.target;
    var facet = t.closest('[data-facet]');
    if (facet) return toggleFacet(facet.dataset.facet, facet.dataset.value), true;
    var s = t.closest('[data-suggestion]');
    if (s) return newSearch(s.dataset.suggestion), true;
    var p = t.closest('.suggestions [data-product-id]');
    if (p) {
      hideSuggestions();
      openProduct(suggested[p.dataset.productId], null);
      return true;
    }
    if (t.closest('[data-testid="did-you-mean"]')) {
      e.preventDefault();
      return newSearch(t.closest('[data-testid="did-you-mean"]').textContent), true;
    }
    var intent = t.closest('[data-without]');
    if (intent) {
      query.q = intent.dataset.without;
      searchInput.value = query.q;
      return runSearch(), true;
    }
    if (!t.closest('[data-testid="search-form"]')) hideSuggestions();
    return false;
  }

  // ---- cart -----------------------------------------------------------------------------------

  function addToCart(item) {
    var line = cart.find(function (l) { return l.item.id === item.id; });
    if (line) line.quantity += 1;
    else cart.push({ item: item, quantity: 1 });
    Vitrine.addToCart(item.id, 1, item.price);
    renderCart();
    refreshForYou();
  }

  function renderCart() {
    var box = $('[data-testid="cart"]');
    var count = cart.reduce(function (n, l) { return n + l.quantity; }, 0);
    var total = cart.reduce(function (n, l) { return n + l.quantity * (l.item.price || 0); }, 0);
    $('[data-testid="cart-count"]').textContent = String(count);
    box.querySelector('.empty').hidden = cart.length > 0;
    box.querySelector('[data-testid="checkout"]').hidden = cart.length === 0;
    box.querySelector('.total').textContent = cart.length ? 'Total ' + money.format(total) : '';
    var lines = box.querySelector('.lines');
    lines.replaceChildren.apply(lines, cart.map(function (l) {
      var li = el('li', null, l.quantity + ' × ' + (l.item.title || l.item.id));
      li.dataset.lineId = l.item.id;
      return li;
    }));
    sections.cartRecs.hidden = cart.length === 0;
    if (cart.length) {
      load(sections.cartRecs, 'cart', { items: cart.map(function (l) { return l.item.id; }), k: 4,
        placement: 'cart_complete' });
    }
  }

  function checkout() {
    Vitrine.purchase('demo-' + Date.now(), cart.map(function (l) {
      return { item_id: l.item.id, quantity: l.quantity, price: l.item.price || 0 };
    }));
    cart = [];
    renderCart();
    refreshForYou();
  }

  // ---- wiring ---------------------------------------------------------------------------------

  function activate(target) {
    var node = target.closest('.card');
    if (node && cards.has(node)) {
      var c = cards.get(node);
      // The grid is the "trending" widget too, so its clicks are attributed like any other.
      openProduct(c.item, c.response, c.position);
      return;
    }
    var chip = target.closest('[data-chip]');
    if (chip) loadGrid(chip.dataset.chip);
  }

  document.addEventListener('click', function (e) {
    if (searchClick(e)) return undefined;
    if (e.target.closest('[data-testid="add-to-cart"]') && current) return addToCart(current);
    if (e.target.closest('[data-testid="checkout"]')) return checkout();
    if (e.target.closest('[data-action="close"]')) {
      product.hidden = true;
      current = null;
      return undefined;
    }
    return activate(e.target);
  });
  document.addEventListener('keydown', function (e) {
    if (e.key === 'Escape') hideSuggestions();
    if ((e.key === 'Enter' || e.key === ' ') && e.target.closest && e.target.closest('.card')) {
      e.preventDefault();
      activate(e.target);
    }
  });

  /**
   * `?user=<id>`: shop as a logged-in customer. A real shop's backend signs the id on every page
   * (see the security guide); the demo asks the worker's development-only endpoint, which a
   * deployed worker does not have.
   */
  function logIn(user) {
    if (!user) return Promise.resolve();
    var q = 'user_id=' + encodeURIComponent(user) + (page.get('key') ? '&key=' + encodeURIComponent(page.get('key')) : '');
    return window.fetch('/v1/dev/shopper-token?' + q).then(function (resp) {
      if (!resp.ok) throw new Error('no shopper token (HTTP ' + resp.status + '): run the worker with DEV_MODE=1');
      return resp.json();
    }).then(function (t) {
      Vitrine.identify(t.user_id, t.user_token);
    });
  }

  logIn(page.get('user')).catch(function (err) { console.error(err); }).then(function () {
    loadGrid('');
    refreshForYou();
    renderCart();
  });
  var deepLink = page.get('item');
  if (deepLink) {
    Vitrine.item(deepLink).then(function (item) { openProduct(item, null); }, function (err) {
      console.error(err);
    });
  }
})();
