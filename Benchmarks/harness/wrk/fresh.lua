-- wrk script for cache-miss targets: every request carries the next token of
-- BENCH_TOKENS_FILE (one JWT a line, made by gen_fresh_tokens.py), in rotation.
-- Prints the same BENCH_JSON summary line as auth.lua.
--   BENCH_TOKENS_FILE (env) file of tokens;  BENCH_PATH (env) request path
local path = os.getenv("BENCH_PATH") or "/api/users/42"
local tokens = {}
for line in io.lines(os.getenv("BENCH_TOKENS_FILE")) do
  if #line > 0 then tokens[#tokens + 1] = "Bearer " .. line end
end
-- Each wrk thread starts at a different offset (wrk runs one Lua state per thread).
local i = math.random(#tokens)
local hdr = {}
request = function()
  i = i % #tokens + 1
  hdr["Authorization"] = tokens[i]
  return wrk.format("GET", path, hdr)
end

done = function(summary, latency, requests)
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_s":%.3f,"rps":%.1f,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"p999_us":%d,"max_us":%d,"mean_us":%.1f,' ..
    '"bytes":%d,"err_connect":%d,"err_read":%d,"err_write":%d,"err_status":%d,"err_timeout":%d}\n',
    summary.requests, secs, summary.requests / secs,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, latency.mean,
    summary.bytes, e.connect, e.read, e.write, e.status, e.timeout))
end
