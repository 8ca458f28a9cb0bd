"""The benchmark harness at tiny scale, so it cannot rot: seeding, the ceiling, wrk, the SSE client.

No timing is asserted (benchmarks are run by hand: bench/README.md); only that each part works and
that its checks can fail.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from axiom_mcp.context import AppContext
from axiom_mcp.data import records
from axiom_mcp.data.kinds import ITEMS
from axiom_mcp.data.schemas import PageQuery
from axiom_mcp.db.migrate import migrate
from axiom_mcp.settings import Settings
from bench.ceiling import json_body
from bench.databases import database
from bench.inprocess import measure
from bench.runner import sse_load
from bench.seed import Seeder
from bench.servers import CeilingServer, memory_kib
from bench.wrk import parse, run_wrk


@pytest.mark.parametrize("size", [12, 100, 36_385])
def test_ceiling_body_is_json_of_the_exact_size(size: int) -> None:
    body = json_body(size)
    assert len(body) == size
    assert set(json.loads(body)) == {"pad"}


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
async def test_seeded_rows_read_back_through_the_data_layer(kind: str, tmp_path: Path) -> None:
    async with database(kind, tmp_path) as url:
        settings = Settings(_env_file=None, database_url=url, data_dir=tmp_path,  # type: ignore[call-arg]
                            secret_key="bench-test")
        ctx = AppContext.from_settings(settings)
        try:
            await migrate(ctx.db.engine)
            seeder = Seeder(url)
            user = await seeder.add_user("small@bench.example", 10)
            await seeder.add_user_tokens(user, 2, api_resource=settings.api_resource,
                                         mcp_resource=settings.mcp_resource)
            await seeder.add_filler_tokens(20, resource=settings.mcp_resource)
            await seeder.analyze()
            assert seeder.tokens == 24

            info = await ctx.tokens.verify(user.mcp_tokens[0])
            assert info is not None and info.user_id == user.id and info.resource == settings.mcp_resource
            assert "items:read" in info.scopes
            api = await ctx.tokens.verify(user.api_tokens[1])
            assert api is not None and api.resource == settings.api_resource

            page = await records.list_records(ITEMS, ctx.db, user.id, PageQuery(page=1, perPage=4))
            last = await records.list_records(ITEMS, ctx.db, user.id, PageQuery(page=3, perPage=4))
            assert page.totalItems == 10 and page.totalPages == 3 and len(page.items) == 4
            assert [len(i.expand.tags) for i in page.items] == [2, 2, 2, 2]
            assert page.items[0].created > page.items[-1].created  # newest first
            assert last.totalItems == 10 and len(last.items) == 2
            # Seeded items have their search documents, as the app writes them (the search figure).
            found = await records.list_records(ITEMS, ctx.db, user.id, PageQuery(q="item 7"))
            assert found.items[0].name.split()[:2] == ["Item", "7"]  # its name first (a tag "...-7" finds others)
            tagged = await records.list_records(ITEMS, ctx.db, user.id, PageQuery(q="alpha 0"))
            assert tagged.totalItems >= 1  # a tag's name ("alpha-0") is searched too
        finally:
            await ctx.close()


def test_wrk_against_the_ceiling_and_its_checks(tmp_path: Path) -> None:
    ceiling = CeilingServer(tmp_path)
    ceiling.start()
    try:
        assert ceiling.process is not None
        assert memory_kib(ceiling.process.pid)["VmRSS"] > 0

        good = run_wrk(ceiling.url, "ceiling.lua", ["POST", "2000"], duration=1, connections=4, threads=1)
        assert good.requests > 0 and good.rps > 0
        assert good.errors == 0, good.first_failure
        assert 0 < good.p50_ms <= good.p99_ms

        # The REST script expects a page of items: the ceiling's padding is a wrong answer to it.
        tokens = tmp_path / "tokens.txt"
        tokens.write_text("axat_not_checked\n")
        wrong = run_wrk(ceiling.url, "rest_items.lua", [str(tokens), "/json/500"], duration=1, connections=2,
                        threads=1)
        assert wrong.requests > 0
        assert wrong.errors == wrong.error_detail["bad_body"] > 0
        assert wrong.first_failure.startswith("body")

        sse = sse_load(ceiling.url, "/sse?size=3000", str(tokens), clients=2, duration=1)
        assert sse.requests > 0 and sse.errors == 0, sse.first_failure
    finally:
        ceiling.stop()


@pytest.mark.parametrize(
    ("counts", "errors"),
    [
        ({"connect": 0, "read": 0, "write": 0, "status": 0, "timeout": 0, "bad_status": 0, "bad_body": 0}, 0),
        ({"connect": 1, "read": 2, "write": 0, "status": 5, "timeout": 3, "bad_status": 5, "bad_body": 4}, 15),
    ],
    ids=["clean", "every-kind"],
)
def test_parse_counts_each_failure_once(counts: dict[str, int], errors: int) -> None:
    line = {
        "requests": 100, "duration_us": 2_000_000, "bytes": 1,
        "errors": {k: counts[k] for k in ("connect", "read", "write", "status", "timeout")},
        "bad_status": counts["bad_status"], "bad_body": counts["bad_body"], "checked": 100,
        "latency_us": {"min": 1, "mean": 2.0, "max": 9, "stdev": 1.0, "p50": 2000, "p90": 3000, "p99": 8000},
        "first_failure": "",
    }
    result = parse("noise\nBENCH_JSON " + json.dumps(line) + "\n")
    assert result.errors == errors
    assert result.rps == 50
    assert (result.p50_ms, result.p99_ms) == (2.0, 8.0)


@pytest.mark.parametrize("path", ["lean", "sdk"])
async def test_the_in_process_call_succeeds_on_both_paths(path: str, tmp_path: Path) -> None:
    # measure() raises unless the call answers 200 with a result that is not a tool error
    seconds = await measure(path, 3, tmp_path)
    assert seconds > 0
