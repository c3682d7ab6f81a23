-- wrk script for the SaltApi benchmarks.
--   BENCH_BODY    file whose bytes are POSTed (unset: GET)
--   BENCH_EXPECT  optional: minion ids separated by spaces; a response counts as "missing" unless it is a 200
--                 whose body has every one of them as a key with the value true ("ms-0": true)
-- Headers (Content-Type, Accept, X-Auth-Token) come from wrk's -H options.
-- done() prints one machine-readable line: BENCH {json}; latencies are in microseconds.

local body_file = os.getenv("BENCH_BODY")
if body_file and body_file ~= "" then
   local f = assert(io.open(body_file, "rb"))
   wrk.method = "POST"
   wrk.body = f:read("*a")
   f:close()
end

local threads = {}
function setup(thread)
   table.insert(threads, thread)
end

local expect = os.getenv("BENCH_EXPECT") or ""
if expect ~= "" then
   local patterns = {}
   for id in string.gmatch(expect, "%S+") do
      table.insert(patterns, '"' .. string.gsub(id, "%p", "%%%0") .. '"%s*:%s*true')
   end
   missing = 0
   -- Defined only when asked for: wrk reads every response body only for a script with response().
   function response(status, headers, body)
      local good = status == 200 and body ~= nil
      if good then
         for _, p in ipairs(patterns) do
            if not string.find(body, p) then
               good = false
               break
            end
         end
      end
      if not good then
         missing = missing + 1
      end
   end
end

function done(summary, latency, requests)
   local e = summary.errors
   local missed = 0
   for _, t in ipairs(threads) do
      missed = missed + (tonumber(t:get("missing")) or 0)
   end
   io.write(string.format(
      'BENCH {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,' ..
      '"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f,"missing":%d}\n',
      summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean, missed))
end
