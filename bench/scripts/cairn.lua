-- wrk script for bench/run and bench/responses: one request shape per mode, random ids and filter values from the files bench/Seed
-- writes, and a one-line summary in $WRK_OUT (wrk's own report has no p90 and no machine-readable form).
--   wrk ... -s bench/scripts/cairn.lua URL -- MODE DATA_DIR [BODY_FILE]
local mode, ids, deep, tenants, users, body

local function lines(path)
  local t = {}
  for line in io.lines(path) do t[#t + 1] = line end
  return t
end

local function pick(t) return t[math.random(#t)] end

function init(args)
  mode = args[1]
  local data = args[2]
  math.randomseed(os.time())
  ids = lines(data .. "/ids.txt")
  deep = lines(data .. "/deep-ids.txt")
  tenants = lines(data .. "/tenants.txt")
  users = lines(data .. "/users.txt")
  if args[3] then
    local f = assert(io.open(args[3], "rb"))
    body = f:read("*a")
    f:close()
    wrk.headers["Content-Type"] = "application/json"
  end
end

local list = "/v1/chat/completions?limit=20"

-- A create from the body file: a different user per request, so the metadata index takes inserts where real traffic
-- puts them, and a different ticket number, so no two user messages are the same text (the system prompt repeats,
-- as in life).
local function create(path)
  local text = body:gsub("__USER__", pick(users), 1)
  text = text:gsub("__TICKET__", tostring(math.random(1000000000)), 1)
  return wrk.format("POST", path, nil, text)
end

function request()
  if mode == "ceiling" then
    return wrk.format("GET", "/c/" .. pick(ids))
  elseif mode == "get" then
    return wrk.format("GET", "/v1/chat/completions/" .. pick(ids))
  elseif mode == "tenant" then
    return wrk.format("GET", list .. "&metadata%5Btenant%5D=" .. pick(tenants))
  elseif mode == "user" then
    return wrk.format("GET", list .. "&metadata%5Buser%5D=" .. pick(users))
  elseif mode == "deep" then
    return wrk.format("GET", list .. "&after=" .. pick(deep))
  elseif mode == "deep-tenant" then
    return wrk.format("GET", list .. "&metadata%5Btenant%5D=" .. pick(tenants) .. "&after=" .. pick(deep))
  elseif mode == "tenant-user" then
    return wrk.format("GET", list .. "&metadata%5Btenant%5D=" .. pick(tenants) .. "&metadata%5Buser%5D=" .. pick(users))
  elseif mode == "post" then
    return create("/v1/chat/completions")
  elseif mode == "respond" then
    return create("/v1/responses")
  end
  error("unknown mode " .. tostring(mode))
end

-- WRK_RAW=FILE (one connection per thread only): each request's own latency, from handing the request to wrk to its
-- response, and in FILE "requests p50_us p90_us p99_us max_us". wrk corrects the statistics it hands to done() for
-- coordinated omission: with the mean interval between a connection's requests I, every response slower than 2I is
-- counted again at its latency minus I, minus 2I, ... as if requests had kept coming at the mean rate while it was
-- outstanding. At one connection, where I is the mean latency (0.5 ms, say), a single 5 ms stall adds eight samples, so
-- wrk's p99 there weights stalls far above their share of requests. These are the requests as the client saw them.
local raw_file = os.getenv("WRK_RAW")
if raw_file == "" then raw_file = nil end
raw_latencies = {} -- global: done() runs in wrk's main script and reads each thread's copy (thread:get)
local threads = {}

function setup(thread) threads[#threads + 1] = thread end

local function raw_done()
  local all = {}
  for _, thread in ipairs(threads) do
    for _, us in ipairs(thread:get("raw_latencies")) do all[#all + 1] = us end
  end
  table.sort(all)
  local function at(q) return #all > 0 and all[math.max(1, math.ceil(q * #all))] or 0 end
  local f = assert(io.open(raw_file, "w"))
  f:write(string.format("%d %.0f %.0f %.0f %.0f\n", #all, at(0.5), at(0.9), at(0.99), at(1)))
  f:close()
end

function done(summary, latency, requests)
  if raw_file then raw_done() end
  local out = os.getenv("WRK_OUT")
  if not out then return end
  local e = summary.errors
  local f = assert(io.open(out, "w"))
  -- requests duration_us requests_per_s p50_us p90_us p99_us max_us socket_errors non_2xx (latencies as wrk corrects them)
  f:write(string.format("%d %d %.1f %.0f %.0f %.0f %.0f %d %d\n",
    summary.requests, summary.duration, summary.requests / summary.duration * 1e6,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.connect + e.read + e.write + e.timeout, e.status))
  f:close()
end

-- CLOCK_MONOTONIC in milliseconds, through LuaJIT's FFI (WRK_RAW and WRK_RATE time requests with it).
local function monotonic_clock()
  local ffi = require("ffi")
  ffi.cdef [[
    typedef struct { long tv_sec; long tv_nsec; } cairn_timespec;
    int clock_gettime(int clock, cairn_timespec *ts);
  ]]
  local ts = ffi.new("cairn_timespec")
  return function()
    ffi.C.clock_gettime(1, ts)
    return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
  end
end
local now_ms = (raw_file or os.getenv("WRK_RATE")) and monotonic_clock()

if raw_file then
  local sent
  local make_request = request
  -- wrk asks for a request just before writing it to the connection.
  request = function()
    sent = now_ms()
    return make_request()
  end
  function response()
    if sent then
      raw_latencies[#raw_latencies + 1] = (now_ms() - sent) * 1000
      sent = nil
    end
  end
end

-- WRK_STATIC=1: the URL as given for every request (wrk's fast path, no Lua per request), to show what the
-- per-request Lua costs the load generator.
if os.getenv("WRK_STATIC") then request = nil end

-- WRK_RATE=R: a fixed request rate instead of a closed loop, for the proxy-overhead points of the issue. wrk asks
-- delay() how long to wait after each response before a connection sends again; here every call claims the next
-- slot of one schedule (a slot every 1000/R ms for the whole thread), so the thread sends at R requests/s however
-- fast the responses come, as long as a connection is free. A late slot is sent at once (the schedule catches up)
-- and its latency is measured from when it was sent, not from its slot: coordinated omission is reduced, not
-- removed (wrk2 corrects for it; Debian does not ship wrk2).
if os.getenv("WRK_RATE") then
  local interval = 1000 / tonumber(os.getenv("WRK_RATE"))
  local next_slot
  function delay()
    local now = now_ms()
    local slot = next_slot or now
    next_slot = slot + interval
    if slot <= now then return 0 end
    return math.floor(slot - now + 0.5)
  end
end
