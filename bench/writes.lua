-- The hot writes' requests for wrk (bench/run.py, bench/writes.py):
--   wrk -s bench/writes.lua URL -- FILE TAG THREADS
-- FILE holds one request a line: method, path, token and JSON body, tab-
-- separated. Thread k (from 0) of THREADS sends lines k, k + THREADS, ...
-- in turn (every line when there are fewer lines than threads). In a body,
-- {code} and {telegram} become an invitation code and a Telegram id made
-- from TAG, the thread and a counter, as bench/writes.py made them in the
-- database before the run.

local made = 0

function setup(thread)
  thread:set("id", made)
  made = made + 1
end

local ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

local function encode(value, width)
  local out = ""
  for _ = 1, width do
    local digit = value % 31
    out = ALPHABET:sub(digit + 1, digit + 1) .. out
    value = math.floor(value / 31)
  end
  return out
end

function init(args)
  local tag, threads = tonumber(args[2]), tonumber(args[3])
  local all = {}
  for line in io.lines(args[1]) do
    local method, path, token, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
    local headers = {
      ["Authorization"] = "Token " .. token,
      ["Content-Type"] = "application/json",
    }
    table.insert(all, {method = method, path = path, headers = headers, body = body})
  end
  lines = {}
  for n, line in ipairs(all) do
    if #all < threads or (n - 1) % threads == id then
      table.insert(lines, line)
    end
  end
  dynamic = lines[1].body:find("{code}", 1, true) ~= nil
  if not dynamic then
    for _, line in ipairs(lines) do
      line.request = wrk.format(line.method, line.path, line.headers, line.body)
    end
  end
  code = "BENCH" .. encode(tag, 2) .. encode(id, 1)
  telegram = string.format("99%04d%d", tag, id)
  counter = 0
end

function request()
  counter = counter + 1
  local line = lines[(counter - 1) % #lines + 1]
  if not dynamic then
    return line.request
  end
  local body = line.body:gsub("{code}", code .. encode(counter, 8))
  body = body:gsub("{telegram}", telegram .. string.format("%08d", counter))
  return wrk.format(line.method, line.path, line.headers, body)
end
