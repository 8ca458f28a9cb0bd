"""``python -m bench`` (or ``bench/run``): run the benchmarks and print the table. See bench/README.md."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import time
from pathlib import Path

from bench.runner import FIGURES, Options, default_results_path, machine_note, run_all, save, table
from bench.wrk import WrkMissing, wrk_path


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bench", description="Axiom MCP load benchmarks (issue 8).")
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--only", help=f"comma-separated figures to run, of: {', '.join(FIGURES)} (default: all)")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per load run (default 20)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--sse-clients", type=int, default=32, help="legacy SSE clients (default 32)")
    parser.add_argument("--large-items", type=int, default=100_000, help="items of the large user (default 100000)")
    parser.add_argument("--many-tokens", type=int, default=1_000_000, help="tokens for the token figure (1000000)")
    parser.add_argument("--token-cache-seconds", type=float, help="override the server's token cache (default: its own)")
    parser.add_argument("--quick", action="store_true",
                        help="a quick look: SQLite only, 5 s runs, 10,000 items, 100,000 tokens")
    parser.add_argument("--workdir", type=Path, help="keep databases and server logs here (default: a temp dir)")
    parser.add_argument("--results", type=Path, help="write the JSON results here (default test-artifacts/bench/)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        wrk_path()
    except WrkMissing as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    options = Options(
        dbs=["sqlite", "postgres"] if args.db == "both" else [args.db],
        duration=args.duration,
        connections=args.connections,
        threads=args.threads,
        sse_clients=args.sse_clients,
        large_items=args.large_items,
        many_tokens=args.many_tokens,
        token_cache_seconds=args.token_cache_seconds,
        workdir=args.workdir,
        log=lambda text: print(text, file=sys.stderr, flush=True),
    )
    if args.quick:
        options.dbs = ["sqlite"] if args.db == "both" else options.dbs
        options.duration = min(options.duration, 5.0)
        options.large_items = min(options.large_items, 10_000)
        options.many_tokens = min(options.many_tokens, 100_000)
    if args.only:
        wanted = [f.strip() for f in args.only.split(",") if f.strip()]
        unknown = sorted(set(wanted) - set(FIGURES))
        if unknown:
            print(f"bench: unknown figure(s) {', '.join(unknown)}; choose from {', '.join(FIGURES)}", file=sys.stderr)
            return 2
        options.figures = wanted
    def interrupted(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt  # so the servers we started stop and the databases are dropped

    signal.signal(signal.SIGTERM, interrupted)
    note = machine_note()
    started = time.perf_counter()
    reports = asyncio.run(run_all(options))
    elapsed = time.perf_counter() - started
    path = args.results or default_results_path()
    save(reports, options, note, path)
    print(f"\nAxiom MCP benchmarks: {note}; {options.connections} connections, {options.duration:g} s per run; "
          f"took {elapsed / 60:.1f} min\n")
    print(table(reports))
    print(f"\n(results saved to {path})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
