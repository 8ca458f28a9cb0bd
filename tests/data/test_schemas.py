"""The shapes every surface (REST, web, MCP) validates input with and answers in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from axiom_mcp.data.schemas import (
    ItemCreate,
    ItemUpdate,
    Page,
    PageQuery,
    TagOut,
    is_record_id,
    storable,
)
from axiom_mcp.ids import new_id


@pytest.mark.parametrize(
    ("total", "per_page", "pages"),
    [(0, 30, 0), (1, 30, 1), (30, 30, 1), (31, 30, 2), (100, 1, 100), (101, 100, 2)],
)
def test_total_pages(total: int, per_page: int, pages: int) -> None:
    assert Page[TagOut].of([], page=1, per_page=per_page, total=total).totalPages == pages


@pytest.mark.parametrize(
    ("values", "field"),
    [
        pytest.param({"page": 0}, "page", id="page-0"),
        pytest.param({"page": -3}, "page", id="page-negative"),
        pytest.param({"page": 10**20}, "page", id="page-huge"),
        pytest.param({"perPage": 0}, "perPage", id="perPage-0"),
        pytest.param({"perPage": 101}, "perPage", id="perPage-101"),
        pytest.param({"q": "q" * 201}, "q", id="q-long"),
        pytest.param({"q": "\x00"}, "q", id="q-nul"),
        pytest.param({"sort": "newest"}, "sort", id="sort-unknown"),
        pytest.param({"tag": "t" * 256}, "tag", id="tag-long"),
        pytest.param({"order": "-created"}, "order", id="unknown"),
    ],
)
def test_page_query_bounds(values: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        PageQuery.model_validate(values)
    assert [e["loc"][0] for e in caught.value.errors()] == [field]


def test_page_query_defaults_and_limits() -> None:
    assert PageQuery() == PageQuery(page=1, perPage=30, q="")
    assert PageQuery(page=1_000_000, perPage=100, q="q" * 200).perPage == 100


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("plain", True),
        ("ünïcödé ☃ 😀", True),
        ("tab\tand\nnewline", True),
        ("nul\x00inside", False),
        ("lone \ud800 surrogate", False),
    ],
)
def test_storable_text(text: str, ok: bool) -> None:
    if ok:
        assert storable(text) == text
    else:
        with pytest.raises(ValueError):
            storable(text)


@pytest.mark.parametrize(
    ("value", "ok"),
    [(new_id(), True), ("abc", True), ("", False), ("a" * 16, False), ("ABC", False), ("a-b", False),
     ("ａｂｃ", False), ("١٢٣", False), ("a\x00", False)],
)
def test_what_could_be_a_record_id(value: str, ok: bool) -> None:
    assert is_record_id(value) is ok


def test_an_update_knows_what_was_sent() -> None:
    assert ItemUpdate.model_validate({}).model_fields_set == set()
    update = ItemUpdate.model_validate({"name": " new ", "tags": []})
    assert (update.name, update.tags, update.content) == ("new", [], None)


def test_item_input_defaults() -> None:
    item = ItemCreate(name="x")
    assert (item.content, item.tags, item.files) == ("", [], [])


@pytest.mark.parametrize("offset", [timedelta(0), timedelta(hours=5, minutes=30)])
def test_timestamps_are_written_in_utc_with_a_z(offset: timedelta) -> None:
    moment = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    out = TagOut(id="a", user="b", name="n", created=moment.astimezone(timezone(offset)), updated=moment)
    dumped = out.model_dump(mode="json")
    assert dumped["created"] == dumped["updated"] == "2026-01-02T03:04:05.678901Z"
