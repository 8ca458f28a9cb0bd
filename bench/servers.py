"""The servers under test, as subprocesses on free loopback ports: ``axiom serve`` and the ceiling.

Each runs in its own process, as in production, so the load generator and the harness never share
its event loop or its CPU accounting; resident memory is read from ``/proc/<pid>/status``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def memory_kib(pid: int) -> dict[str, int]:
    """``VmRSS`` (resident now) and ``VmHWM`` (peak resident) of a process, in KiB."""
    values: dict[str, int] = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0])
    return values


class Process:
    """A child process we started, stopped by its own pid (SIGTERM, then SIGKILL)."""

    def __init__(self, command: list[str], env: dict[str, str], log: Path) -> None:
        self.log_path = log
        self._log = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.popen = subprocess.Popen(command, env=env, stdout=self._log, stderr=subprocess.STDOUT, cwd=REPO)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def wait_http(self, url: str, timeout: float = 60.0) -> None:
        """Until ``url`` answers (any status) or the process dies."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"server exited ({self.popen.returncode}):\n{self.log_tail()}")
            try:
                httpx.get(url, timeout=2.0)
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError(f"server did not answer {url} within {timeout:.0f} s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.alive():
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=5)
        self._log.close()


def _env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AXIOM_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
    env.update(extra)
    return env


@dataclass
class AxiomServer:
    """``axiom serve`` (all three services, one process) over a given database."""

    database_url: str
    data_dir: Path
    auth_port: int = field(default_factory=free_port)
    web_port: int = field(default_factory=free_port)
    mcp_port: int = field(default_factory=free_port)
    token_cache_seconds: float | None = None
    process: Process | None = None

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.auth_port}"

    @property
    def mcp_url(self) -> str:
        return f"http://127.0.0.1:{self.mcp_port}"

    def settings_env(self) -> dict[str, str]:
        """The environment ``axiom serve`` gets; the harness builds its Settings from the same."""
        env = {
            "AXIOM_ENVIRONMENT": "development",
            "AXIOM_DATABASE_URL": self.database_url,
            "AXIOM_DATA_DIR": str(self.data_dir),
            "AXIOM_SECRET_KEY": "bench-secret-not-for-production",
            "AXIOM_AUTH_PORT": str(self.auth_port),
            "AXIOM_WEB_PORT": str(self.web_port),
            "AXIOM_MCP_PORT": str(self.mcp_port),
            "AXIOM_PUBLIC_URL": self.api_url,
            "AXIOM_WEB_URL": f"http://127.0.0.1:{self.web_port}",
            "AXIOM_MCP_URL": self.mcp_url,
            # No access log: the ceiling runs at the same level, and a log line per request
            # would measure the terminal, not the server.
            "AXIOM_LOG_LEVEL": "warning",
        }
        if self.token_cache_seconds is not None:
            env["AXIOM_TOKEN_CACHE_SECONDS"] = str(self.token_cache_seconds)
        return env

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        axiom = Path(sys.executable).with_name("axiom")
        command = [str(axiom), "serve"] if axiom.exists() else [sys.executable, "-m", "axiom_mcp.cli", "serve"]
        self.process = Process(command, _env(self.settings_env()), self.data_dir / "axiom-serve.log")
        self.process.wait_http(f"{self.api_url}/api/v1/user/items")
        self.process.wait_http(f"{self.mcp_url}/health")

    def memory_kib(self) -> dict[str, int]:
        assert self.process is not None
        return memory_kib(self.process.pid)

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()


@dataclass
class CeilingServer:
    """``python -m bench.ceiling`` on a free port."""

    log_dir: Path
    port: int = field(default_factory=free_port)
    process: Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "bench.ceiling", "--port", str(self.port)]
        self.process = Process(command, _env({}), self.log_dir / "ceiling.log")
        self.process.wait_http(f"{self.url}/json/100")

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()


class MemorySampler:
    """Samples a process's resident memory in a thread while a load runs; keeps the largest."""

    def __init__(self, pid: int, every: float = 0.25) -> None:
        self.pid = pid
        self.every = every
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak_kib = max(self.peak_kib, memory_kib(self.pid).get("VmRSS", 0))
            except OSError:
                return
            self._stop.wait(self.every)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
