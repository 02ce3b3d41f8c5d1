-- wrk script for bench/raft_compare.sh: PUT /v1/kv/kN with a 100-byte value, keys drawn from a
-- bounded key space (so the replicated map, and its snapshots, stay bounded). Counts the 200s
-- (committed and applied) apart from everything else and prints one machine-readable line.
local keys = tonumber(os.getenv("WALKV_BENCH_KEYS") or "10000")
local value = string.rep("v", 100)
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  ok = 0
  other = 0
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000)
end

function request()
  return wrk.format("PUT", "/v1/kv/k" .. math.random(0, keys - 1), nil, value)
end

function response(status, headers, body)
  if status == 200 then ok = ok + 1 else other = other + 1 end
end

function done(summary, latency, requests)
  local total_ok, total_other = 0, 0
  for _, t in ipairs(threads) do
    total_ok = total_ok + t:get("ok")
    total_other = total_other + t:get("other")
  end
  io.write(string.format("WALKV_RESULT ok=%d other=%d errors=%d duration_us=%d p50_us=%d p99_us=%d\n",
    total_ok, total_other,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.duration, latency:percentile(50), latency:percentile(99)))
end
