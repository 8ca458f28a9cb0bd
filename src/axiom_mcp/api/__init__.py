"""The auth service's HTTP layer: the per-user REST API (thin routes over ``axiom_mcp.data``)."""
