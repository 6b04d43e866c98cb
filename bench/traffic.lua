-- wrk script: Teams-shaped turns from many users, each walking the same scenario in order.
--
-- Arguments after `--`: <run number> <users per thread> <template for step 1> ... <step n>.
-- The templates come from bench/scenario.py and have holes @id@, @aad@ and @conversation@.
-- Request i of a thread goes to user (i mod users) at step (i div users) mod n, so one user's
-- consecutive steps are `users` requests apart and never in flight at the same time.
-- done() prints one line "BENCH_RESULT {json}" that bench/load.py reads.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

local run, users, templates, count
local headers = { ["Content-Type"] = "application/json" }

function init(args)
  run = tonumber(args[1])
  users = tonumber(args[2])
  templates = {}
  for i = 3, #args do
    templates[#templates + 1] = args[i]
  end
  count = 0
  sent = {}
  for i = 1, #templates do
    sent[i] = 0
  end
end

function request()
  local user = count % users
  local step = math.floor(count / users) % #templates + 1
  local holes = {
    id = string.format("bench-r%d-t%d-%d", run, id, count),
    aad = string.format("%08x-%04x-4000-8000-%012x", run, id, user),
    conversation = string.format("a:bench-r%d-t%d-u%d", run, id, user),
  }
  count = count + 1
  sent[step] = sent[step] + 1
  local body = templates[step]:gsub("@(%w+)@", holes)
  return wrk.format("POST", "/api/messages", headers, body)
end

function done(summary, latency, requests)
  -- done() runs in wrk's main Lua state, where init() never ran: count from the threads.
  local steps = {}
  for _, thread in ipairs(threads) do
    local counts = thread:get("sent")
    for i = 1, #counts do
      steps[i] = (steps[i] or 0) + counts[i]
    end
  end
  local errors = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"duration_us":%d,"requests":%d,"connect_errors":%d,"read_errors":%d,' ..
    '"write_errors":%d,"timeouts":%d,"non_2xx":%d,"p50_us":%d,"p95_us":%d,"p99_us":%d,' ..
    '"max_us":%d,"mean_us":%.1f,"sent_per_step":[%s]}\n',
    summary.duration, summary.requests, errors.connect, errors.read, errors.write,
    errors.timeout, errors.status, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, latency.mean, table.concat(steps, ",")))
end
