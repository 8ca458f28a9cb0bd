"""The OAuth 2.1 authorization server's protocol core (knows no web framework).

One module per concern; ``axiom_mcp.auth_service.oauth_endpoints`` is the thin HTTP layer over them and the
one place errors are rendered.

- ``metadata``      RFC 8414 document (issuer = settings.issuer; endpoints from settings.public_url)
- ``registration``  RFC 7591 dynamic client registration
- ``cimd``          Client ID Metadata Documents: SSRF-guarded, rate-limited fetch, cache, validation
                    (``resolver``: its bounded DNS lookups)
- ``clients``       looking up a client (registration or document); ``client_auth`` authenticates it;
                    ``client_metadata`` what registrations and documents share
- ``authorize``     the authorization request, the pending consent, approve/deny (RFC 9207 ``iss``)
- ``consents``      the user's connected apps
- ``token``         authorization_code (PKCE, replay revocation) and refresh_token (rotation) grants
- ``revoke``        RFC 7009; ``introspect`` RFC 7662 and the original's /oauth/validate
- helpers: ``errors`` (typed RFC errors), ``params``, ``scopes``, ``redirects``, ``pkce``,
  ``resources`` (RFC 8707), ``grants`` (revoking a chain), ``ratelimit``

Why not the mcp SDK's ``mcp.server.auth`` handlers or Authlib: the SDK's handlers are Starlette
endpoints around a provider protocol that has no place for a stored pending request handed to
another app's consent page, CIMD clients, introspection, RFC 9207 ``iss`` or ``none`` in the
metadata, and they parse redirect URIs as pydantic ``AnyUrl`` (which can rewrite them; exact
string matching is our rule). Authlib's grant machinery would bring its own request and client
models to adapt to both databases and still lacks CIMD and our resource rules, for a few dozen
lines of PKCE and form handling we can state plainly. What we take from the SDK: the client side
(its ``OAuthClientProvider`` drives our end-to-end tests) and its ``OAuthMetadata`` model, which
the tests use to check that our metadata parses the way SDK clients parse it. Each module's
docstring says what it does differently where the SDK has a counterpart.
"""
