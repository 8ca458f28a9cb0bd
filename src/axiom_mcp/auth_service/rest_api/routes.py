"""REST routes at ``/api/v1``: the original's user API (plus PATCH and DELETE), sign-up and login."""

from __future__ import annotations

from email.message import Message
from typing import Annotated, Any

import pydantic_core
from fastapi import APIRouter, BackgroundTasks, Body, Depends, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from axiom_mcp.auth_service.rest_api.auth import require_scope, require_view
from axiom_mcp.auth_service.rest_api.errors import UnsupportedMediaType
from axiom_mcp.context import AppContext
from axiom_mcp.data import access, records, signup_throttle, throttle, users
from axiom_mcp.data.access import View
from axiom_mcp.data.kinds import CLIENTS, ITEMS, KINDS, Kind
from axiom_mcp.mail import links
from axiom_mcp.mail.outbox import post
from axiom_mcp.data.schemas import MAX_PAGE, MAX_PER_PAGE, MAX_QUERY, NAME_MAX, PageQuery, ProfileOut, Sort, storable

from axiom_mcp.data.tokens import FIRST_PARTY_CLIENT_ID, TokenInfo, issue_access_token
from axiom_mcp.settings import DEFAULT_SCOPES



def _ctx(request: Request) -> AppContext:
    return request.app.state.ctx


# The dependencies are ``async def`` although they never wait: FastAPI runs a plain ``def``
# dependency in a worker thread, a thread hop on every request for a few microseconds of work.
async def page_query(
    page: Annotated[int, Query(ge=1, le=MAX_PAGE, description="1-based page number")] = 1,
    perPage: Annotated[int, Query(ge=1, le=MAX_PER_PAGE, description="Records per page (at most 100)")] = 30,  # noqa: N803
    q: Annotated[
        str, Query(max_length=MAX_QUERY, description=(
            "Words to look for: items by their name, text, tag names and file names (accents and case aside, "
            "the last word as a prefix, the best matches first); clients and tags by a part of their name"))
    ] = "",
    tag: Annotated[
        str, Query(max_length=NAME_MAX, description="Only records carrying this tag: its id, or its name in any case")
    ] = "",
    sort: Annotated[
        Sort | None, Query(description="The order: -created (newest first, the default), created, name or -updated "
                           "(last changed first); a search without it orders by relevance")
    ] = None,
) -> PageQuery:
    try:
        return PageQuery(page=page, perPage=perPage, q=q, tag=tag, sort=sort)
    except ValidationError as exc:  # what the Query() checks above cannot say (a NUL in q, say)
        raise RequestValidationError(
            [{**err, "loc": ("query", *err["loc"])} for err in exc.errors(include_url=False)]
        ) from exc


async def json_body(request: Request) -> None:
    """Refuse a body that is not sent as JSON, with a message that says so (not "invalid dict")."""
    header = request.headers.get("content-type")
    if header is None:
        return  # read as JSON: curl --data-binary and some clients send no type
    message = Message()
    message["content-type"] = header
    subtype = message.get_content_subtype()
    if message.get_content_maintype() != "application" or not (subtype == "json" or subtype.endswith("+json")):
        raise UnsupportedMediaType(
            f"Send the body as JSON with Content-Type: application/json (got {header[:100]!r}).",
            field="body",
        )


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: Annotated[str, Field(min_length=1, max_length=320), AfterValidator(storable)]
    password: Annotated[str, Field(min_length=1, max_length=users.PASSWORD_MAX)]
    device: str | None = Field(
        None, max_length=200, description="The `device` of an earlier login's answer: attempts from it are judged on its own failures."
    )


class LoginOut(BaseModel):
    token: str
    token_type: str = "Bearer"
    expires_in: int
    scope: str
    record: ProfileOut
    device: str = Field(
        description="This client's device credential for this account: send it with later logins, so a "
        "stranger's failed guesses at the account do not lock you out."
    )


def _page_response(page: dict[str, Any]) -> Response:
    # The hot read: the page's dict written as JSON in one step (a Response skips FastAPI's
    # validation by response_model, which still documents it; tests/data/test_lists.py holds the
    # dict to the model's JSON byte for byte).
    return Response(pydantic_core.to_json(page), media_type="application/json")


def _kind_routes(router: APIRouter, kind: Kind) -> None:
    """list, get, create, update and delete routes for one kind of record, each behind its scope,
    each seeing what the token's connection sees (a restricted one: data/records.py)."""
    read = Depends(require_view(kind.read_scope))
    write = Depends(require_view(kind.write_scope))

    async def list_records(
        request: Request, params: Annotated[PageQuery, Depends(page_query)], view: View = read
    ) -> Any:
        return _page_response(await records.list_records_data(kind, _ctx(request).db, view, params))

    async def get_record(request: Request, record_id: str, view: View = read) -> Any:
        async with _ctx(request).db.session() as session:
            return await records.get_record(kind, session, view, record_id)

    async def create_record(request: Request, body: Any, view: View = write) -> Any:
        async with _ctx(request).db.session() as session:
            return await records.create_record(kind, session, view, body)

    async def update_record(request: Request, record_id: str, body: Any, view: View = write) -> Any:
        async with _ctx(request).db.session() as session:
            return await records.update_record(kind, session, view, record_id, body)

    async def delete_record(request: Request, record_id: str, view: View = write) -> Response:
        async with _ctx(request).db.session() as session:
            await records.delete_record(kind, session, view, record_id)  # the person can undo it on the web
        return Response(status_code=204)

    # FastAPI reads body types from annotations; set them per kind without copying the functions.
    create_record.__annotations__["body"] = Annotated[kind.create, Body()]
    update_record.__annotations__["body"] = Annotated[kind.update, Body()]

    plural, one, out = kind.many, kind.one, kind.out
    path = f"/user/{plural}"
    tags = [plural]
    router.add_api_route(path, list_records, methods=["GET"], response_model=kind.page, tags=tags,
                         summary=f"List your {plural}, newest first")
    router.add_api_route(f"{path}/{{record_id}}", get_record, methods=["GET"], response_model=out, tags=tags,
                         summary=f"Get one of your {plural}")
    router.add_api_route(path, create_record, methods=["POST"], response_model=out, status_code=201, tags=tags,
                         summary=f"Create a {one}", dependencies=[Depends(json_body)])
    router.add_api_route(f"{path}/{{record_id}}", update_record, methods=["PATCH"], response_model=out, tags=tags,
                         summary=f"Change a {one}", dependencies=[Depends(json_body)])
    router.add_api_route(f"{path}/{{record_id}}", delete_record, methods=["DELETE"], status_code=204, tags=tags,
                         summary=f"Delete a {one}")


def build_api_router() -> APIRouter:
    # Body size is capped by rest_api.limits.BodyLimit (a JSON 413); a body without a content type is
    # read as JSON (json_body refuses other types with a 415 that says so).
    router = APIRouter(prefix="/api/v1", strict_content_type=False)

    @router.get("/user/profile", response_model=ProfileOut, tags=["profile"], summary="Your profile")
    async def profile(request: Request, token: TokenInfo = Depends(require_scope("profile:read"))) -> Any:
        async with _ctx(request).db.session() as session:
            return await users.get_profile(session, token.user_id)

    @router.post("/auth/signup", response_model=ProfileOut, status_code=201, tags=["accounts"],
                 summary="Create an account; a link to confirm the address is mailed to it",
                 dependencies=[Depends(json_body)])
    async def signup(request: Request, body: users.SignUp, background: BackgroundTasks) -> Any:
        ctx = _ctx(request)
        # Throttled per address, counted before the password is hashed (RateLimited: 429 with Retry-After).
        address = request.client.host if request.client else None
        profile = users.profile_out(await signup_throttle.sign_up(ctx.db, ctx.settings, body, address))
        letter = await links.verification_letter(ctx.db, ctx.settings, profile)
        background.add_task(post, ctx.settings, letter)  # after the answer: a slow mail server delays nothing
        return profile

    @router.post("/auth/login", response_model=LoginOut, tags=["accounts"],
                 summary="Log in with email and password; returns a bearer token for this API")
    async def login(request: Request, body: LoginIn) -> Any:
        ctx = _ctx(request)
        # Throttled per account (per device instead, for a client that logged in before) and per
        # address (RateLimited: 429 with Retry-After).
        address = request.client.host if request.client else None
        user = await throttle.authenticate(ctx.db, ctx.settings, body.email, body.password, address, body.device)
        async with ctx.db.session() as session:
            token, _ = await issue_access_token(
                session,
                user_id=user.id,
                client_id=FIRST_PARTY_CLIENT_ID,
                scopes=DEFAULT_SCOPES,
                resource=ctx.settings.api_resource,
                ttl=ctx.settings.access_token_ttl,
            )
            return LoginOut(
                token=token,
                expires_in=int(ctx.settings.access_token_ttl.total_seconds()),
                scope=" ".join(DEFAULT_SCOPES),
                record=users.profile_out(user),
                device=throttle.device_cookie(ctx.settings, body.email, body.device),
            )

    @router.get("/user/clients/{record_id}/items", response_model=ITEMS.page, tags=["clients"],
                summary="The items a client profile sees (what an app restricted to it sees), newest first",
                dependencies=[Depends(require_scope(ITEMS.read_scope))])
    async def profile_items(
        request: Request, record_id: str, params: Annotated[PageQuery, Depends(page_query)],
        view: View = Depends(require_view(CLIENTS.read_scope)),
    ) -> Any:
        ctx = _ctx(request)
        async with ctx.db.session() as session:
            seen = await access.profile_view(session, view, record_id)
        return _page_response(await records.list_records_data(ITEMS, ctx.db, seen, params))

    for kind in KINDS.values():
        _kind_routes(router, kind)
    return router


