-- GET a random path from a list file (one path per line); BENCH_PATHS names it.
local paths = {}
for line in io.lines(os.getenv("BENCH_PATHS")) do paths[#paths + 1] = line end
local auth = os.getenv("BENCH_TOKEN")
request = function()
  local p = paths[math.random(#paths)]
  if auth then return wrk.format("GET", p, {["Authorization"] = "Bearer " .. auth}) end
  return wrk.format("GET", p)
end
