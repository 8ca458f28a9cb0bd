-- GET /api/v1/user/items with a bearer token, rotating through the tokens in a file.
-- wrk -s rest_items.lua http://127.0.0.1:PORT -- <tokens file> <path and query>
local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
local common = dofile(here .. "common.lua")

setup = common.setup
done = common.done

local requests, n = {}, 0

function init(args)
  local path = args[2] or "/api/v1/user/items?page=1&perPage=20"
  for i, line in ipairs(common.read_lines(args[1])) do
    local token = common.split(line)[1]
    requests[i] = wrk.format("GET", path, {["Authorization"] = "Bearer " .. token, ["Accept"] = "application/json"})
  end
end

function request()
  n = n + 1
  return requests[(n % #requests) + 1]
end

function response(status, headers, body)
  common.check(status, body, '"items":[')
end
