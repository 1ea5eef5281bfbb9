-- GET a random path from a list file (one path per line); BENCH_PATHS names it.
-- With BENCH_SEQ set, each thread walks the list in order from its own
-- starting point instead (a pass over every path, e.g. to warm a cache).
-- Counts the X-Tipzed-Cache answers and prints "cache: H hits, M misses".
local paths = {}
local auth = os.getenv("BENCH_TOKEN")
local seq = os.getenv("BENCH_SEQ")
local counter, i, threads = 0, 0, {}
hits, misses = 0, 0
setup = function(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end
init = function(args)
  for line in io.lines(os.getenv("BENCH_PATHS")) do paths[#paths + 1] = line end
  i = (id or 0) * math.floor(#paths / 2)
end
request = function()
  local p
  if seq then
    i = i % #paths + 1
    p = paths[i]
  else
    p = paths[math.random(#paths)]
  end
  if auth then return wrk.format("GET", p, {["Authorization"] = "Bearer " .. auth}) end
  return wrk.format("GET", p)
end
response = function(status, headers, body)
  local c = headers["X-Tipzed-Cache"]
  if c == "hit" then hits = hits + 1 elseif c == "miss" then misses = misses + 1 end
end
done = function(summary, latency, requests)
  local h, m = 0, 0
  for _, t in ipairs(threads) do
    h = h + t:get("hits")
    m = m + t:get("misses")
  end
  io.write(string.format("cache: %d hits, %d misses\n", h, m))
end
