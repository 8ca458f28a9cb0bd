"""Every benchmark figure of issue 8, each beside a ceiling measured in the same run, as one table.

Per database (SQLite, PostgreSQL): a fresh database, migrated and seeded in bulk; ``axiom serve``
(all three services in one process, as deployed) on free ports; the ceiling (``bench.ceiling``)
beside it. Then, each for ``--duration`` seconds with ``--connections`` connections:

- ``rest``: ``GET /api/v1/user/items?page=1&perPage=20`` (wrk, ``lua/rest_items.lua``)
- ``stateless``: ``tools/call get_user_items`` over 2026-07-28 stateless streamable HTTP
  (wrk, ``lua/mcp_stateless.lua``); resident memory is sampled during this run
- ``session``: the same call inside 2025-11-25 sessions (wrk, ``lua/mcp_session.lua``)
- ``sse``: the same call over the legacy SSE transport (``bench.sse_load``, an asyncio client,
  compared with the same client against the ceiling's bare SSE endpoint)
- ``items``: the stateless call for a deep page of the small user, and the first and a deep
  (the last) page of a user owning ``--large-items`` items
- ``tokens``: the stateless call again after the token table grows to ``--many-tokens``

The first page of the small user (``--small-items`` items) with ``--base-tokens`` tokens in the
table is the baseline the ``items`` and ``tokens`` figures are compared with.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from axiom_mcp.db.engine import Database
from axiom_mcp.db.migrate import migrate
from axiom_mcp.settings import Settings

from bench import probes
from bench.databases import database
from bench.seed import SeededUser, Seeder
from bench.servers import REPO, AxiomServer, CeilingServer, MemorySampler
from bench.wrk import LoadResult, parse, run_wrk

FIGURES = ("rest", "stateless", "session", "sse", "items", "search", "tokens")
PER_PAGE = 20
SEARCH = "item 4242"
"""The ``search`` figure's query (bench/README.md says why this one)."""


@dataclass
class Options:
    dbs: list[str] = field(default_factory=lambda: ["sqlite", "postgres"])
    figures: list[str] = field(default_factory=lambda: list(FIGURES))
    duration: float = 20.0
    connections: int = 32
    threads: int = 2
    sse_clients: int = 32
    small_items: int = 100
    large_items: int = 100_000
    base_tokens: int = 1_000
    many_tokens: int = 1_000_000
    user_tokens: int = 16
    """Tokens per user and audience; the load scripts rotate through them."""
    token_cache_seconds: float | None = None
    """Override AXIOM_TOKEN_CACHE_SECONDS for the server (None: the product's default)."""
    workdir: Path | None = None
    results: Path | None = None
    log: Callable[[str], None] = print


@dataclass
class Figure:
    db: str
    key: str
    label: str
    result: LoadResult | None
    ceiling: LoadResult | None
    ceiling_label: str = ""
    body_bytes: int = 0
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.result is None or self.ceiling is None or not self.ceiling.rps:
            return None
        return self.result.rps / self.ceiling.rps


@dataclass
class DbReport:
    db: str
    figures: list[Figure] = field(default_factory=list)
    rss_idle_mib: float | None = None
    rss_load_mib: float | None = None
    seed_seconds: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def figure(self, key: str) -> Figure | None:
        return next((f for f in self.figures if f.key == key), None)


# --- one database ---------------------------------------------------------------------------------


class DbBench:
    def __init__(self, kind: str, url: str, folder: Path, options: Options) -> None:
        self.kind, self.url, self.folder, self.o = kind, url, folder, options
        self.report = DbReport(kind)
        self.server = AxiomServer(url, folder / "data", token_cache_seconds=options.token_cache_seconds)
        self.ceiling = CeilingServer(folder)
        self.seeder = Seeder(url)
        self.small: SeededUser | None = None
        self.large: SeededUser | None = None

    def log(self, text: str) -> None:
        self.o.log(f"[{self.kind}] {text}")

    def settings(self) -> Settings:
        env = self.server.settings_env()
        return Settings(
            _env_file=None,  # type: ignore[call-arg]
            environment="development",
            database_url=env["AXIOM_DATABASE_URL"],
            data_dir=Path(env["AXIOM_DATA_DIR"]),
            secret_key=env["AXIOM_SECRET_KEY"],
            public_url=env["AXIOM_PUBLIC_URL"],
            web_url=env["AXIOM_WEB_URL"],
            mcp_url=env["AXIOM_MCP_URL"],
        )

    async def seed(self) -> None:
        settings = self.settings()
        db = Database(settings)
        try:
            await migrate(db.engine)
        finally:
            await db.close()
        started = time.perf_counter()
        o = self.o
        self.small = await self.seeder.add_user("small@bench.example", o.small_items)
        if "items" in o.figures or "search" in o.figures:
            self.large = await self.seeder.add_user("large@bench.example", o.large_items)
        for user in filter(None, (self.small, self.large)):
            await self.seeder.add_user_tokens(
                user, o.user_tokens, api_resource=settings.api_resource, mcp_resource=settings.mcp_resource
            )
        await self.seeder.add_filler_tokens(max(0, o.base_tokens - self.seeder.tokens), resource=settings.mcp_resource)
        await self.seeder.analyze()
        self.log(
            f"seeded {o.small_items} + {o.large_items if self.large else 0} items, {self.seeder.tokens} tokens "
            f"in {time.perf_counter() - started:.1f} s"
        )

    def tokens_file(self, name: str, lines: list[str]) -> str:
        path = self.folder / f"{name}.txt"
        path.write_text("\n".join(lines) + "\n")
        return str(path)

    def bracketed(self, measure_ceiling: Callable[[float], LoadResult],
                  measure_figure: Callable[[], LoadResult]) -> tuple[LoadResult, LoadResult]:
        """The figure, and its ceiling measured half right before it and half right after.

        Other work on a shared machine comes and goes within minutes, and one ceiling run next to
        a figure moved by +-25 % between neighbours in a run; the two halves around the figure
        (a quarter of its duration each: the bare endpoint settles fast) average that out.
        """
        half = max(1.0, self.o.duration / 4)
        before = measure_ceiling(half)
        result = measure_figure()
        after = measure_ceiling(half)
        return result, merged(before, after)

    def wrk_ceiling(self, method: str, size: int) -> Callable[[float], LoadResult]:
        """A ceiling run for an answer of ``size`` bytes, for ``bracketed``."""
        return lambda seconds: run_wrk(self.ceiling.url, "ceiling.lua", [method, str(size)], duration=seconds,
                                       connections=self.o.connections, threads=self.o.threads)

    def load(self, url: str, script: str, args: list[str]) -> LoadResult:
        return run_wrk(url, script, args, duration=self.o.duration, connections=self.o.connections,
                       threads=self.o.threads)

    def add(self, figure: Figure) -> Figure:
        self.report.figures.append(figure)
        r = figure.result
        if r is not None:
            ratio = f"{figure.ratio:.2f}" if figure.ratio is not None else "-"
            self.log(f"{figure.label}: {r.rps:.0f}/s (ceiling {figure.ceiling.rps if figure.ceiling else 0:.0f}/s, "
                     f"{ratio}), p50 {r.p50_ms:.1f} ms, p99 {r.p99_ms:.1f} ms, errors {r.errors}"
                     + (f" [{r.first_failure[:120]}]" if r.first_failure else ""))
        return figure

    # --- figures --------------------------------------------------------------------------------

    def rest(self) -> None:
        assert self.small is not None
        path = f"/api/v1/user/items?page=1&perPage={PER_PAGE}"
        probe = probes.probe_rest(self.server.api_url, self.small.api_tokens[0], path)
        tokens = self.tokens_file("api", self.small.api_tokens)
        result, ceiling = self.bracketed(self.wrk_ceiling("GET", probe.size),
                                         lambda: self.load(self.server.api_url, "rest_items.lua", [tokens, path]))
        self.add(Figure(self.kind, "rest", f"REST GET /api/v1/user/items (page 1 of {self.small.items})", result,
                        ceiling, f"GET {probe.size} B", probe.size))

    def rest_page(self, user: SeededUser, query: str, key: str, label: str) -> Figure:
        """``GET /api/v1/user/items?<query>`` of ``user`` (its API tokens in rotation)."""
        path = f"/api/v1/user/items?{query}"
        probe = probes.probe_rest(self.server.api_url, user.api_tokens[0], path)
        tokens = self.tokens_file(f"api-{user.email}", user.api_tokens)
        result, ceiling = self.bracketed(self.wrk_ceiling("GET", probe.size),
                                         lambda: self.load(self.server.api_url, "rest_items.lua", [tokens, path]))
        return self.add(Figure(self.kind, key, label, result, ceiling, f"GET {probe.size} B", probe.size))

    def search(self) -> None:
        """A search page of the large user beside its list page, one after the other (issue 14)."""
        assert self.large is not None
        large = self.large.items
        self.rest_page(self.large, f"page=1&perPage={PER_PAGE}", "list_large_rest", f"REST list, page 1 of {large}")
        self.rest_page(self.large, f"page=1&perPage={PER_PAGE}&q={SEARCH.replace(' ', '+')}", "search",
                       f"REST search {SEARCH!r}, page 1, of {large}")

    def stateless(self, user: SeededUser, page: int, key: str, label: str, *, sample_memory: bool = False) -> Figure:
        probe = probes.probe_stateless(self.server.mcp_url, user.mcp_tokens[0], page, PER_PAGE)
        if probe.items == 0:
            raise probes.ProbeFailed(f"page {page} of {user.items} items is empty")
        args = [self.tokens_file(f"mcp-{user.email}", user.mcp_tokens), "/mcp", str(page), str(PER_PAGE)]

        def figure() -> LoadResult:
            if not sample_memory:
                return self.load(self.server.mcp_url, "mcp_stateless.lua", args)
            assert self.server.process is not None
            with MemorySampler(self.server.process.pid) as sampler:
                loaded = self.load(self.server.mcp_url, "mcp_stateless.lua", args)
            self.report.rss_load_mib = sampler.peak_kib / 1024
            return loaded

        result, ceiling = self.bracketed(self.wrk_ceiling("POST", probe.size), figure)
        return self.add(Figure(self.kind, key, label, result, ceiling, f"POST {probe.size} B", probe.size))

    def session(self) -> None:
        assert self.small is not None
        sessions = probes.open_sessions(self.server.mcp_url, self.small.mcp_tokens, self.o.connections)
        try:
            probe = probes.probe_session(self.server.mcp_url, *sessions[0], 1, PER_PAGE)
            lines = [f"{token} {session_id}" for token, session_id in sessions]
            args = [self.tokens_file("sessions", lines), "/mcp", "1", str(PER_PAGE)]
            result, ceiling = self.bracketed(self.wrk_ceiling("POST", probe.size),
                                             lambda: self.load(self.server.mcp_url, "mcp_session.lua", args))
        finally:
            probes.close_sessions(self.server.mcp_url, sessions)
        self.add(Figure(self.kind, "session", f"MCP session (2025-11-25), page 1 of {self.small.items}", result,
                        ceiling, f"POST {probe.size} B", probe.size))

    def sse(self) -> None:
        assert self.small is not None
        size = probes.probe_stateless(self.server.mcp_url, self.small.mcp_tokens[0], 1, PER_PAGE).size
        tokens = self.tokens_file("sse", self.small.mcp_tokens)
        result, ceiling = self.bracketed(
            lambda seconds: sse_load(self.ceiling.url, f"/sse?size={size}", tokens, self.o.sse_clients, seconds),
            lambda: sse_load(self.server.mcp_url, "/sse", tokens, self.o.sse_clients, self.o.duration),
        )
        self.add(Figure(self.kind, "sse", f"MCP legacy SSE, {self.o.sse_clients} clients, page 1 of {self.small.items}",
                        result, ceiling, f"bare SSE {size} B (same client)", size,
                        note="asyncio client (bench/sse_load.py), not wrk"))

    async def grow_tokens(self) -> None:
        settings = self.settings()
        started = time.perf_counter()
        await self.seeder.add_filler_tokens(self.o.many_tokens - self.seeder.tokens, resource=settings.mcp_resource)
        await self.seeder.analyze()
        self.log(f"token table grown to {self.seeder.tokens} in {time.perf_counter() - started:.1f} s")

    # --- the run ----------------------------------------------------------------------------------

    async def run(self) -> DbReport:
        o = self.o
        await self.seed()
        self.report.seed_seconds = dict(self.seeder.timings)
        self.server.start()
        self.ceiling.start()
        try:
            await asyncio.sleep(1.0)
            self.report.rss_idle_mib = self.server.memory_kib()["VmRSS"] / 1024
            self.log(f"axiom serve idle: {self.report.rss_idle_mib:.0f} MiB resident")
            small = self.small
            assert small is not None
            if "rest" in o.figures:
                self.rest()
            if "stateless" in o.figures or "items" in o.figures or "tokens" in o.figures:
                self.stateless(small, 1, "stateless",
                               f"MCP stateless (2026-07-28), page 1 of {small.items}, {self.seeder.tokens} tokens",
                               sample_memory=True)
            if "session" in o.figures:
                self.session()
            if "sse" in o.figures:
                self.sse()
            if "items" in o.figures and self.large is not None:
                deep_small = max(1, math.ceil(small.items / PER_PAGE))
                self.stateless(small, deep_small, "deep_small", f"MCP stateless, page {deep_small} (last) of {small.items}")
                deep_large = max(1, math.ceil(self.large.items / PER_PAGE))
                self.stateless(self.large, 1, "first_large", f"MCP stateless, page 1 of {self.large.items}")
                self.stateless(self.large, deep_large, "deep_large",
                               f"MCP stateless, page {deep_large} (last) of {self.large.items}")
                # The middle page too: a list read that could start from either end is slowest there.
                middle_large = max(1, deep_large // 2)
                self.stateless(self.large, middle_large, "middle_large",
                               f"MCP stateless, page {middle_large} (middle) of {self.large.items}")
            if "search" in o.figures and self.large is not None:
                self.search()
            if "tokens" in o.figures and o.many_tokens > self.seeder.tokens:
                await self.grow_tokens()
                self.stateless(small, 1, "many_tokens",
                               f"MCP stateless, page 1 of {small.items}, {self.seeder.tokens} tokens")
            self.report.seed_seconds = dict(self.seeder.timings)
        finally:
            self.ceiling.stop()
            self.server.stop()
        return self.report


def merged(first: LoadResult, second: LoadResult) -> LoadResult:
    """Two runs of the same load as one: requests and time added (so ``rps`` is the mean rate);
    the latency figures are the mean (the ceiling's are not judged)."""
    return LoadResult(
        requests=first.requests + second.requests,
        seconds=first.seconds + second.seconds,
        p50_ms=(first.p50_ms + second.p50_ms) / 2,
        p99_ms=(first.p99_ms + second.p99_ms) / 2,
        mean_ms=(first.mean_ms + second.mean_ms) / 2,
        max_ms=max(first.max_ms, second.max_ms),
        errors=first.errors + second.errors,
        error_detail={k: first.error_detail.get(k, 0) + second.error_detail.get(k, 0)
                      for k in {*first.error_detail, *second.error_detail}},
        first_failure=first.first_failure or second.first_failure,
        tool=first.tool,
    )


def sse_load(url: str, sse_path: str, tokens_file: str, clients: int, duration: float) -> LoadResult:
    command = [sys.executable, "-m", "bench.sse_load", "--url", url, "--sse-path", sse_path, "--tokens", tokens_file,
               "--clients", str(clients), "--duration", str(duration), "--per-page", str(PER_PAGE)]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 120, env=env, cwd=REPO)
    if done.returncode != 0:
        raise RuntimeError(f"sse_load failed: {done.stderr[-2000:]}")
    result = parse(done.stdout)
    result.tool = "sse_load"
    return result


# --- the whole run and its table ------------------------------------------------------------------


def machine_note() -> str:
    load1, load5, _ = os.getloadavg()
    return (f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, load average before the run "
            f"{load1:.1f}/{load5:.1f} (1/5 min), Python {platform.python_version()}, "
            f"{subprocess.run(['wrk', '--version'], capture_output=True, text=True).stdout.split()[1]}")


async def run_all(options: Options) -> list[DbReport]:
    workdir = options.workdir or Path(tempfile.mkdtemp(prefix="axiom-bench-"))
    reports = []
    try:
        for kind in options.dbs:
            folder = workdir / kind
            folder.mkdir(parents=True, exist_ok=True)
            async with database(kind, folder) as url:
                reports.append(await DbBench(kind, url, folder, options).run())
    finally:
        if options.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    return reports


def _ms(value: float) -> str:
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def table(reports: list[DbReport]) -> str:
    """The results as a Markdown table, then the targets of issue 8 and where each stands."""
    lines = [
        "| db | figure | calls/s | ceiling/s | of ceiling | p50 ms | p99 ms | p99/p50 | errors | body B |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for report in reports:
        for f in report.figures:
            r, c = f.result, f.ceiling
            if r is None:
                continue
            lines.append(
                f"| {report.db} | {f.label} | {r.rps:.0f} | {c.rps if c else 0:.0f} | "
                f"{f.ratio:.3f} | {_ms(r.p50_ms)} | {_ms(r.p99_ms)} | {r.p99_ms / r.p50_ms if r.p50_ms else 0:.1f} | "
                f"{r.errors} | {f.body_bytes} |"
                if f.ratio is not None else
                f"| {report.db} | {f.label} | {r.rps:.0f} | - | - | {_ms(r.p50_ms)} | {_ms(r.p99_ms)} | - | {r.errors} | "
                f"{f.body_bytes} |"
            )
    lines.append("")
    lines += targets(reports)
    return "\n".join(lines)


def _verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("met" if ok else "NOT met")


def targets(reports: list[DbReport]) -> list[str]:
    out = ["Targets (issue 8):", ""]
    for report in reports:
        db = report.db
        for key in ("stateless", "session", "sse"):
            f = report.figure(key)
            if f is None or f.result is None or f.ratio is None:
                continue
            r = f.result
            ok = f.ratio >= 0.30 and r.errors == 0 and r.p99_ms < 10 * r.p50_ms
            out.append(f"- {db} {key}: {f.ratio:.3f} of ceiling (>= 0.30), {r.errors} errors (0), p99/p50 "
                       f"{r.p99_ms / r.p50_ms:.1f} (< 10): {_verdict(ok)}")
        comparisons = (("stateless", "many_tokens", "tokens", 1.25),
                       ("stateless", "first_large", "items, first page", 2.0),
                       ("deep_small", "deep_large", "items, deep page", 2.0),
                       ("deep_small", "middle_large", "items, middle page", 2.0),
                       ("list_large_rest", "search", "search page vs list page", 2.0))
        for base_key, other_key, what, bound in comparisons:
            b, g = report.figure(base_key), report.figure(other_key)
            if not (b and g and b.result and g.result and b.ratio and g.ratio):
                continue
            # Judged on the share of the ceiling each reached (both measured beside their own
            # ceiling), which other load on the machine moves far less than raw rates.
            slow = b.ratio / g.ratio
            out.append(f"- {db} {what}: {g.label.split(', ', 1)[-1]} at {g.ratio:.3f} of its ceiling vs "
                       f"{b.ratio:.3f} ({g.result.rps:.0f}/s vs {b.result.rps:.0f}/s): {slow:.2f}x slower "
                       f"(<= {bound:g}x): {_verdict(slow <= bound)}")
        if report.rss_idle_mib is not None:
            out.append(f"- {db} resident memory: idle {report.rss_idle_mib:.0f} MiB (< 150 MB: "
                       f"{_verdict(report.rss_idle_mib * 1.048576 < 150)}), under the stateless load "
                       f"{report.rss_load_mib or 0:.0f} MiB")
        sse, rest = report.figure("sse"), report.figure("rest")
        if sse and sse.result:
            out.append(f"- {db} vs the original's legacy SSE (180-210 calls/s, 10 clients, p50 43-49 ms): "
                       f"{sse.result.rps:.0f}/s = {sse.result.rps / 195:.1f}x (>= 5x): "
                       f"{_verdict(sse.result.rps >= 5 * 195)}")
        if rest and rest.result:
            out.append(f"- {db} vs the original's REST API (370-440 requests/s): {rest.result.rps:.0f}/s = "
                       f"{rest.result.rps / 405:.1f}x (>= 5x): {_verdict(rest.result.rps >= 5 * 405)}")
    return out


def save(reports: list[DbReport], options: Options, note: str, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "machine": note,
        "options": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(options).items() if k != "log"},
        "reports": [asdict(r) for r in reports],
    }
    path.write_text(json.dumps(data, indent=2, default=str))


def default_results_path() -> Path:
    return REPO / "test-artifacts" / "bench" / f"{datetime.now(UTC):%Y%m%d-%H%M%S}.json"
