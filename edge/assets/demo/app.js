/*
 * The demo storefront's page logic (/demo/app.js). It exists to show a shop integration that
 * uses nothing but the snippet (window.Vitrine): a trending grid with category chips, a product
 * view with "Similar items" and "Bought together", a cart with "Complete your cart", and a
 * "Recommended for you" row that refreshes after every view and add-to-cart.
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
