"""``axiom serve`` as a real child process on free loopback ports, for crash and load tests.

The child gets a clean ``AXIOM_*`` environment (nothing leaks in from the developer's shell),
writes its log to a file the test can show on failure, and can be stopped gracefully or killed
with SIGKILL (no cleanup code runs: what a power cut or the OOM killer does to the process).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.support.servers import free_port

SECRET = "hardening-secret-key-0123456789abcdef"


@dataclass
class ServerProcess:
    """One ``axiom serve`` child. ``start()`` may be called again after it died (a restart)."""

    data_dir: Path
    database_url: str
    only: str | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    auth_port: int = field(default_factory=free_port)
    web_port: int = field(default_factory=free_port)
    mcp_port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def auth_url(self) -> str:
        return f"http://127.0.0.1:{self.auth_port}"

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    @property
    def mcp_url(self) -> str:
        return f"http://127.0.0.1:{self.mcp_port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / f"server-{self.starts}.log"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AXIOM_", "VITE_")) and k != "PORT"}
        env.update(
            {
                "AXIOM_ENVIRONMENT": "test",
                "AXIOM_SECRET_KEY": SECRET,
                "AXIOM_DATA_DIR": str(self.data_dir),
                "AXIOM_DATABASE_URL": self.database_url,
                "AXIOM_AUTH_PORT": str(self.auth_port),
                "AXIOM_WEB_PORT": str(self.web_port),
                "AXIOM_MCP_PORT": str(self.mcp_port),
                "AXIOM_PUBLIC_URL": self.auth_url,
                "AXIOM_WEB_URL": self.web_url,
                "AXIOM_MCP_URL": self.mcp_url,
                "AXIOM_LOG_LEVEL": "warning",
            }
        )
        env.update(self.extra_env)
        return env

    def start(self) -> None:
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.starts += 1
        self.data_dir.mkdir(parents=True, exist_ok=True)
        args = [sys.executable, "-m", "axiom_mcp.cli", "serve"]
        if self.only:
            args += ["--only", self.only]
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(args, env=self.env(), stdout=log, stderr=subprocess.STDOUT)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    async def wait_ready(self, url: str, timeout: float = 60) -> None:
        """Poll ``url`` until it answers below 500 (the child migrates the database first)."""
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=2) as client:
            while True:
                assert self.proc is not None
                if self.proc.poll() is not None:
                    raise RuntimeError(f"axiom serve exited with {self.proc.returncode}:\n{self.log()}")
                try:
                    if (await client.get(url)).status_code < 500:
                        return
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"axiom serve did not answer {url} within {timeout} s:\n{self.log()}")
                await asyncio.sleep(0.1)

    async def kill9(self) -> None:
        """SIGKILL: the process gets no chance to flush, commit or close anything."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        await self._wait(10)
        assert self.proc.returncode == -signal.SIGKILL

    async def stop(self, timeout: float = 20) -> int | None:
        """SIGTERM and wait (the graceful path); SIGKILL if it hangs. Returns the exit status."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            await self._wait(timeout)
        except TimeoutError:
            self.proc.kill()
            await self._wait(10)
            raise RuntimeError(f"axiom serve ignored SIGTERM for {timeout} s:\n{self.log()}") from None
        return self.proc.returncode

    async def _wait(self, timeout: float) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None:
            if time.monotonic() > deadline:
                raise TimeoutError
            await asyncio.sleep(0.05)

    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid
