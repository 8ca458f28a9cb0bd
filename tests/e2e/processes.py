"""``axiom`` as a user runs it: real subprocesses on real ports, their logs kept, stopped with SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

STARTUP_SECONDS = 90.0
"""How long a process may take to answer (migrations on a loaded 2-core machine included)."""

STOP_SECONDS = 30.0
"""How long a graceful stop may take (the server's own limit is 10 s)."""

SECRET_KEY = "e2e-secret-key-shared-by-every-process-of-one-deployment"

_FOREIGN = ("VITE_POCKETBASE_URL", "VITE_APP_URL", "PORT")


def clean_env(**values: str) -> dict[str, str]:
    """This machine's environment without any Axiom setting, plus ``values``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AXIOM_") and k not in _FOREIGN}
    env.update(PYTHONUNBUFFERED="1", AXIOM_LOG_FORMAT="json", AXIOM_LOG_LEVEL="info")
    env.update(values)
    return env


def axiom_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "axiom_mcp.cli", *args]


async def run_cli(env: dict[str, str], *args: str, timeout: float = 120.0, expect: int = 0) -> str:
    """Run one ``axiom`` command to the end; its output, or an assertion error with it."""
    proc = await asyncio.create_subprocess_exec(
        *axiom_command(*args), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=timeout)
    text = out.decode()
    assert proc.returncode == expect, f"axiom {' '.join(args)} exited {proc.returncode}:\n{text}"
    return text


@dataclass
class AxiomProcess:
    """One ``axiom serve`` process and the URLs that tell it is ready."""

    name: str
    args: Sequence[str]
    env: dict[str, str]
    ready_urls: Sequence[str]
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None
    exit_code: int | None = None
    _log_file: object = field(default=None, repr=False)

    def start(self) -> None:
        self._log_file = self.log_path.open("wb")
        self.proc = subprocess.Popen(  # noqa: S603 - our own command
            axiom_command(*self.args), env=self.env, stdout=self._log_file, stderr=subprocess.STDOUT
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_lines(self) -> list[dict[str, object]]:
        """The JSON log lines (every line the server printed must be one)."""
        lines = []
        for raw in self.log().splitlines():
            if raw.strip():
                try:
                    lines.append(json.loads(raw))
                except ValueError as exc:
                    raise AssertionError(f"{self.name} printed a line that is not JSON: {raw!r}") from exc
        return lines

    async def wait_ready(self) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + STARTUP_SECONDS
        pending = list(self.ready_urls)
        async with httpx.AsyncClient(timeout=5) as client:
            while pending:
                if self.proc.poll() is not None:
                    raise AssertionError(f"{self.name} exited {self.proc.returncode} while starting:\n{self.log()}")
                if time.monotonic() > deadline:
                    raise AssertionError(f"{self.name} did not answer {pending} in {STARTUP_SECONDS} s:\n{self.log()}")
                try:
                    if (await client.get(pending[0])).status_code == 200:
                        pending.pop(0)
                        continue
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.25)

    async def stop(self) -> int:
        """SIGTERM, then wait for a graceful exit; its exit code (killed: -9 and a failed check later)."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + STOP_SECONDS
            while self.proc.poll() is None and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
        self.exit_code = self.proc.returncode
        self._log_file.close()  # type: ignore[attr-defined]
        return self.exit_code


def instances_behind_balancer(tmp_path: Path, database_url: str, public_url: str, ports: Sequence[int]) -> list[AxiomProcess]:
    """Single-origin instances of one deployment sharing a database, each on its own port, behind a
    balancer at ``public_url`` (the issuer and every public URL) that is their trusted proxy."""
    return [
        AxiomProcess(
            f"instance {i + 1}",
            ["serve", "--single-origin"],
            clean_env(
                AXIOM_DATA_DIR=str(tmp_path / f"data{i}"),
                AXIOM_DATABASE_URL=database_url,
                AXIOM_SECRET_KEY=SECRET_KEY,
                AXIOM_SINGLE_ORIGIN_PORT=str(port),
                AXIOM_PUBLIC_URL=public_url,
                AXIOM_TRUSTED_PROXIES="127.0.0.1",
            ),
            ready_urls=[f"http://127.0.0.1:{port}/health"],
            log_path=tmp_path / f"instance{i + 1}.log",
        )
        for i, port in enumerate(ports)
    ]


@asynccontextmanager
async def serving(*processes: AxiomProcess) -> AsyncIterator[tuple[AxiomProcess, ...]]:
    """Start every process (at once, as an operator's scripts would), wait until all answer, stop all."""
    try:
        for process in processes:
            process.start()
        await asyncio.gather(*(process.wait_ready() for process in processes))
        yield processes
    finally:
        for process in processes:
            if process.proc is not None:
                await process.stop()


def assert_stopped_gracefully(*processes: AxiomProcess) -> None:
    for process in processes:
        assert process.exit_code == 0, f"{process.name} exited {process.exit_code} on SIGTERM:\n{process.log()}"
        messages = [line.get("message") for line in process.log_lines()]
        assert "stopped" in messages, f"{process.name} did not log its shutdown:\n{process.log()}"


def assert_logs_are_clean(processes: Sequence[AxiomProcess], secrets: Sequence[str]) -> None:
    """Every line is JSON, requests were logged with ids, and no secret appears anywhere."""
    for process in processes:
        lines = process.log_lines()
        requests = [line for line in lines if line.get("logger") == "axiom.http"]
        assert requests, f"{process.name} logged no requests"
        assert all(line.get("request_id") for line in requests)
        text = process.log()
        for secret in secrets:
            assert secret not in text, f"{process.name} logged a secret:\n{text}"
        assert "?" not in "".join(str(line.get("path")) for line in requests)
