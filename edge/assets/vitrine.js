/*
 * vitrine.js — the Vitrine storefront snippet, served by the worker at /vitrine.js.
 *
 * Why it exists: a shop adds one <script> tag and gets shopper ids, batched event tracking that
 * survives page unloads, recommendation widgets that reflect the shopper's last click, and
 * product search with suggestions and facets whose clicks are attributed like widget clicks. Plain
 * browser JavaScript, no build step, no dependencies; everything hangs off `window.Vitrine`.
 *
 *   Vitrine.init({ endpoint, key, userId, userToken, currency })
 *   Vitrine.view(itemId) · addToCart(itemId, quantity, price) · purchase(orderId, lines)
 *   Vitrine.cartView(lines) · checkout(lines, orderId)
 *   Vitrine.identify(userId, userToken) · track(event) · flush()
 *   Vitrine.recommend(widget, params) → Promise<response> · clicked(response, itemId, position)
 *   Vitrine.search(q, options) → Promise<response> · suggest(q, options) → Promise<suggestions>
 *   Vitrine.item(itemId) → Promise<product>
 *
 * The API contract (event fields, query parameters, error envelope) is defined in shared/src/.
 */
(function (window, document) {
  'use strict';

  var AID_COOKIE = 'vitrine_aid';
  var SID_COOKIE = 'vitrine_sid';
  var YEAR_S = 365 * 24 * 3600;
  var SESSION_IDLE_S = 30 * 60;
  var FLUSH_DELAY_MS = 1000;
  var FLUSH_AT = 20; // queued events that trigger an immediate flush
  var MAX_BATCH = 500; // the edge's limit per POST /v1/events
  var BEACON_CHUNK = 20; // events per beacon / keepalive request (both cap bodies near 64 KB)
  var MAX_QUEUE = 1000; // oldest events are dropped beyond this (the API is down for long)
  var MAX_RESULTS = 200; // ids per rec_impression
  var CARRIED_MAX = 30; // touches the session parameter carries (the edge's limit)
  var CARRIED_TTL_MS = 30 * 24 * 3600 * 1000; // the edge's session TTL
  var CARRIED_KEY = 'vitrine_recent';
  // event type → the session parameter's touch kind
  var TOUCH_KIND = { view: 'v', rec_click: 'c', add_to_cart: 'a', purchase: 'p' };

  // widget → how to call it. `shopper`: send user_id / anonymous_id; `item`: needs params.item.
  var WIDGETS = {
    for_you: { path: function () { return '/v1/recommendations'; }, shopper: true },
    similar: { path: function (p) { return itemPath(p, '/similar'); }, item: true },
    bought_together: { path: function (p) { return itemPath(p, '/bought-together'); }, item: true },
    cart: { path: function () { return '/v1/cart/recommendations'; }, shopper: true, post: true },
    trending: { path: function () { return '/v1/trending'; } },
    buy_again: { path: function () { return '/v1/recommendations/buy-again'; }, shopper: true }
  };
  // Parameters the snippet consumes itself; everything else goes to the API unchanged.
  var OWN_PARAMS = ['placement', 'item', 'item_id', 'items', 'impression'];

  var config = null;
  var queue = [];
  var timer = null;
  var sending = Promise.resolve(); // the chain of event POSTs, so a flush waits for earlier ones
  var recent = null; // the carried session: [[kind, epoch ms, item id], …], most recent first

  /** An API or network failure: `code` is the API's error code (or `network_error`, …). */
  function VitrineError(code, message, status) {
    var err = new Error('Vitrine: ' + code + ': ' + message);
    err.name = 'VitrineError';
    err.code = code;
    err.status = status || 0;
    err.detail = message;
    return err;
  }

  // ---- ids and cookies ----------------------------------------------------------------------

  function uuid() {
    var c = window.crypto;
    if (c && typeof c.randomUUID === 'function') return c.randomUUID();
    var b = new Uint8Array(16);
    if (c && c.getRandomValues) c.getRandomValues(b);
    else for (var i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256);
    b[6] = (b[6] & 0x0f) | 0x40; // version 4
    b[8] = (b[8] & 0x3f) | 0x80; // RFC 4122 variant
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join('');
    return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
  }

  function readCookie(name) {
    var parts = document.cookie ? document.cookie.split('; ') : [];
    for (var i = 0; i < parts.length; i++) {
      var eq = parts[i].indexOf('=');
      if (parts[i].slice(0, eq) === name) return decodeURIComponent(parts[i].slice(eq + 1));
    }
    return null;
  }

  function writeCookie(name, value, maxAgeS) {
    var secure = window.location.protocol === 'https:' ? '; Secure' : '';
    document.cookie = name + '=' + encodeURIComponent(value) + '; Max-Age=' + maxAgeS +
      '; Path=/; SameSite=Lax' + secure;
  }

  /** The anonymous id: first-party cookie, kept for a year from the last visit. */
  function anonymousId() {
    var id = readCookie(AID_COOKIE);
    // The id is a bearer secret: the edge refuses short or regular ones, so replace any.
    if (!id || !strongId(id)) id = uuid();
    writeCookie(AID_COOKIE, id, YEAR_S);
    return id;
  }

  /** At least 16 characters, at least 8 distinct: the edge's rule for anonymous ids. */
  function strongId(id) {
    var seen = {};
    for (var i = 0; i < id.length; i++) seen[id.charAt(i)] = true;
    return id.length >= 16 && Object.keys(seen).length >= 8;
  }

  /** The session id: rolls over after 30 minutes without activity (each call extends it). */
  function sessionId() {
    var id = readCookie(SID_COOKIE) || uuid();
    writeCookie(SID_COOKIE, id, SESSION_IDLE_S);
    return id;
  }

  // ---- setup ----------------------------------------------------------------------------------

  /**
   * Configures the snippet. `endpoint`: the worker's origin (default: this page's origin);
   * `key`: the shop's public key, if it configured any; `userId`: the logged-in shopper and
   * `userToken`: the shop backend's signature of it (required with `userId`: the edge refuses a
   * user id it cannot verify); `currency`: ISO 4217 code for prices (default EUR).
   */
  function init(options) {
    var o = options || {};
    config = {
      endpoint: String(o.endpoint || window.location.origin).replace(/\/+$/, ''),
      key: o.key || '',
      userId: null,
      userToken: null,
      currency: o.currency || 'EUR'
    };
    config.anonymousId = anonymousId();
    if (o.userId) identify(o.userId, o.userToken);
    return api;
  }

  function ready() {
    if (!config) init({});
    return config;
  }

  function url(path, query) {
    var c = ready();
    var pairs = [];
    Object.keys(query || {}).forEach(function (name) {
      var v = query[name];
      if (v === undefined || v === null || v === '') return;
      if (Array.isArray(v)) v = v.join(',');
      pairs.push(encodeURIComponent(name) + '=' + encodeURIComponent(String(v)));
    });
    // The key travels as a query parameter: beacons cannot set headers, and it spares a preflight.
    if (c.key) pairs.push('key=' + encodeURIComponent(c.key));
    return c.endpoint + path + (pairs.length ? '?' + pairs.join('&') : '');
  }

  function itemPath(params, suffix) {
    return '/v1/items/' + encodeURIComponent(params.item) + suffix;
  }

  // ---- events ---------------------------------------------------------------------------------

  /**
   * Queues an event, filling in event_id, timestamp (epoch ms), session_id, anonymous_id and
   * user_id (when identified). Returns the completed event.
   */
  function track(event) {
    var c = ready();
    var e = {};
    Object.keys(event || {}).forEach(function (k) {
      if (event[k] !== undefined && event[k] !== null) e[k] = event[k];
    });
    if (!e.type) throw VitrineError('invalid_event', 'an event needs a `type`');
    e.event_id = e.event_id || uuid();
    e.timestamp = e.timestamp || Date.now();
    e.session_id = e.session_id || sessionId();
    e.anonymous_id = e.anonymous_id || c.anonymousId;
    if (c.userId && !e.user_id) e.user_id = c.userId;
    if (!e.user_id && !c.anonymousSince) {
      // Anonymous history again (e.g. after a logout): the next identify() must merge it.
      c.anonymousSince = true;
      storage('remove', 'vitrine_login');
    }
    remember(e);
    queue.push(e);
    if (queue.length > MAX_QUEUE) queue.splice(0, queue.length - MAX_QUEUE);
    if (queue.length >= FLUSH_AT) flush().catch(warn);
    else if (!timer) timer = setTimeout(function () { flush().catch(warn); }, FLUSH_DELAY_MS);
    return e;
  }

  // ---- the carried session --------------------------------------------------------------------
  // An anonymous shopper's recent touches travel with each recommendation request (`session`), so
  // the edge answers from them without a Durable Object read and without waiting for the event
  // POST: the next widget reflects the last click at once. Kept in localStorage per anonymous id.

  function recentTouches() {
    var c = ready();
    if (recent === null) {
      recent = [];
      try {
        var saved = JSON.parse(storage('get', CARRIED_KEY) || 'null');
        if (saved && saved.aid === c.anonymousId && Array.isArray(saved.touches)) recent = saved.touches;
      } catch (_) {
        recent = [];
      }
    }
    var now = Date.now();
    recent = recent.filter(function (t) { return now - t[1] <= CARRIED_TTL_MS; }).slice(0, CARRIED_MAX);
    return recent;
  }

  function remember(e) {
    var kind = TOUCH_KIND[e.type];
    if (!kind) return;
    var items = e.type === 'purchase' ? (e.lines || []).map(function (l) { return l.item_id; }) : [e.item_id];
    var touches = recentTouches();
    items.forEach(function (id) {
      if (id !== undefined && id !== null && String(id).indexOf(',') < 0) touches.unshift([kind, e.timestamp, String(id)]);
    });
    recent = touches.slice(0, CARRIED_MAX);
    storage('set', CARRIED_KEY, JSON.stringify({ aid: ready().anonymousId, touches: recent }));
  }

  /** The `session` parameter: `kind.seconds_ago.item_id`, most recent first. */
  function carriedSession() {
    var now = Date.now();
    return recentTouches().map(function (t) {
      return t[0] + '.' + Math.max(0, Math.round((now - t[1]) / 1000)) + '.' + t[2];
    }).join(',');
  }

  /** A product page was seen; `extra` may carry serve_id / placement / context. */
  function view(itemId, extra) {
    return track(assign({ type: 'view', item_id: String(itemId) }, extra));
  }

  function addToCart(itemId, quantity, price, extra) {
    var e = { type: 'add_to_cart', item_id: String(itemId), quantity: quantity || 1 };
    if (typeof price === 'number') {
      e.price = price;
      e.currency = ready().currency;
    }
    return track(assign(e, extra));
  }

  /** Cart lines in the event's shape: `lines` are {item_id (or id), quantity, price, currency?}. */
  function cartLines(lines) {
    var currency = ready().currency;
    return (lines || []).map(function (l) {
      return {
        item_id: String(l.item_id !== undefined ? l.item_id : l.id),
        quantity: l.quantity || 1,
        price: Number(l.price) || 0,
        currency: l.currency || currency
      };
    });
  }

  /** An order: `lines` are {item_id (or id), quantity, price, currency?}. */
  function purchase(orderId, lines, extra) {
    return track(assign({ type: 'purchase', order_id: String(orderId), lines: cartLines(lines) }, extra));
  }

  /** The cart page was seen with these lines (none for an empty cart). */
  function cartView(lines, extra) {
    return track(assign({ type: 'cart_view', lines: cartLines(lines) }, extra));
  }

  /** Checkout started with these lines; `orderId` when the shop already has one. */
  function checkout(lines, orderId, extra) {
    var e = { type: 'checkout', lines: cartLines(lines) };
    if (orderId !== undefined && orderId !== null) e.order_id = String(orderId);
    return track(assign(e, extra));
  }

  /**
   * The shopper logged in: later events carry `userId`, and a `login` event asks the edge to merge
   * this browser's anonymous history into the user (once per browser and user). `userToken` is the
   * shop backend's signature of `userId`, sent with every request that names the user.
   */
  function identify(userId, userToken) {
    var c = ready();
    if (!userId) {
      c.userId = null;
      c.userToken = null;
      return null;
    }
    c.userId = String(userId);
    c.userToken = userToken ? String(userToken) : null;
    c.anonymousSince = false;
    var marker = c.anonymousId + '|' + c.userId;
    if (storage('get', 'vitrine_login') === marker) return null;
    storage('set', 'vitrine_login', marker);
    return track({ type: 'login' });
  }

  function storage(op, name, value) {
    try {
      if (op === 'get') return window.localStorage.getItem(name);
      if (op === 'remove') window.localStorage.removeItem(name);
      else window.localStorage.setItem(name, value);
    } catch (_) {
      /* storage disabled: the login is simply sent again next time */
    }
    return null;
  }

  /**
   * Sends every queued event now. Resolves (after any earlier send) with the edge's answer to
   * the last POST, or null when nothing was queued; rejects with a VitrineError.
   */
  function flush() {
    if (timer) {
      clearTimeout(timer);
      timer = null;
    }
    var batch = queue.splice(0, MAX_BATCH);
    // More than one POST's worth (only after a long outage): the rest follows shortly.
    if (queue.length) timer = setTimeout(function () { flush().catch(warn); }, FLUSH_DELAY_MS);
    var run = sending.then(function () {
      return batch.length ? post(batch) : null;
    });
    sending = run.catch(function () {});
    return run;
  }

  /** An event batch body; it carries the user token when an event names the user. */
  function eventBody(batch) {
    var c = ready();
    var named = c.userToken && batch.some(function (e) { return e.user_id === c.userId; });
    return JSON.stringify(named ? { events: batch, user_token: c.userToken } : { events: batch });
  }

  function post(batch) {
    var body = eventBody(batch);
    return window.fetch(url('/v1/events'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: body,
      keepalive: body.length < 60000 // keepalive bodies are capped near 64 KB
    }).then(function (resp) {
      return answer(resp).then(function (out) {
        if (out.rejected) warn(VitrineError('events_rejected', out.rejected + ' event(s): ' +
          JSON.stringify(out.errors)));
        return out;
      }, function (err) {
        // Worth another try later (busy, unavailable); other errors would fail again.
        if (err.status === 429 || err.status >= 500) requeue(batch);
        throw err;
      });
    }, function (err) {
      requeue(batch);
      throw VitrineError('network_error', String(err && err.message || err));
    });
  }

  function requeue(batch) {
    queue = batch.concat(queue).slice(-MAX_QUEUE);
  }

  /** The page is going away: hand what is queued to sendBeacon (text/plain, no preflight). */
  function flushOnHide() {
    if (timer) {
      clearTimeout(timer);
      timer = null;
    }
    while (queue.length) {
      var chunk = queue.splice(0, BEACON_CHUNK);
      var body = eventBody(chunk);
      var sent = false;
      try {
        sent = navigator.sendBeacon && navigator.sendBeacon(url('/v1/events'),
          new Blob([body], { type: 'text/plain;charset=UTF-8' }));
      } catch (_) {
        sent = false;
      }
      if (!sent) {
        window.fetch(url('/v1/events'), { method: 'POST', body: body, keepalive: true })
          .catch(function () {});
      }
    }
  }

  window.addEventListener('pagehide', flushOnHide);
  document.addEventListener('visibilitychange', function () {
    if (document.visibilityState === 'hidden') flushOnHide();
  });

  // ---- recommendations ------------------------------------------------------------------------

  /**
   * One widget: `for_you`, `similar` (params.item), `bought_together` (params.item), `cart`
   * (params.items), `trending`, `buy_again`. Other params (k, offset, category, brand, min_price,
   * max_price, in_stock, exclude, exclude_purchased, diversity, context) go to the API as they are.
   * `placement` (default: the widget name) names the slot; `impression: false` skips the
   * rec_impression. The answer reflects the last click: an anonymous shopper's `for_you` carries
   * the recent session (queued events are sent alongside, not waited for); other widgets send the
   * queued events first.
   * Resolves with the API's response plus `placement`; rejects with a VitrineError.
   */
  function recommend(widget, params) {
    var p = assign({}, params);
    if (p.item === undefined && p.item_id !== undefined) p.item = p.item_id;
    var spec = WIDGETS[widget];
    if (!spec) {
      return Promise.reject(VitrineError('invalid_parameter', 'unknown widget `' + widget +
        '`; use one of ' + Object.keys(WIDGETS).join(', ')));
    }
    if (spec.item && (p.item === undefined || p.item === null || p.item === '')) {
      return Promise.reject(VitrineError('invalid_parameter', 'widget `' + widget + '` needs `item`'));
    }
    if (widget === 'cart' && !(Array.isArray(p.items) && p.items.length)) {
      return Promise.reject(VitrineError('invalid_parameter', 'widget `cart` needs `items`'));
    }
    var placement = p.placement || widget;
    var c = ready();
    var query = {};
    Object.keys(p).forEach(function (k) {
      if (OWN_PARAMS.indexOf(k) < 0) query[k] = p[k];
    });
    if (spec.shopper) {
      if (c.userId) {
        query.user_id = c.userId;
        if (c.userToken) query.user_token = c.userToken;
      } else query.anonymous_id = c.anonymousId;
    }
    var carry = widget === 'for_you' && !c.userId;
    if (carry && query.session === undefined) query.session = carriedSession();
    var sent = flush().catch(function (err) {
      warn(err); // the widget still renders, just without the events that failed to send
    });
    var settled = carry ? Promise.resolve() : sent;
    return settled.then(function () {
      if (spec.post) {
        query.items = p.items.map(String);
        if (typeof query.exclude === 'string') query.exclude = query.exclude.split(',');
        return request(url(spec.path(p)), {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(query)
        });
      }
      return request(url(spec.path(p), query));
    }).then(function (resp) {
      resp.placement = placement;
      var ids = (resp.items || []).map(function (i) { return i.id; });
      if (ids.length && p.impression !== false) {
        track({ type: 'rec_impression', serve_id: resp.serve_id, placement: placement,
          results: ids.slice(0, MAX_RESULTS) });
      }
      return resp;
    });
  }

  /**
   * A shown item was clicked: `response` from recommend() or search(), 1-based `position`
   * (default: its rank).
   */
  function clicked(response, itemId, position) {
    if (!response || !response.serve_id) throw VitrineError('invalid_parameter', 'clicked() needs a recommend() or search() response');
    var id = String(itemId);
    if (!position) {
      var at = (response.items || []).map(function (i) { return String(i.id); }).indexOf(id);
      position = at >= 0 ? at + 1 : undefined;
    }
    return track({ type: 'rec_click', serve_id: response.serve_id, item_id: id,
      placement: response.placement, position: position });
  }

  // ---- search ---------------------------------------------------------------------------------

  /**
   * Product search. `options`: category, brand (a name or a list), min_price, max_price, in_stock,
   * rating_min, sort (relevance | price_asc | price_desc | popularity | newest), facets (default
   * all: brand, category, price), page, k, intents ('off' keeps price words as words), placement
   * (default 'search'). The shopper's ids and, for an anonymous shopper, the recent session go
   * along, so the ranking leans to their taste; queued events are sent alongside, not waited for.
   * Resolves with the API's response (items with `highlight`, facets with counts, total,
   * did_you_mean, intents with the query `without` each, serve_id) plus `placement`. Hand it to
   * clicked() when a hit is clicked: the click carries the search's serve id, which is how search
   * click-through is counted in the lake's KPI tables.
   */
  function search(q, options) {
    var p = assign({ facets: 'brand,category,price' }, options);
    var placement = p.placement || 'search';
    delete p.placement;
    var c = ready();
    var query = assign({ q: q === undefined || q === null ? '' : String(q) }, p);
    if (c.userId) {
      query.user_id = c.userId;
      if (c.userToken) query.user_token = c.userToken;
    } else {
      query.anonymous_id = c.anonymousId;
      if (query.session === undefined) query.session = carriedSession();
    }
    flush().catch(warn);
    return request(url('/v1/search', query)).then(function (resp) {
      resp.placement = placement;
      return resp;
    });
  }

  /**
   * As-you-type suggestions for what was typed so far: {queries: [string], products: [hit]}.
   * `options.k`: how many of each (default 5).
   */
  function suggest(q, options) {
    var query = assign({ q: q === undefined || q === null ? '' : String(q), k: 5 }, options);
    return request(url('/v1/search/suggest', query));
  }

  /** The product as the live model knows it: {id, title, category, brand, price, in_stock}. */
  function item(itemId) {
    return request(url('/v1/items/' + encodeURIComponent(itemId)));
  }

  /** fetch → parsed JSON, or a VitrineError from the `{"error":{code,message}}` envelope. */
  function request(href, init) {
    return window.fetch(href, init).then(answer, function (err) {
      throw VitrineError('network_error', String(err && err.message || err));
    });
  }

  function answer(resp) {
    return resp.text().then(function (text) {
      var body = null;
      try {
        body = text ? JSON.parse(text) : null;
      } catch (_) {
        body = null;
      }
      if (resp.ok && body) return body;
      var e = body && body.error;
      if (e && e.code) throw VitrineError(e.code, e.message || '', resp.status);
      throw VitrineError(resp.ok ? 'bad_response' : 'http_' + resp.status,
        (text || resp.statusText || 'no body').slice(0, 200), resp.status);
    });
  }

  // ---- helpers --------------------------------------------------------------------------------

  function assign(target, source) {
    Object.keys(source || {}).forEach(function (k) { target[k] = source[k]; });
    return target;
  }

  function warn(err) {
    if (window.console) window.console.warn(err && err.message ? err.message : err);
  }

  var api = {
    init: init,
    track: track,
    view: view,
    addToCart: addToCart,
    purchase: purchase,
    cartView: cartView,
    checkout: checkout,
    identify: identify,
    flush: flush,
    recommend: recommend,
    clicked: clicked,
    search: search,
    suggest: suggest,
    item: item,
    /** The ids in use: {anonymousId, sessionId, userId}. */
    ids: function () {
      var c = ready();
      return { anonymousId: c.anonymousId, sessionId: sessionId(), userId: c.userId };
    }
  };
  window.Vitrine = api;
})(window, document);
