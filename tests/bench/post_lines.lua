-- POST one line of BENCH_BODIES per request ("<signature>\t<body>"), each
-- line once: threads take interleaved lines so deliveries stay unique.
local lines, n, step = {}, 0, 1
local path, header = os.getenv("BENCH_PATH"), os.getenv("BENCH_HEADER")
local counter = 0
setup = function(thread)
  thread:set("id", counter)
  counter = counter + 1
end
init = function(args)
  for line in io.lines(os.getenv("BENCH_BODIES")) do lines[#lines + 1] = line end
  n = id + 1
  step = tonumber(os.getenv("BENCH_THREADS"))
end
request = function()
  local line = lines[n]
  if not line then line = lines[(n % #lines) + 1] end
  n = n + step
  local sig, body = line:match("([^\t]*)\t(.*)")
  local h = {["Content-Type"] = "application/json"}
  if sig ~= "" then h[header] = sig end
  local auth = os.getenv("BENCH_TOKEN")
  if auth then h["Authorization"] = "Bearer " .. auth end
  return wrk.format("POST", path, h, body)
end
