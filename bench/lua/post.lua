-- wrk script for the SaltApi benchmarks.
--   BENCH_BODY   file whose bytes are POSTed (unset: GET)
-- Headers (Content-Type, Accept, X-Auth-Token) come from wrk's -H options.
-- done() prints one machine-readable line: BENCH {json}; latencies are in microseconds.

local body_file = os.getenv("BENCH_BODY")
if body_file and body_file ~= "" then
   local f = assert(io.open(body_file, "rb"))
   wrk.method = "POST"
   wrk.body = f:read("*a")
   f:close()
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      'BENCH {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,' ..
      '"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f}\n',
      summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
