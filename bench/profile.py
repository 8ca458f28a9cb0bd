"""Profile ``axiom serve`` under one benchmark load with py-spy, and say where the time goes.

    .venv/bin/python -m bench.profile --db sqlite --figure stateless --duration 15

Seeds a fresh database as ``bench.runner`` does, starts the server, runs the figure's load and
``py-spy record`` (sampling the server's process from outside, as root) at the same time, then
prints the functions with the largest share of samples, inclusive ("in this or below") and
exclusive ("in this itself"). The collapsed stacks are kept (``--out``) for a flame graph
(``py-spy record --format flamegraph`` or speedscope.app).

py-spy is a PyPI package (``pip install py-spy``; the ``bench`` extra of pyproject.toml).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from bench import probes
from bench.databases import database
from bench.runner import PER_PAGE, DbBench, Options
from bench.wrk import run_wrk


def summarize(collapsed: str, top: int = 25, only_ours: bool = False) -> str:
    """Inclusive and exclusive sample shares per function from py-spy's raw (collapsed) output."""
    inclusive: collections.Counter[str] = collections.Counter()
    exclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = [f for f in stack.split(";") if f]
        for frame in dict.fromkeys(_name(f) for f in frames):
            inclusive[frame] += count
        if frames:
            exclusive[_name(frames[-1])] += count
    if not total:
        return "no samples"

    def rows(counter: collections.Counter[str]) -> list[str]:
        picked = [(k, v) for k, v in counter.most_common() if not only_ours or "axiom_mcp" in k]
        return [f"  {100 * v / total:5.1f}%  {k}" for k, v in picked[:top]]

    return "\n".join([f"{total} samples", "inclusive:", *rows(inclusive), "exclusive:", *rows(exclusive)])


def _name(frame: str) -> str:
    # py-spy frames look like "function (path/to/module.py:123)"; drop the line number.
    function, _, where = frame.partition(" (")
    path = where.rsplit(":", 1)[0]
    for marker in ("site-packages/", "src/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{function} ({path})"


async def profile(kind: str, figure: str, duration: float, out: Path, rate: int, large_items: int) -> str:
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    folder = Path(tempfile.mkdtemp(prefix="axiom-profile-"))
    options = Options(dbs=[kind], figures=["items"] if figure.endswith("large") else [figure],
                      large_items=large_items, duration=duration)
    async with database(kind, folder) as url:
        bench = DbBench(kind, url, folder, options)
        await bench.seed()
        bench.server.start()
        try:
            assert bench.server.process is not None and bench.small is not None
            user = bench.large if figure.endswith("large") and bench.large else bench.small
            last = (user.items + PER_PAGE - 1) // PER_PAGE
            page = {"deep_large": last, "middle_large": max(1, last // 2)}.get(figure, 1)
            probes.probe_stateless(bench.server.mcp_url, user.mcp_tokens[0], page, PER_PAGE)
            recorder = subprocess.Popen(
                [py_spy, "record", "--pid", str(bench.server.process.pid), "--rate", str(rate), "--duration",
                 str(int(duration)), "--format", "raw", "--output", str(out), "--nonblocking"],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            )
            result_box: list[object] = []

            def load() -> None:
                if figure == "rest":
                    path = f"/api/v1/user/items?page=1&perPage={PER_PAGE}"
                    result_box.append(run_wrk(bench.server.api_url, "rest_items.lua",
                                              [bench.tokens_file("api", user.api_tokens), path], duration=duration))
                else:
                    args = [bench.tokens_file("mcp", user.mcp_tokens), "/mcp", str(page), str(PER_PAGE)]
                    result_box.append(run_wrk(bench.server.mcp_url, "mcp_stateless.lua", args, duration=duration))

            thread = threading.Thread(target=load)
            thread.start()
            thread.join()
            recorder.wait(timeout=duration + 60)
            if recorder.returncode != 0:
                raise RuntimeError(f"py-spy failed: {recorder.stderr.read().decode() if recorder.stderr else ''}")
        finally:
            bench.server.stop()
    shutil.rmtree(folder, ignore_errors=True)
    return f"{result_box[0]}\n" + summarize(out.read_text())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--figure", choices=["rest", "stateless", "first_large", "deep_large", "middle_large"], default="stateless")
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--rate", type=int, default=200, help="py-spy samples per second")
    parser.add_argument("--large-items", type=int, default=100_000)
    parser.add_argument("--out", type=Path, default=Path("test-artifacts/bench/profile.txt"))
    args = parser.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    print(asyncio.run(profile(args.db, args.figure, args.duration, args.out, args.rate, args.large_items)))


if __name__ == "__main__":
    main()
