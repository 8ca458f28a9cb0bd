"""The ``axiom`` command: serve, migrate, cleanup, user create|list|delete."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from axiom_mcp.context import AppContext
from axiom_mcp.errors import AxiomError, NotFoundError
from axiom_mcp.settings import Settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="axiom", description="Axiom MCP: OAuth 2.1 + REST API + web app + MCP server")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the services (all three in one process by default)")
    serve.add_argument("--only", choices=["auth", "web", "mcp"], help="run just one service")
    serve.add_argument("--single-origin", action="store_true", help="serve everything on one port and URL")
    serve.add_argument("--host", help="address to bind (default from AXIOM_HOST, 127.0.0.1)")

    health = commands.add_parser(
        "health", help="check that the services of this machine answer (for container and load-balancer probes)"
    )
    health.add_argument("--only", choices=["auth", "web", "mcp"], help="check just one service")
    health.add_argument("--single-origin", action="store_true", help="check the single-origin port")

    commands.add_parser("migrate", help="bring the database schema up to date")
    commands.add_parser("cleanup", help="remove expired codes, tokens, sessions and unused registrations")

    user = commands.add_parser("user", help="manage accounts").add_subparsers(dest="user_command", required=True)
    create = user.add_parser("create", help="create an account")
    create.add_argument("email")
    create.add_argument("--name", default="")
    create.add_argument(
        "--password", help="the password (default: AXIOM_USER_PASSWORD, else asked for on the terminal)"
    )
    user.add_parser("list", help="list accounts")
    export = user.add_parser("export", help="write an account's data (items, tags, clients, apps, activity) to a zip")
    export.add_argument("email")
    export.add_argument("--output", "-o", help="the file to write (default: axiom-export-EMAIL.zip here)")
    restore = user.add_parser("import", help="create an account from an export (the password is set anew)")
    restore.add_argument("archive", help="a zip written by `axiom user export` or the account page")
    restore.add_argument(
        "--password", help="the account's new password (default: AXIOM_USER_PASSWORD, else asked for)"
    )
    delete = user.add_parser("delete", help="delete an account and all its data")
    delete.add_argument("email")
    return parser


async def _with_context(settings: Settings, work: Callable[[AppContext], Awaitable[Any]]) -> Any:
    from axiom_mcp.db.migrate import migrate

    ctx = AppContext.from_settings(settings)
    try:
        await migrate(ctx.db.engine)
        return await work(ctx)
    finally:
        await ctx.close()


async def _cleanup(ctx: AppContext) -> None:
    from axiom_mcp.data.cleanup import remove_expired

    async with ctx.db.session() as session:
        report = await remove_expired(session, ctx.settings, ctx.blobs)
    for name, count in vars(report).items():
        print(f"{name}: {count}")


HEALTH_PATHS = {"auth": "/.well-known/oauth-authorization-server", "web": "/auth", "mcp": "/health"}
"""What ``axiom health`` asks each service: its cheapest page that a broken service would not serve."""


def _health(settings: Settings, only: str | None) -> int:
    """GET each local service; 0 when every one answers below 500 (the MCP /health checks the database)."""
    import httpx

    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    if settings.single_origin:
        checks = [("single-origin", settings.single_origin_port, "/health")]
    else:
        ports = {"auth": settings.auth_port, "web": settings.web_port, "mcp": settings.mcp_port}
        checks = [(name, ports[name], path) for name, path in HEALTH_PATHS.items() if only in (None, name)]
    failed = 0
    for name, port, path in checks:
        url = f"http://{host}:{port}{path}"
        try:
            status = httpx.get(url, timeout=5).status_code
        except httpx.HTTPError as exc:
            print(f"{name}: {url} unreachable ({type(exc).__name__})", file=sys.stderr)
            failed += 1
            continue
        healthy = status < 500 if name == "web" else status == 200
        print(f"{name}: {url} {status}{'' if healthy else ' (unhealthy)'}")
        failed += not healthy
    return 1 if failed else 0


class NoPassword(AxiomError):
    """``user create`` got no password and has no terminal to ask for one on."""


def _ask_password() -> str:
    """The new account's password: asked twice on a terminal, else one line of standard input."""
    if not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise NoPassword(
                "no password given: pass --password, set AXIOM_USER_PASSWORD, "
                "pipe it on standard input, or run the command in a terminal to be asked"
            )
        return password
    try:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Password again: ") != password:
            raise NoPassword("the two passwords differ; nothing was created")
    except EOFError:
        raise NoPassword("no password given; nothing was created") from None
    return password


def _user_command(args: argparse.Namespace) -> Callable[[AppContext], Awaitable[None]]:
    from axiom_mcp.data import archive, files, users

    async def create(ctx: AppContext) -> None:
        password = args.password or os.environ.get("AXIOM_USER_PASSWORD") or _ask_password()
        data = users.SignUp(email=args.email, password=password, name=args.name)
        async with ctx.db.session() as session:
            user = await users.create_user(session, data)
        print(f"created {user.email} ({user.id})")

    async def list_all(ctx: AppContext) -> None:
        async with ctx.db.session() as session:
            for user in await users.list_users(session):
                print(f"{user.id}  {user.email}  {user.name}")

    async def delete(ctx: AppContext) -> None:
        async with ctx.db.session() as session:
            blob_keys = await users.delete_user(session, args.email)
        await files.remove_blobs(ctx.blobs, blob_keys)
        print(f"deleted {args.email}")

    async def export(ctx: AppContext) -> None:
        target = Path(args.output or f"axiom-export-{args.email.strip().lower()}.zip")
        partial = target.with_name(f".{target.name}.partial")
        async with ctx.db.session() as session:
            user = await users.get_user_by_email(session, args.email)
            if user is None:
                raise NotFoundError(f"no user {args.email!r}")
            with partial.open("wb") as out:
                await archive.write_archive(session, user.id, out)
        partial.replace(target)  # never a half-written archive under the real name
        print(f"exported {user.email} to {target}")

    async def restore(ctx: AppContext) -> None:
        try:
            with open(args.archive, "rb") as source:
                data = archive.read_archive(source)
        except OSError as exc:
            raise NotFoundError(f"cannot read {args.archive}: {exc.strerror or exc}") from None
        password = args.password or os.environ.get("AXIOM_USER_PASSWORD") or _ask_password()
        async with ctx.db.session() as session:
            user = await archive.import_archive(session, data, password)
        print(f"imported {user.email} ({user.id}): {len(data.items)} items, {len(data.tags)} tags, "
              f"{len(data.clients)} clients, {len(data.activity)} actions; apps must be connected again")

    commands = {"create": create, "list": list_all, "delete": delete, "export": export, "import": restore}
    return commands[args.user_command]


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    overrides: dict[str, Any] = {}
    if getattr(args, "single_origin", False):
        overrides["single_origin"] = True
    if getattr(args, "host", None):
        overrides["host"] = args.host
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        print(f"axiom: bad settings: {exc}", file=sys.stderr)
        return 2
    if args.command == "health":
        return _health(settings, args.only)
    from axiom_mcp.observability import configure_logging

    configure_logging(settings)
    try:
        if args.command == "serve":
            from axiom_mcp.server import event_loop_factory, serve

            with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
                runner.run(serve(settings, only=args.only))
        elif args.command == "migrate":
            asyncio.run(_with_context(settings, lambda ctx: asyncio.sleep(0)))
            print("database is up to date")
        elif args.command == "cleanup":
            asyncio.run(_with_context(settings, _cleanup))
        elif args.command == "user":
            asyncio.run(_with_context(settings, _user_command(args)))
    except AxiomError as exc:
        print(f"axiom: {exc.message}", file=sys.stderr)
        return 1
    except ValidationError as exc:  # bad input to a command (user create's email or password, say)
        for error in exc.errors(include_url=False):
            where = ".".join(str(part) for part in error["loc"]) or "input"
            print(f"axiom: {where}: {error['msg']}", file=sys.stderr)
        return 1
    except (OSError, SQLAlchemyError) as exc:  # the database is unreachable, refused us, or is broken
        print(f"axiom: database error ({settings.database_url.split('://')[0]}): {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
