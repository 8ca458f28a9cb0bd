"""ChatGPT's ``search`` and ``fetch``: the two tools its connectors and deep research look for.

Their shapes are ChatGPT's, not ours: ``search`` takes one string ``query`` and returns
``{"results": [{"id", "title", "url"}]}``; ``fetch`` takes one string ``id`` and returns
``{"id", "title", "text", "url", "metadata"}``; each as one JSON text content (and the same as
structured content). They read items through the same data layer as every other tool, so the
caller's scopes and what its connection may see apply; ``url`` opens the item in the web app.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from axiom_mcp.context import AppContext
from axiom_mcp.data import content, records
from axiom_mcp.data.access import Who
from axiom_mcp.data.kinds import ITEMS
from axiom_mcp.data.schemas import MAX_QUERY, PageQuery

RESULTS = 20
"""Items a search returns (ChatGPT fetches the ones it wants)."""


class SearchResult(BaseModel):
    id: str
    title: str
    url: str


class SearchResults(BaseModel):
    results: list[SearchResult]


class Document(BaseModel):
    id: str
    title: str
    text: str
    url: str
    metadata: dict[str, Any]


def item_url(app: AppContext, item_id: str) -> str:
    return f"{app.settings.web_url}/items/{item_id}"


async def search(app: AppContext, who: Who, query: str) -> SearchResults:
    """The items matching ``query`` that the caller sees, best first (at most RESULTS)."""
    page = await records.list_records(ITEMS, app.db, who, PageQuery(q=query.strip()[:MAX_QUERY], perPage=RESULTS))
    return SearchResults(results=[
        SearchResult(id=item.id, title=item.name, url=item_url(app, item.id)) for item in page.items
    ])


async def fetch(app: AppContext, who: Who, item_id: str) -> Document:
    """One item whole: its text as Markdown, its tags and dates as metadata (NotFoundError unless the
    caller sees it)."""
    async with app.db.session() as session:
        item = await records.get_record(ITEMS, session, who, item_id)
    return Document(
        id=item.id, title=item.name, text=content.to_markdown(item.content), url=item_url(app, item.id),
        metadata={
            "tags": [tag.name for tag in item.expand.tags], "files": list(item.files),
            "created": item.created.isoformat(), "updated": item.updated.isoformat(),
        },
    )
