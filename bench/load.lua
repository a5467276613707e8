-- wrk script for bench/load.sh: 80% reads (for-you, similar items, search), 20% event batches
-- of 10 views with distinct event ids; counts the events the worker accepted (202 bodies).
local threads = {}
local counter = 1

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local items, queries = {}, { "usb", "charger", "phone", "cable", "headphones", "laptop", "tv", "camera" }

function init(args)
  tid = tonumber(wrk.thread:get("tid")) or 0
  for i = 1, #args do items[i] = args[i] end
  seq, accepted, rejected, posts = 0, 0, 0, 0
  math.randomseed(tid * 7919 + os.time())
end

local function item() return items[math.random(#items)] end

function request()
  local r = math.random(100)
  -- anonymous ids are bearer secrets: at least 16 characters, 8 distinct
  local shopper = "load-shopper-" .. math.random(20000) .. "-abcdefgh"
  if r <= 20 then
    posts = posts + 1
    local now = os.time() * 1000
    local evs = {}
    for j = 1, 10 do
      seq = seq + 1
      evs[j] = string.format(
        '{"event_id":"load-%d-%d","type":"view","anonymous_id":"%s","session_id":"%s","timestamp":%d,"item_id":"%s"}',
        tid, seq, shopper, shopper, now, item())
    end
    return wrk.format("POST", "/v1/events", { ["content-type"] = "application/json" },
      '{"events":[' .. table.concat(evs, ",") .. "]}")
  elseif r <= 55 then
    return wrk.format("GET", "/v1/recommendations?anonymous_id=" .. shopper .. "&k=10")
  elseif r <= 80 then
    return wrk.format("GET", "/v1/items/" .. item() .. "/similar?k=10")
  else
    return wrk.format("GET", "/v1/search?q=" .. queries[math.random(#queries)] .. "&k=10")
  end
end

function response(status, headers, body)
  if status == 202 then
    local a = tonumber(string.match(body, '"accepted":(%d+)'))
    local rj = tonumber(string.match(body, '"rejected":(%d+)'))
    accepted = accepted + (a or 0)
    rejected = rejected + (rj or 0)
  end
end

function done(summary, latency, requests)
  local acc, rej, sent = 0, 0, 0
  for _, t in ipairs(threads) do
    acc = acc + (tonumber(t:get("accepted")) or 0)
    rej = rej + (tonumber(t:get("rejected")) or 0)
    sent = sent + (tonumber(t:get("posts")) or 0)
  end
  io.write(string.format("LOAD requests=%d errors=%d non2xx=%d duration_s=%.1f rps=%.1f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f posts=%d accepted=%d rejected=%d\n",
    summary.requests,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000, sent, acc, rej))
end
