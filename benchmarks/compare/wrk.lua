-- wrk script used unchanged against release-chan and nginx (benchmarks/compare.sh).
-- With WRK_PATHS set (a file, one request path per line) every request picks a path uniformly at
-- random from it (requests are pre-formatted once per thread, so the choice costs one table index);
-- without it wrk sends its URL's path. done() prints one JSON line with rps and latency percentiles.

local requests_by_index = {}
local count = 0
local thread_counter = 0

function setup(thread)
  thread_counter = thread_counter + 1
  thread:set("thread_id", thread_counter)
end

function init(args)
  local file = os.getenv("WRK_PATHS")
  if file and file ~= "" then
    for line in io.lines(file) do
      if line ~= "" then
        count = count + 1
        requests_by_index[count] = wrk.format(nil, line)
      end
    end
  end
  math.randomseed(1000 + (thread_id or 0))
end

function request()
  if count == 0 then
    return wrk.format()
  end
  return requests_by_index[math.random(count)]
end

function done(summary, latency, requests)
  local e = summary.errors
  local seconds = summary.duration / 1e6
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"bytes":%d,"rps":%.1f,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"p50":%.1f,"p90":%.1f,"p99":%.1f,"p99_9":%.1f,"max":%.1f}}\n',
    summary.requests, summary.duration, summary.bytes, summary.requests / seconds,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max))
end
