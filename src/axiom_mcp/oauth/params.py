"""Request parameters as RFC 6749 section 3.1 reads them: empty means absent, none may repeat."""

from __future__ import annotations

import json
from collections.abc import Iterable
from urllib.parse import parse_qsl

from axiom_mcp.oauth.errors import InvalidRequest

MAX_PARAMETERS = 50


class Params:
    """The parameters of one request (query string, form or JSON object of strings)."""

    def __init__(self, items: Iterable[tuple[str, str]]) -> None:
        self._values: dict[str, list[str]] = {}
        for count, (name, value) in enumerate(items):
            if count >= MAX_PARAMETERS:
                raise InvalidRequest("Too many parameters.")
            if value != "":
                self._values.setdefault(name, []).append(value)

    @classmethod
    def from_query(cls, query: str | bytes) -> Params:
        if isinstance(query, bytes):
            query = query.decode("utf-8", errors="replace")
        try:
            return cls(parse_qsl(query, keep_blank_values=True, max_num_fields=MAX_PARAMETERS))
        except ValueError as exc:
            raise InvalidRequest("Too many parameters.") from exc

    @classmethod
    def from_json(cls, body: bytes) -> Params:
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidRequest("The body is not valid JSON.") from exc
        if not isinstance(data, dict):
            raise InvalidRequest("The body must be a JSON object.")
        items: list[tuple[str, str]] = []
        for name, value in data.items():
            if isinstance(value, bool) or not isinstance(value, (str, int, float)):
                if value is None:
                    continue
                raise InvalidRequest(f"The parameter {name!r} must be a string.")
            items.append((name, str(value)))
        return cls(items)

    def get(self, name: str) -> str | None:
        """The parameter's value, None when absent; ``invalid_request`` when it is repeated."""
        values = self._values.get(name)
        if not values:
            return None
        if len(values) > 1:
            raise InvalidRequest(f"The {name} parameter must not be repeated.")
        return values[0]

    def all(self, name: str) -> list[str]:
        """Every value of a parameter that may repeat (``resource``, RFC 8707 section 2)."""
        return list(self._values.get(name, []))

    def __contains__(self, name: object) -> bool:
        return name in self._values
