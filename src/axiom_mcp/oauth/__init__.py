"""The OAuth 2.1 authorization server's protocol core (knows no web framework)."""
