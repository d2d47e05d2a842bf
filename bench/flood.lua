-- wrk script for bench/unpaid-flood.sh: unpaid requests, counted by answer.
--
-- * FLOOD_CLIENTS=N (N > 1): each request names one of N clients in X-Forwarded-For
--   (198.18.x.y, the benchmarking range), round robin; the proxy trusts loopback as a proxy, so
--   each counts as its own client. Unset or 1: no header, every request is the one loopback
--   client.
-- * At the end, prints one machine-readable line:
--   RESULT requests=<n> s402=<n> s429=<n> other=<n> errors=<n>

local clients = tonumber(os.getenv("FLOOD_CLIENTS") or "1") or 1
local threads = {}

function setup(thread)
  thread:set("offset", #threads * 7919)
  table.insert(threads, thread)
end

function init(args)
  s402, s429, other = 0, 0, 0
  counter = offset
end

function request()
  if clients > 1 then
    counter = counter + 1
    local c = counter % clients
    wrk.headers["X-Forwarded-For"] =
      string.format("198.18.%d.%d", math.floor(c / 250), c % 250 + 1)
  end
  return wrk.format(nil)
end

function response(status, headers, body)
  if status == 402 then
    s402 = s402 + 1
  elseif status == 429 then
    s429 = s429 + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local a, b, c = 0, 0, 0
  for _, t in ipairs(threads) do
    a = a + t:get("s402")
    b = b + t:get("s429")
    c = c + t:get("other")
  end
  local e = summary.errors
  io.write(string.format("RESULT requests=%d s402=%d s429=%d other=%d errors=%d\n",
    summary.requests, a, b, c, e.connect + e.read + e.write + e.timeout))
end
