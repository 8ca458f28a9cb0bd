"""The MCP server (port 8091). Never name this package `mcp`: it would shadow the SDK."""
