-- wrk script for bench/proxy-load.sh.
--
-- * If WRK_AUTHORIZATION is set, every request carries it as the Authorization header
--   (the L402 token for the paid case).
-- * At the end, prints one machine-readable line:
--   RESULT rps=<req/s> p50_us=<µs> p99_us=<µs> requests=<n> non2xx=<n> errors=<n>
--   where non2xx counts HTTP status >= 400 (wrk's "status" errors: 402s in the challenge case)
--   and errors counts connect/read/write errors and timeouts.

local auth = os.getenv("WRK_AUTHORIZATION")
if auth ~= nil and auth ~= "" then
  wrk.headers["Authorization"] = auth
end
-- * If WRK_BODY is set, every request is a POST of it as JSON (bench/metered.sh).
local body = os.getenv("WRK_BODY")
if body ~= nil and body ~= "" then
  wrk.method = "POST"
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
end

done = function(summary, latency, requests)
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format(
    "RESULT rps=%.1f p50_us=%d p99_us=%d requests=%d non2xx=%d errors=%d\n",
    summary.requests / secs,
    latency:percentile(50),
    latency:percentile(99),
    summary.requests,
    e.status,
    e.connect + e.read + e.write + e.timeout))
end
