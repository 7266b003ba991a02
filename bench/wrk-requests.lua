-- wrk script for the Switchboard bench: sends the pre-signed requests of a file written by
-- gen_requests.py (fixed-size records, one complete HTTP/1.1 request each), never the same one
-- twice within a run unless the file runs out (then it wraps and says so: "wraps" > 0).
--
-- usage: wrk ... -s wrk-requests.lua URL -- FILE RECORD_SIZE START_INDEX RECORD_COUNT THREADS OUT_JSON
--
-- Threads take disjoint blocks of records: thread t uses blocks t, t+T, t+2T, ... counted from
-- START_INDEX, so idempotency keys stay unique across threads. done() writes OUT_JSON with the
-- figures (latency from wrk's own histogram, in microseconds), the count of every status code,
-- and "next_index", the first record no thread has touched: the next phase starts there.

local BLOCK = 256 -- records read per file access

-- main state -------------------------------------------------------------------------------
local threads = {}
local thread_count = 0

function setup(thread)
  thread:set("tid", thread_count)
  thread_count = thread_count + 1
  table.insert(threads, thread)
end

-- thread state -----------------------------------------------------------------------------
local file, rec, total, nthreads
start = 0      -- first record of this run (read by done())
out_json = nil -- where done() writes its figures
local buf, pos = nil, BLOCK + 1
blocks = 0  -- blocks taken (read by done())
wraps = 0
statuses = {}

local function next_block()
  local index = tid + blocks * nthreads
  local first = start + index * BLOCK
  if first + BLOCK > total then
    -- out of fresh records: start again at this thread's first block (keys repeat)
    wraps = wraps + 1
    blocks = 0
    index = tid
    first = start + index * BLOCK
    if first + BLOCK > total then
      error("request file too small: need at least " .. (start + (tid + 1) * BLOCK) .. " records")
    end
  end
  file:seek("set", first * rec)
  buf = file:read(BLOCK * rec)
  if buf == nil or #buf ~= BLOCK * rec then
    error("short read from the request file at record " .. first)
  end
  blocks = blocks + 1
  pos = 1
end

function init(args)
  file = assert(io.open(args[1], "rb"))
  rec = tonumber(args[2])
  start = tonumber(args[3])
  total = tonumber(args[4])
  nthreads = tonumber(args[5])
  out_json = args[6]
end

function request()
  if pos > BLOCK then
    next_block()
  end
  local offset = (pos - 1) * rec
  pos = pos + 1
  return buf:sub(offset + 1, offset + rec)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

-- main state again, after the run --------------------------------------------------------------
function done(summary, latency, requests)
  local args_out, start_index
  local max_blocks, total_wraps = 0, 0
  local counts = {}
  for _, t in ipairs(threads) do
    local b = t:get("blocks") or 0
    if b > max_blocks then max_blocks = b end
    total_wraps = total_wraps + (t:get("wraps") or 0)
    local s = t:get("statuses") or {}
    for code, n in pairs(s) do
      counts[code] = (counts[code] or 0) + n
    end
    args_out = args_out or t:get("out_json")
    start_index = start_index or t:get("start")
  end
  local status_parts = {}
  local non2xx = 0
  for code, n in pairs(counts) do
    table.insert(status_parts, string.format('"%d":%d', code, n))
    if code < 200 or code > 299 then non2xx = non2xx + n end
  end
  local e = summary.errors
  local seconds = summary.duration / 1e6
  local json = string.format(
    '{"requests":%d,"duration_s":%.3f,"rps":%.1f,"bytes":%d,' ..
    '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d,"mean":%.1f,"stdev":%.1f},' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"statuses":{%s},"non2xx":%d,"wraps":%d,"next_index":%d}',
    summary.requests, seconds, summary.requests / seconds, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, latency.mean, latency.stdev,
    e.connect, e.read, e.write, e.status, e.timeout,
    table.concat(status_parts, ","), non2xx, total_wraps,
    start_index + max_blocks * thread_count * BLOCK)
  if args_out then
    local f = assert(io.open(args_out, "w"))
    f:write(json, "\n")
    f:close()
  end
  io.write("BENCH_JSON ", json, "\n")
end
