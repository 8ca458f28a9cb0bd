"""The ``axiom`` command, run as a real process: migrate, user create|list|delete, cleanup, serve."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from axiom_mcp.context import AppContext
from axiom_mcp.data.tokens import issue_access_token
from axiom_mcp.db.tables import User
from tests.conftest import make_settings
from tests.support.databases import postgres_database
from tests.support.servers import free_port

AXIOM = [sys.executable, "-m", "axiom_mcp.cli"]
PASSWORD = "a long enough password"


def clean_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """This machine's environment without any Axiom or seed variable, plus ``extra``."""
    env = {
        k: v for k, v in os.environ.items()
        if not k.startswith("AXIOM_") and k not in ("PORT", "VITE_POCKETBASE_URL", "VITE_APP_URL")
    }
    env.update({"AXIOM_DATA_DIR": str(data_dir), "AXIOM_LOG_FORMAT": "text"}, **extra)
    return env


def axiom(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*AXIOM, *args], env=env, input=stdin, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return clean_env(tmp_path / "data")


def test_the_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "axiom"
    assert script.exists(), "pip install -e . puts `axiom` next to python"
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0
    for command in ("serve", "migrate", "cleanup", "user"):
        assert command in result.stdout


def test_migrate_creates_the_sqlite_database_in_the_data_folder(env: dict[str, str], tmp_path: Path) -> None:
    result = axiom(env, "migrate")
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout
    assert (tmp_path / "data" / "axiom.db").exists()
    again = axiom(env, "migrate")
    assert again.returncode == 0, again.stderr


def test_user_create_list_delete(env: dict[str, str]) -> None:
    created = axiom({**env, "AXIOM_USER_PASSWORD": PASSWORD}, "user", "create", "Ann@Example.com", "--name", "Ann")
    assert created.returncode == 0, created.stderr
    assert "created ann@example.com" in created.stdout

    second = axiom(env, "user", "create", "bob@example.com", "--password", PASSWORD)
    assert second.returncode == 0, second.stderr

    listed = axiom(env, "user", "list")
    assert listed.returncode == 0
    lines = listed.stdout.strip().splitlines()
    assert len(lines) == 2
    assert "ann@example.com" in lines[0] and "Ann" in lines[0] and "bob@example.com" in lines[1]

    deleted = axiom(env, "user", "delete", "ANN@example.com")
    assert deleted.returncode == 0, deleted.stderr
    assert "ann@example.com" not in axiom(env, "user", "list").stdout


def test_user_create_reads_the_password_from_stdin_when_not_given(env: dict[str, str]) -> None:
    created = axiom(env, "user", "create", "stdin@example.com", stdin=PASSWORD + "\n")
    assert created.returncode == 0, created.stderr
    assert "created stdin@example.com" in created.stdout


def test_user_create_without_a_password_or_terminal_says_what_to_do(env: dict[str, str]) -> None:
    created = axiom(env, "user", "create", "nopass@example.com", stdin="")
    assert created.returncode == 1
    assert "Traceback" not in created.stderr
    assert "no password given" in created.stderr and "--password" in created.stderr
    assert "nopass@example.com" not in axiom(env, "user", "list").stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["user", "create", "not-an-email", "--password", PASSWORD], "email", id="bad-email"),
        pytest.param(["user", "create", "a@example.com", "--password", "short"], "password", id="short-password"),
        pytest.param(["user", "delete", "nobody@example.com"], "no user", id="delete-unknown"),
    ],
)
def test_user_command_mistakes_exit_1_with_a_message(env: dict[str, str], args: list[str], message: str) -> None:
    result = axiom(env, *args)
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_taken_email_in_any_case_exits_1(env: dict[str, str]) -> None:
    assert axiom(env, "user", "create", "ann@example.com", "--password", PASSWORD).returncode == 0
    again = axiom(env, "user", "create", "ANN@EXAMPLE.COM", "--password", PASSWORD)
    assert again.returncode == 1
    assert "already exists" in again.stderr


def test_bad_settings_exit_2_naming_the_problem(env: dict[str, str]) -> None:
    result = axiom({**env, "AXIOM_ENVIRONMENT": "production"}, "migrate")
    assert result.returncode == 2
    assert "AXIOM_SECRET_KEY" in result.stderr


def test_an_unreachable_database_exits_1_without_a_traceback(env: dict[str, str]) -> None:
    result = axiom({**env, "AXIOM_DATABASE_URL": f"postgresql+asyncpg://nobody@127.0.0.1:{free_port()}/none"}, "migrate")
    assert result.returncode == 1
    assert "database" in result.stderr and "Traceback" not in result.stderr


async def test_cleanup_removes_what_has_expired(env: dict[str, str], tmp_path: Path) -> None:
    assert axiom(env, "migrate").returncode == 0
    ctx = AppContext.from_settings(make_settings("", tmp_path / "data"))
    try:
        async with ctx.db.session() as session:
            user = User(email="c@example.com", password_hash="x")
            session.add(user)
            await session.flush()
            for ttl in (timedelta(seconds=-5), timedelta(seconds=-5), timedelta(days=1)):
                await issue_access_token(
                    session, user_id=user.id, client_id="c", scopes=["items:read"], resource=None, ttl=ttl
                )
    finally:
        await ctx.close()
    result = await asyncio.to_thread(axiom, env, "cleanup")
    assert result.returncode == 0, result.stderr
    assert "access_tokens: 2" in result.stdout
    second = await asyncio.to_thread(axiom, env, "cleanup")
    assert "access_tokens: 0" in second.stdout


async def test_the_commands_work_on_postgresql(tmp_path: Path) -> None:
    async with postgres_database() as url:
        env = clean_env(tmp_path / "data", AXIOM_DATABASE_URL=url)
        for args in (["migrate"], ["user", "create", "pg@example.com", "--password", PASSWORD], ["cleanup"]):
            result = await asyncio.to_thread(axiom, env, *args)
            assert result.returncode == 0, result.stderr
        listed = await asyncio.to_thread(axiom, env, "user", "list")
        assert "pg@example.com" in listed.stdout
        deleted = await asyncio.to_thread(axiom, env, "user", "delete", "pg@example.com")
        assert deleted.returncode == 0, deleted.stderr
    assert not (tmp_path / "data" / "axiom.db").exists()  # nothing went to SQLite


# --- serve ----------------------------------------------------------------------------------------


@contextmanager
def serving(env: dict[str, str], *args: str, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        process = subprocess.Popen([*AXIOM, "serve", *args], env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            yield process
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=30)


def wait_until_up(process: subprocess.Popen[bytes], url: str, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"axiom serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {timeout} s:\n{log.read_text()}")


def stop(process: subprocess.Popen[bytes], sig: signal.Signals, log: Path) -> None:
    process.send_signal(sig)
    try:
        code = process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"axiom serve did not stop on {sig.name}:\n{log.read_text()}") from None
    assert code == 0, log.read_text()


def refused(port: int) -> bool:
    try:
        httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
    except httpx.TransportError:
        return True
    return False


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_serve_only_auth_answers_logins_and_stops_cleanly(env: dict[str, str], tmp_path: Path, sig: signal.Signals) -> None:
    assert axiom(env, "user", "create", "ann@example.com", "--password", PASSWORD).returncode == 0
    port, web_port, mcp_port = free_port(), free_port(), free_port()
    env = {**env, "AXIOM_AUTH_PORT": str(port), "AXIOM_WEB_PORT": str(web_port), "AXIOM_MCP_PORT": str(mcp_port)}
    log = tmp_path / "serve.log"
    base = f"http://127.0.0.1:{port}"
    with serving(env, "--only", "auth", log=log) as process:
        wait_until_up(process, f"{base}/openapi.json", log)
        login = httpx.post(f"{base}/api/v1/auth/login", json={"email": "Ann@example.com", "password": PASSWORD})
        assert login.status_code == 200, login.text
        token = login.json()["token"]
        profile = httpx.get(f"{base}/api/v1/user/profile", headers={"Authorization": f"Bearer {token}"})
        assert profile.json()["email"] == "ann@example.com"
        assert login.json()["record"]["id"] == profile.json()["id"]
        assert refused(web_port) and refused(mcp_port)  # --only auth runs nothing else
        stop(process, sig, log)
    assert refused(port)


def test_serve_runs_all_three_services_and_stops_on_sigterm(env: dict[str, str], tmp_path: Path) -> None:
    ports = {"auth": free_port(), "web": free_port(), "mcp": free_port()}
    env = {**env, **{f"AXIOM_{name.upper()}_PORT": str(port) for name, port in ports.items()}}
    log = tmp_path / "serve.log"
    with serving(env, log=log) as process:
        wait_until_up(process, f"http://127.0.0.1:{ports['auth']}/openapi.json", log)
        for name, path in (("auth", "/api/v1/user/profile"), ("web", "/"), ("mcp", "/health")):
            wait_until_up(process, f"http://127.0.0.1:{ports[name]}{path}", log)
        unauthorised = httpx.get(f"http://127.0.0.1:{ports['auth']}/api/v1/user/profile")
        assert unauthorised.status_code == 401
        assert httpx.get(f"http://127.0.0.1:{ports['mcp']}/health").status_code == 200
        assert httpx.get(f"http://127.0.0.1:{ports['web']}/").status_code < 500
        stop(process, signal.SIGTERM, log)
    assert all(refused(port) for port in ports.values())



def _read_until(fd: int, wanted: str, process: subprocess.Popen[bytes], timeout: float = 60) -> str:
    """What a terminal shows until ``wanted`` appears on it (the process keeps running)."""
    import select

    seen = b""
    deadline = time.monotonic() + timeout
    while wanted.encode() not in seen and time.monotonic() < deadline:
        if process.poll() is not None:
            break
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                seen += os.read(fd, 65536)
            except OSError:  # the terminal closed
                break
    return seen.decode(errors="replace")


def test_serve_on_a_terminal_shows_where_to_go_and_that_there_is_no_account_yet(env: dict[str, str]) -> None:
    import pty

    ports = {"auth": free_port(), "web": free_port(), "mcp": free_port()}
    env = {**env, **{f"AXIOM_{name.upper()}_PORT": str(port) for name, port in ports.items()}}
    env.pop("AXIOM_LOG_FORMAT")  # auto: people on a terminal
    main, terminal = pty.openpty()
    process = subprocess.Popen([*AXIOM, "serve"], env=env, stdin=subprocess.DEVNULL, stdout=terminal, stderr=terminal)
    os.close(terminal)
    try:
        shown = _read_until(main, "Stop with Ctrl-C.", process)
        assert "Axiom is running." in shown, shown
        assert f"Web app      http://localhost:{ports['web']}" in shown
        assert f"MCP server   http://localhost:{ports['mcp']}/mcp" in shown
        assert f"No accounts yet: sign up at http://localhost:{ports['web']}/auth/signup" in shown
        assert '{"time"' not in shown  # log lines for people, not JSON
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
        os.close(main)


def test_serve_without_a_terminal_logs_one_ready_line_instead_of_a_banner(env: dict[str, str], tmp_path: Path) -> None:
    assert axiom(env, "user", "create", "ann@example.com", "--password", PASSWORD).returncode == 0
    ports = {"auth": free_port(), "web": free_port(), "mcp": free_port()}
    env = {**env, **{f"AXIOM_{name.upper()}_PORT": str(port) for name, port in ports.items()}}
    log = tmp_path / "serve.log"
    with serving(env, log=log) as process:
        wait_until_up(process, f"http://127.0.0.1:{ports['mcp']}/health", log)
        deadline = time.monotonic() + 30
        while "ready: web app" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        text = log.read_text()
        assert f"ready: web app http://localhost:{ports['web']}, MCP server http://localhost:{ports['mcp']}/mcp" in text
        assert "No accounts yet" not in text and "no accounts yet" not in text  # there is one
        assert "Axiom is running." not in text
        stop(process, signal.SIGTERM, log)


async def test_user_export_then_import_moves_an_account_to_another_axiom_on_postgresql(tmp_path: Path) -> None:
    """SQLite here, PostgreSQL there: the archive carries the account and its records across."""
    here = clean_env(tmp_path / "here")
    assert axiom(here, "user", "create", "move@example.com", "--password", PASSWORD).returncode == 0
    settings = make_settings(f"sqlite+aiosqlite:///{tmp_path / 'here' / 'axiom.db'}", tmp_path / "here")
    ctx = AppContext.from_settings(settings)
    try:
        from axiom_mcp.data import records, users
        from axiom_mcp.data.kinds import ITEMS, TAGS
        from axiom_mcp.data.schemas import ItemCreate, PageQuery, TagCreate

        async with ctx.db.session() as session:
            user = await users.get_user_by_email(session, "move@example.com")
            assert user is not None
            tag = await records.create_record(TAGS, session, user.id, TagCreate(name="travel"))
            await records.create_record(ITEMS, session, user.id, ItemCreate(name="Packing list", content="socks", tags=[tag.id]))
    finally:
        await ctx.close()
    archive_path = tmp_path / "move.zip"
    exported = await asyncio.to_thread(axiom, here, "user", "export", "move@example.com", "-o", str(archive_path))
    assert exported.returncode == 0, exported.stderr
    assert archive_path.exists() and not list(tmp_path.glob(".*.partial"))

    async with postgres_database() as url:
        there = clean_env(tmp_path / "there", AXIOM_DATABASE_URL=url)
        imported = await asyncio.to_thread(axiom, there, "user", "import", str(archive_path), "--password", "another long one")
        assert imported.returncode == 0, imported.stderr
        assert "1 items, 1 tags" in imported.stdout
        again = await asyncio.to_thread(axiom, there, "user", "import", str(archive_path), "--password", "another long one")
        assert again.returncode == 1 and "already holds" in again.stderr and "Traceback" not in again.stderr
        settings = make_settings(url, tmp_path / "there")
        ctx = AppContext.from_settings(settings)
        try:
            async with ctx.db.session() as session:
                moved = await users.authenticate(session, "move@example.com", "another long one")
            page = await records.list_records(ITEMS, ctx.db, moved.id, PageQuery())
            assert [(i.name, i.content, [t.name for t in i.expand.tags]) for i in page.items] == [
                ("Packing list", "socks", ["travel"])]
        finally:
            await ctx.close()


def test_user_export_of_an_unknown_account_and_import_of_a_missing_file_say_so(env: dict[str, str], tmp_path: Path) -> None:
    unknown = axiom(env, "user", "export", "nobody@example.com")
    assert unknown.returncode == 1 and "no user" in unknown.stderr
    missing = axiom(env, "user", "import", str(tmp_path / "nope.zip"), "--password", PASSWORD)
    assert missing.returncode == 1 and "cannot read" in missing.stderr and "Traceback" not in missing.stderr
