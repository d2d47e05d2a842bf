-- wrk script for bench/lnd-402.sh: raw AddInvoice calls (POST /v1/invoices on LND's REST API),
-- 1 sat, 600 s expiry, each with its own memo; the macaroon comes from LND_MACAROON_HEX.
-- At the end, prints one machine-readable line:
--   RESULT requests=<n> ok=<n> other=<n> errors=<n>

local macaroon = os.getenv("LND_MACAROON_HEX") or ""
local threads = {}

function setup(thread)
  thread:set("offset", #threads * 1000000000)
  table.insert(threads, thread)
end

function init(args)
  ok, other = 0, 0
  counter = offset
end

function request()
  counter = counter + 1
  return wrk.format("POST", "/v1/invoices", {
    ["Grpc-Metadata-macaroon"] = macaroon,
    ["Content-Type"] = "application/json",
  }, string.format('{"value":"1","expiry":"600","memo":"lnd-402 bench %d"}', counter))
end

function response(status, headers, body)
  if status == 200 then ok = ok + 1 else other = other + 1 end
end

function done(summary, latency, requests)
  local a, b = 0, 0
  for _, t in ipairs(threads) do
    a = a + t:get("ok")
    b = b + t:get("other")
  end
  local e = summary.errors
  io.write(string.format("RESULT requests=%d ok=%d other=%d errors=%d\n",
    summary.requests, a, b, e.connect + e.read + e.write + e.timeout))
end
