"""Running wrk (Debian's package) with one of the Lua scripts in ``bench/lua`` and reading its result."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

LUA = Path(__file__).resolve().parent / "lua"


class WrkMissing(RuntimeError):
    pass


@dataclass
class LoadResult:
    """One load run: throughput, latency, and every kind of failure counted."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float
    errors: int
    """Socket errors, timeouts, non-200 answers and wrong bodies (JSON-RPC or tool errors)."""
    error_detail: dict[str, int]
    first_failure: str = ""
    tool: str = "wrk"

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def wrk_path() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise WrkMissing("wrk is not installed: apt-get install -y wrk (scripts/services installs it)")
    return path


def parse(stdout: str) -> LoadResult:
    line = next((ln for ln in stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result:\n{stdout[-2000:]}")
    data = json.loads(line.removeprefix("BENCH_JSON "))
    detail = {key: int(value) for key, value in data["errors"].items()}
    detail["bad_status"] = int(data["bad_status"])
    detail["bad_body"] = int(data["bad_body"])
    # wrk's "status" count is non-2xx/3xx answers, which bad_status also counts: don't add both.
    errors = detail["connect"] + detail["read"] + detail["write"] + detail["timeout"]
    errors += max(detail["status"], detail["bad_status"]) + detail["bad_body"]
    lat = data["latency_us"]
    return LoadResult(
        requests=int(data["requests"]),
        seconds=data["duration_us"] / 1e6,
        p50_ms=lat["p50"] / 1000,
        p99_ms=lat["p99"] / 1000,
        mean_ms=lat["mean"] / 1000,
        max_ms=lat["max"] / 1000,
        errors=errors,
        error_detail=detail,
        first_failure=data.get("first_failure", ""),
    )


def run_wrk(
    url: str,
    script: str,
    args: list[str],
    *,
    duration: float,
    connections: int = 32,
    threads: int = 2,
    timeout: float = 10.0,
) -> LoadResult:
    """``wrk -t threads -c connections -d duration`` with ``bench/lua/<script>`` and its arguments."""
    command = [
        wrk_path(),
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        f"--timeout={timeout:g}s",
        "-s",
        str(LUA / script),
        url,
        "--",
        *args,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=duration + timeout + 60)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr[-2000:]}{done.stdout[-2000:]}")
    return parse(done.stdout)
