"""HTTP helpers every face (auth_service, web, mcp_server) shares; they know no storage and no protocol."""
