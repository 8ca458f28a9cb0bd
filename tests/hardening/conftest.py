"""Fixtures of the hardening tests: ``axiom serve`` children that never outlive their test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from tests.hardening.process_server import ServerProcess


@pytest.fixture
async def server_processes() -> AsyncIterator[Callable[..., ServerProcess]]:
    """A maker of ``ServerProcess`` objects; every one still running at teardown is stopped."""
    made: list[ServerProcess] = []

    def make(data_dir: Path, database_url: str, **kwargs: object) -> ServerProcess:
        server = ServerProcess(data_dir, database_url, **kwargs)  # type: ignore[arg-type]
        made.append(server)
        return server

    yield make
    for server in made:
        if server.proc is not None and server.proc.poll() is None:
            server.proc.kill()
            server.proc.wait(10)
