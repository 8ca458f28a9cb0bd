"""The consent page (``/oauth/consent``; ``/oauth/authorize?request_id=`` is the original's alias).

The auth service validated the request and stored it; this page shows it by its opaque id and
answers with ``approve`` or ``deny`` (axiom_mcp.oauth.authorize), then sends the browser to the URL
they return: the client's verified redirect URI (RFC 6749 section 4.1.2), never one from the form.

The person chooses there what the app gets: each scope it asked for is a checkbox, and what it
sees is all their items or a client profile's (an existing one, or a new one from their tags). The
page opens on what they chose for this app last time; for a new app, on everything it asked for
and all items. Unticking every scope is refused on the page (Deny says no); a plain form.

A request with ``prompt=login`` first sends a user whose session began before the request to the
login page (which then asks for the password even though they are signed in); signing in makes a
new session, so they come back to this same request and see it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from axiom_mcp.data.profiles import user_profiles, user_tags
from axiom_mcp.errors import ValidationFailed
from axiom_mcp.oauth.authorize import PendingAuthorization, approve, deny, load_pending
from axiom_mcp.oauth.consents import Choice, Sees, last_choice
from axiom_mcp.oauth.errors import LoginRequired, OAuthError
from axiom_mcp.settings import SCOPES
from axiom_mcp.web.forms import Form
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


@dataclass
class Chosen:
    """The choices a consent or Connected apps form shows ticked, and reads back."""

    scopes: set[str]
    sees: str = "all"
    """``all``, ``profile`` (``profile_id``) or ``new`` (a new profile from ``tags``)."""
    profile_id: str = ""
    tags: set[str] = field(default_factory=set)

    @classmethod
    def last_time(cls, choice: Choice | None, asked: list[str]) -> Chosen:
        """Last time's choice; for a new app all it asked for and all items. A restricted app
        whose profile is gone opens on a new profile: never silently on everything."""
        if choice is None:
            return cls(set(asked))
        sees = "profile" if choice.profile_id else "new" if choice.restricted else "all"
        return cls(set(choice.scopes) & set(asked), sees, choice.profile_id or "")

    @classmethod
    def posted(cls, form: Form) -> Chosen:
        return cls(set(form.getlist("scope")), form.get("sees", "all"), form.get("profile_id"),
                   set(form.getlist("tag")))

    def to_sees(self) -> Sees:
        if self.sees == "profile":
            return Sees(profile_id=self.profile_id)
        if self.sees == "new":
            return Sees(new_tags=tuple(sorted(self.tags)))
        return Sees()


async def choice_context(visit: Visit, chosen: Chosen) -> dict[str, object]:
    """What the "what can it see" part of a form needs (_sees.html): the person's profiles and tags."""
    async with visit.ctx.db.session() as session:
        profiles = await user_profiles(session, visit.user_id)
        tags = await user_tags(session, visit.user_id)
    return {"chosen": chosen, "profiles": profiles, "tags": tags}


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


async def _show(visit: Visit, pending: PendingAuthorization, chosen: Chosen,
                error: str = "") -> Response:
    host = urlsplit(pending.client_id).hostname or pending.client_id
    return visit.render(
        "consent.html",
        status=400 if error else 200,
        headers=_consent_headers(pending),
        focused=True,  # no navigation: one decision to make
        title=f"Allow {pending.client_name}?",
        pending=pending,
        scopes=scope_words(pending.scopes),
        unverified=pending.client_source == "dcr",
        explained=EXPLAINED.get(pending.client_source, "").format(host=host),
        switch_account=visit.url("/auth", return_to=visit.url("/oauth/consent", request_id=pending.request_id)),
        error=error,
        **await choice_context(visit, chosen),
    )


@signed_in
async def consent(request: Request, visit: Visit) -> Response:
    settings = visit.ctx.settings
    if request.method == "GET":
        request_id = request.query_params.get("request_id", "")
        try:
            async with visit.ctx.db.session() as session:
                pending = await load_pending(session, settings, request_id)
                before = await last_choice(session, visit.user_id, pending.client_id)
        except OAuthError as exc:
            return _problem(visit, exc)
        assert visit.session is not None
        if pending.needs_login(visit.session.created):
            return _sign_in_again(visit, request_id)
        return await _show(visit, pending, Chosen.last_time(before, pending.scopes))

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
                                       authenticated_at=visit.session.created, **_choices(visit.form))
            else:
                target = await deny(session, settings, request_id)
    except LoginRequired:  # an Allow posted without the fresh login the page asks for
        return _sign_in_again(visit, request_id)
    except OAuthError as exc:
        return _problem(visit, exc)
    except ValidationFailed as exc:  # nothing ticked, a profile that is not theirs: say so, keep the request
        async with visit.ctx.db.session() as session:
            pending = await load_pending(session, settings, request_id)
        return await _show(visit, pending, Chosen.posted(visit.form), exc.message)
    return RedirectResponse(target, status_code=303)


def _choices(form: Form) -> dict[str, object]:
    """The person's choices as ``approve`` takes them; a post without the page's choices (``choice``
    absent: the answer of an older page) grants what the app asked, seeing what it saw last time."""
    if "choice" not in form:
        return {}
    chosen = Chosen.posted(form)
    return {"granted": chosen.scopes, "sees": chosen.to_sees()}


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
