"""Owner-scoped data access: the only place SQL lives. REST, web and MCP all call it.

Every function takes the caller's ``user_id`` and never returns or changes another user's rows;
another user's id behaves exactly like an id that does not exist.
"""
