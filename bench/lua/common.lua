-- Shared by the benchmark scripts: reading the credentials file, checking answers, reporting.
--
-- Each script builds its requests in init() and calls check() from response(); done() prints one
-- line "BENCH_JSON {...}" that bench/wrk.py parses: wrk's counts and latency percentiles plus the
-- answers this script judged wrong (a non-200 status, a JSON-RPC error, a tool result with
-- isError true, or a body that lacks the expected marker).

local M = {}

local threads = {}

function M.read_lines(path)
  local lines = {}
  local f = assert(io.open(path, "r"), "cannot open " .. tostring(path))
  for line in f:lines() do
    if line ~= "" then lines[#lines + 1] = line end
  end
  f:close()
  assert(#lines > 0, "no lines in " .. path)
  return lines
end

function M.split(line)
  local parts = {}
  for word in line:gmatch("%S+") do parts[#parts + 1] = word end
  return parts
end

-- A JSON string literal for simple ASCII values (tokens, ids, names) without a JSON library.
function M.q(s)
  return '"' .. s:gsub('\\', '\\\\'):gsub('"', '\\"') .. '"'
end

-- Called by wrk for each thread it creates (in the main Lua state).
function M.setup(thread)
  thread:set("id", #threads + 1)
  threads[#threads + 1] = thread
end

-- Per thread: failures, seen by this thread's response() calls.
bad_status, bad_body, checked = 0, 0, 0
first_failure = ""

function M.check(status, body, marker)
  checked = checked + 1
  local failed = nil
  if status ~= 200 then
    bad_status = bad_status + 1
    failed = "status " .. status
  elseif body == nil or (marker and not body:find(marker, 1, true))
      or body:find('"isError":true', 1, true) or body:find('"error":{', 1, true) then
    bad_body = bad_body + 1
    failed = "body"
  end
  if failed and first_failure == "" then
    first_failure = failed .. ": " .. (body or ""):sub(1, 300)
  end
end

function M.done(summary, latency, requests)
  local bs, bb, ck, ff = 0, 0, 0, ""
  for _, t in ipairs(threads) do
    bs = bs + (t:get("bad_status") or 0)
    bb = bb + (t:get("bad_body") or 0)
    ck = ck + (t:get("checked") or 0)
    local f = t:get("first_failure") or ""
    if ff == "" then ff = f end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"bad_status":%d,"bad_body":%d,"checked":%d,' ..
    '"latency_us":{"min":%d,"mean":%.1f,"max":%d,"stdev":%.1f,"p50":%d,"p90":%d,"p99":%d},' ..
    '"first_failure":%s}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    bs, bb, ck,
    latency.min, latency.mean, latency.max, latency.stdev,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    M.q((ff:gsub("[%c]", " ")))))
end

return M
