-- wrk script of the benchmarks. BENCH_TOKENS names a file with one bearer token per line.
-- BENCH_GET=path: every request GETs that path with the first token (a baseline).
-- Otherwise every request buys a distinct (buyer, app) pair from BENCH_APPS (one app id per
-- line, BENCH_SPREAD apps of each owner in a row), so each one is a real purchase; BENCH_OFFSET
-- skips the pairs earlier runs on the same database bought.

local function lines(path)
  local out = {}
  for line in io.lines(path) do out[#out + 1] = line end
  return out
end

local threads = {}
counter = 0  -- global: done() reads each thread's count

function setup(thread)
  thread:set("thread_index", #threads)
  table.insert(threads, thread)
end

function init(args)
  tokens = lines(os.getenv("BENCH_TOKENS"))
  get_path = os.getenv("BENCH_GET")
  if not get_path then apps = lines(os.getenv("BENCH_APPS")) end
  thread_count = tonumber(os.getenv("BENCH_THREADS"))
  spread = tonumber(os.getenv("BENCH_SPREAD") or "1")
  offset = tonumber(os.getenv("BENCH_OFFSET") or "0")
end

function request()
  if get_path then
    return wrk.format("GET", get_path, {["Authorization"] = "Bearer " .. tokens[1]}, nil)
  end
  -- Interleave threads so no two threads ever produce the same pair.
  local pair = offset + thread_index + counter * thread_count
  counter = counter + 1
  -- Buyer b takes apps b*spread, b*spread+1, ...: requests in flight together have distinct
  -- buyers and, with apps listed owner by owner `spread` at a time, distinct owners.
  local buyer = pair % #tokens
  local app = (buyer * spread + math.floor(pair / #tokens)) % #apps
  local headers = {["Authorization"] = "Bearer " .. tokens[buyer + 1]}
  return wrk.format("POST", "/api/v1/apps/" .. apps[app + 1] .. "/purchase", headers, "")
end

function done(summary, latency, requests)
  local errors = summary.errors
  -- Threads advance at their own pace: the pairs used reach the busiest thread's count.
  local most = 0
  for _, thread in ipairs(threads) do most = math.max(most, thread:get("counter") or 0) end
  io.write(string.format(
    'RESULT {"requests": %d, "seconds": %.3f, "p50_ms": %.3f, "p90_ms": %.3f, "p99_ms": %.3f, ' ..
    '"max_ms": %.3f, "non_2xx": %d, "socket_errors": %d, "pairs": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3,
    latency:percentile(90) / 1e3, latency:percentile(99) / 1e3, latency.max / 1e3,
    errors.status, errors.connect + errors.read + errors.write + errors.timeout,
    most * #threads))
end
