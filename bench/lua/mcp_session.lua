-- tools/call get_user_items inside sessions (MCP 2025-11-25): bench/mcp_load.py initialized the
-- sessions beforehand (initialize + notifications/initialized); each line of the file is
-- "<token> <Mcp-Session-Id>", and requests rotate through them. Request ids are unique per
-- thread and request, so concurrent calls in one session never share an id.
-- wrk -s mcp_session.lua http://127.0.0.1:PORT -- <sessions file> <path> <page> <perPage>
local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
local common = dofile(here .. "common.lua")

setup = common.setup
done = common.done

local VERSION = "2025-11-25"
local sessions, path, args_json = {}, "/mcp", ""
local n, thread_id = 0, 0

function init(args)
  for i, line in ipairs(common.read_lines(args[1])) do sessions[i] = common.split(line) end
  path = args[2] or "/mcp"
  args_json = string.format('{"page":%d,"perPage":%d}', tonumber(args[3] or 1), tonumber(args[4] or 20))
  thread_id = id or 0
end

function request()
  n = n + 1
  local s = sessions[(n % #sessions) + 1]
  local body = string.format(
    '{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"get_user_items","arguments":%s}}',
    thread_id * 1000000000 + n, args_json)
  return wrk.format("POST", path, {
    ["Authorization"] = "Bearer " .. s[1],
    ["Mcp-Session-Id"] = s[2],
    ["Content-Type"] = "application/json",
    ["Accept"] = "application/json, text/event-stream",
    ["MCP-Protocol-Version"] = VERSION,
  }, body)
end

function response(status, headers, body)
  common.check(status, body, '"result":')
end
