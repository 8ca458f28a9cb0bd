"""Axiom MCP: an OAuth 2.1 authorization server, a per-user REST API, a web app and an MCP server."""

__version__ = "0.1.0"
