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

function done(summary, latency, requests)
  local out = os.getenv("WRK_OUT")
  if not out then return end
  local e = summary.errors
  local f = assert(io.open(out, "w"))
  -- requests duration_us requests_per_s p50_us p90_us p99_us max_us socket_errors non_2xx
  f:write(string.format("%d %d %.1f %.0f %.0f %.0f %.0f %d %d\n",
    summary.requests, summary.duration, summary.requests / summary.duration * 1e6,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.connect + e.read + e.write + e.timeout, e.status))
  f:close()
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
  local ffi = require("ffi")
  ffi.cdef [[
    typedef struct { long tv_sec; long tv_nsec; } cairn_timespec;
    int clock_gettime(int clock, cairn_timespec *ts);
  ]]
  local ts = ffi.new("cairn_timespec")
  local function now_ms()
    ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
    return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
  end
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
