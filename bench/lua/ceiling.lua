-- The ceiling: the same request shape (method, a body for POST) against bench/ceiling.py's bare
-- endpoint, which answers a JSON body of the measured size with no auth and no database.
-- wrk -s ceiling.lua http://127.0.0.1:PORT -- <method> <size>
local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
local common = dofile(here .. "common.lua")

setup = common.setup
done = common.done

local req

function init(args)
  local method, size = args[1] or "GET", tonumber(args[2] or 1000)
  local body = nil
  local headers = {["Accept"] = "application/json", ["Authorization"] = "Bearer not-checked"}
  if method == "POST" then
    body = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_user_items","arguments":{"page":1,"perPage":20}}}'
    headers["Content-Type"] = "application/json"
  end
  req = wrk.format(method, "/json/" .. size, headers, body)
end

function request()
  return req
end

function response(status, headers, body)
  common.check(status, body, '"pad":')
end
