-- tools/call get_user_items over stateless streamable HTTP (MCP 2026-07-28): one POST per call,
-- no initialize and no session; the protocol version, client capabilities and client info ride
-- in params._meta, and MCP-Protocol-Version / Mcp-Method / Mcp-Name repeat the routing fields as
-- headers (the SDK's mcp/shared/inbound.py classify_inbound_request checks they agree).
-- wrk -s mcp_stateless.lua http://127.0.0.1:PORT -- <tokens file> <path> <page> <perPage>
local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
local common = dofile(here .. "common.lua")

setup = common.setup
done = common.done

local VERSION = "2026-07-28"
local tokens, path, args_json = {}, "/mcp", ""
local n, thread_id = 0, 0

function init(args)
  for i, line in ipairs(common.read_lines(args[1])) do tokens[i] = common.split(line)[1] end
  path = args[2] or "/mcp"
  args_json = string.format('{"page":%d,"perPage":%d}', tonumber(args[3] or 1), tonumber(args[4] or 20))
  thread_id = id or 0
end

function request()
  n = n + 1
  local body = string.format(
    '{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"get_user_items","arguments":%s,' ..
    '"_meta":{"io.modelcontextprotocol/protocolVersion":"%s",' ..
    '"io.modelcontextprotocol/clientCapabilities":{},' ..
    '"io.modelcontextprotocol/clientInfo":{"name":"axiom-bench","version":"1"}}}}',
    thread_id * 1000000000 + n, args_json, VERSION)
  return wrk.format("POST", path, {
    ["Authorization"] = "Bearer " .. tokens[(n % #tokens) + 1],
    ["Content-Type"] = "application/json",
    ["Accept"] = "application/json, text/event-stream",
    ["MCP-Protocol-Version"] = VERSION,
    ["Mcp-Method"] = "tools/call",
    ["Mcp-Name"] = "get_user_items",
  }, body)
end

function response(status, headers, body)
  common.check(status, body, '"result":')
end
