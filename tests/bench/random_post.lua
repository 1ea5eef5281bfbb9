-- POST as a random user to a random creator, a fresh idempotency key each
-- request.  BENCH_PATH: the path; BENCH_TOKENS: a file of bearer tokens,
-- one a line (the users); BENCH_BODY: the JSON body, "{creator}" standing
-- for the creator's id; BENCH_CREATORS: the seeded creators 1..N to pick
-- from; BENCH_RUN: a prefix that keeps keys unique from one run to the next.
-- Prints "statuses: 422=n ..." for answers other than 2xx.
local tokens = {}
local path, template = os.getenv("BENCH_PATH"), os.getenv("BENCH_BODY")
local creators = tonumber(os.getenv("BENCH_CREATORS"))
local run = os.getenv("BENCH_RUN")
local counter, n, threads = 0, 0, {}
statuses = {}
setup = function(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end
init = function(args)
  for line in io.lines(os.getenv("BENCH_TOKENS")) do tokens[#tokens + 1] = line end
  -- each thread its own sequence: two threads must not pick the same pairs
  math.randomseed(os.time() * 64 + id)
end
request = function()
  n = n + 1
  local creator = string.format("00000000-0000-4000-a000-%012x", math.random(creators))
  local body = (template:gsub("{creator}", creator))
  return wrk.format("POST", path, {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. tokens[math.random(#tokens)],
    ["X-Idempotency-Key"] = run .. "-" .. id .. "-" .. n}, body)
end
response = function(status, headers, body)
  if status >= 300 then statuses[status] = (statuses[status] or 0) + 1 end
end
done = function(summary, latency, requests)
  local all = {}
  for _, t in ipairs(threads) do
    for code, c in pairs(t:get("statuses")) do all[code] = (all[code] or 0) + c end
  end
  local parts = {}
  for code, c in pairs(all) do parts[#parts + 1] = code .. "=" .. c end
  table.sort(parts)
  if #parts > 0 then io.write("statuses: " .. table.concat(parts, " ") .. "\n") end
end
