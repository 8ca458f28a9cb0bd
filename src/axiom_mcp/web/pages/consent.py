"""The consent page (``/oauth/consent``; ``/oauth/authorize?request_id=`` is the original's alias).

The auth service validated the request and stored it; this page shows it by its opaque id and
answers with ``approve`` or ``deny`` (axiom_mcp.oauth.authorize), then sends the browser to the URL
they return: the client's verified redirect URI (RFC 6749 section 4.1.2), never one from the form.

A request with ``prompt=login`` first sends a user whose session began before the request to the
login page (which then asks for the password even though they are signed in); signing in makes a
new session, so they come back to this same request and see it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from axiom_mcp.oauth.authorize import PendingAuthorization, approve, deny, load_pending
from axiom_mcp.oauth.errors import LoginRequired, OAuthError
from axiom_mcp.settings import SCOPES
from axiom_mcp.web.security import CSP_HEADER, content_security_policy, csp_source
from axiom_mcp.web.visits import Visit, signed_in

EXPLAINED = {
    "dcr": "This app registered itself. Axiom has not checked who made it: allow it only if you "
    "started connecting it just now.",
    "cimd": "This app is identified by its address, {host}.",
    "first_party": "",
}


def scope_words(scopes: list[str]) -> list[tuple[str, str]]:
    """Each scope with the plain words the page shows (an unknown one as itself)."""
    return [(scope, SCOPES.get(scope, scope)) for scope in scopes]


def _consent_headers(pending: PendingAuthorization) -> dict[str, str]:
    # Allow and Deny end in a redirect to the client; form-action must let the browser follow it.
    # Browsers match sources against the ASCII form of an internationalized host.
    scheme = urlsplit(pending.redirect_uri).scheme
    web = scheme in ("http", "https")
    source = csp_source(f"{scheme}://{pending.redirect_host}/" if web else pending.redirect_uri)
    return {CSP_HEADER: content_security_policy([source] if source else [])}


def _sign_in_again(visit: Visit, request_id: str) -> Response:
    """To the login page, asked to show the form to a signed-in user, then back to this request."""
    return visit.redirect("/auth", prompt="login", return_to=visit.url("/oauth/consent", request_id=request_id))


def _problem(visit: Visit, exc: OAuthError) -> Response:
    """Shown, never redirected: an unknown request has no verified redirect URI."""
    return visit.render(
        "error.html",
        status=400,
        title="This request cannot be completed",
        heading="This request cannot be completed",
        message=exc.description or "The authorization request is unknown or has expired.",
        hint="Go back to the app you were connecting and start again.",
    )


@signed_in
async def consent(request: Request, visit: Visit) -> Response:
    settings = visit.ctx.settings
    if request.method == "GET":
        request_id = request.query_params.get("request_id", "")
        try:
            async with visit.ctx.db.session() as session:
                pending = await load_pending(session, settings, request_id)
        except OAuthError as exc:
            return _problem(visit, exc)
        assert visit.session is not None
        if pending.needs_login(visit.session.created):
            return _sign_in_again(visit, request_id)
        host = urlsplit(pending.client_id).hostname or pending.client_id
        return visit.render(
            "consent.html",
            headers=_consent_headers(pending),
            focused=True,  # no navigation: one decision to make
            title=f"Allow {pending.client_name}?",
            pending=pending,
            scopes=scope_words(pending.scopes),
            unverified=pending.client_source == "dcr",
            explained=EXPLAINED.get(pending.client_source, "").format(host=host),
            switch_account=visit.url("/auth", return_to=f"{request.url.path}?{request.url.query}"),
        )

    request_id = visit.form.get("request_id")
    decision = visit.form.get("decision")
    if decision not in ("allow", "deny"):
        return visit.render("error.html", status=400, title="Choose Allow or Deny",
                            heading="Choose Allow or Deny", message="The answer was missing.",
                            hint="Go back and press Allow or Deny.")
    assert visit.session is not None
    try:
        async with visit.ctx.db.session() as session:
            if decision == "allow":
                target = await approve(session, settings, request_id, visit.user_id,
                                       authenticated_at=visit.session.created)
            else:
                target = await deny(session, settings, request_id)
    except LoginRequired:  # an Allow posted without the fresh login the page asks for
        return _sign_in_again(visit, request_id)
    except OAuthError as exc:
        return _problem(visit, exc)
    return RedirectResponse(target, status_code=303)


async def authorize_alias(request: Request) -> Response:
    """The original's consent path. With a request id: the consent page. With raw OAuth parameters (a
    client configured with this host as its authorization endpoint): the auth service validates them."""
    query = request.url.query
    if "request_id" in request.query_params:
        return RedirectResponse(f"{request.scope.get('root_path', '')}/oauth/consent?{query}", status_code=303)
    settings = request.app.state.web.ctx.settings
    return RedirectResponse(f"{settings.public_url}/oauth/authorize" + (f"?{query}" if query else ""), status_code=303)


routes = [
    Route("/oauth/consent", consent, methods=["GET", "POST"], name="consent"),
    Route("/oauth/authorize", authorize_alias, methods=["GET"], name="authorize_alias"),
]
