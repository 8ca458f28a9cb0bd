"""Reading a ``multipart/form-data`` body as it arrives: each file's bytes are handed on chunk by
chunk, so an upload of any size costs one chunk of memory.

Starlette's ``request.form()`` spools whole files to disk before the handler sees them; here the
handler consumes a file part while the client is still sending it (and stops reading the moment
it refuses the file). Small text fields are collected, up to ``MAX_FIELD_BYTES`` in all.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

MAX_FIELD_BYTES = 64 * 1024
"""The text fields beside the files, together."""
MAX_PARTS = 100


class MalformedMultipart(Exception):
    """Not a multipart body we can read (no boundary, broken framing, too many parts or field bytes)."""


@dataclass
class FilePart:
    """A part carrying a file: its field name, the file name the client gave, its bytes as they come."""

    field: str
    filename: str
    chunks: AsyncIterator[bytes]


def boundary_of(content_type: str) -> bytes:
    kind, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise MalformedMultipart("send the file as multipart/form-data")
    return boundary


class MultipartReader:
    """The parts of one body: ``files()`` yields each file part in turn (text fields land in ``fields``).

    A file part must be read (or abandoned) before the next is asked for; what it leaves unread is skipped.
    """

    def __init__(self, body: AsyncIterator[bytes], content_type: str) -> None:
        self._body = body
        self._events: deque[tuple[str, bytes]] = deque()
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._headers: dict[str, bytes] = {}
        self._parts = 0
        self._field_bytes = 0
        self._done = False
        self.fields: dict[str, list[str]] = {}
        try:
            self._parser = MultipartParser(boundary_of(content_type), callbacks={
                "on_part_begin": self._part_begin,
                "on_header_field": lambda data, start, end: self._header_field.extend(data[start:end]),
                "on_header_value": lambda data, start, end: self._header_value.extend(data[start:end]),
                "on_header_end": self._header_end,
                "on_headers_finished": lambda: self._events.append(("headers", b"")),
                "on_part_data": lambda data, start, end: self._events.append(("data", bytes(data[start:end]))),
                "on_part_end": lambda: self._events.append(("end", b"")),
            })
        except FormParserError as exc:
            raise MalformedMultipart(str(exc)) from exc

    def _part_begin(self) -> None:
        self._parts += 1
        if self._parts > MAX_PARTS:
            raise MalformedMultipart(f"more than {MAX_PARTS} parts")
        self._headers = {}

    def _header_end(self) -> None:
        self._headers[self._header_field.decode("latin-1").lower()] = bytes(self._header_value)
        self._header_field.clear()
        self._header_value.clear()

    async def _next(self) -> tuple[str, bytes] | None:
        while not self._events:
            if self._done:
                return None
            chunk = await anext(self._body, None)
            try:
                if chunk is None:
                    self._done = True
                    self._parser.finalize()
                elif chunk:
                    self._parser.write(chunk)
            except FormParserError as exc:
                raise MalformedMultipart(str(exc)) from exc
        return self._events.popleft()

    async def _data(self) -> AsyncIterator[bytes]:
        while (event := await self._next()) is not None and event[0] == "data":
            yield event[1]
        if event is None:
            raise MalformedMultipart("the body ended inside a part")

    async def files(self) -> AsyncIterator[FilePart]:
        while (event := await self._next()) is not None:
            if event[0] != "headers":
                continue  # the rest of a part its reader left unread
            _, options = parse_options_header(self._headers.get("content-disposition", b""))
            field = options.get(b"name", b"").decode("utf-8", "replace")
            filename = options.get(b"filename")
            if filename is None:
                await self._field(field)
                continue
            part = self._data()
            yield FilePart(field, filename.decode("utf-8", "replace"), part)
            await part.aclose()

    async def _field(self, name: str) -> None:
        value = bytearray()
        async for chunk in self._data():
            self._field_bytes += len(chunk)
            if self._field_bytes > MAX_FIELD_BYTES:
                raise MalformedMultipart(f"the text fields are larger than {MAX_FIELD_BYTES} bytes")
            value += chunk
        self.fields.setdefault(name, []).append(value.decode("utf-8", "replace"))
