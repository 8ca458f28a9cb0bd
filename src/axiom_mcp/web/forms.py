"""Reading posted forms, and turning validation errors into messages beside the fields.

Forms are ``application/x-www-form-urlencoded``, read with a size cap before parsing, so a huge or
endless body costs little. A page that takes files (``Uploads``) also accepts ``multipart/form-data``
up to its own cap; the files are spooled to disk past 1 MiB by Starlette, never held whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from pydantic import ValidationError
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request

from axiom_mcp.http_common.body import BodyTooLarge, check_declared, limited_receive, read_request_body

MAX_FORM_BYTES = 1536 * 1024
"""Room for an item's 100,000 characters of content even when each is a 4-byte, percent-encoded one."""
MAX_FIELDS = 1000


class FormTooLarge(Exception):
    """The body is larger than MAX_FORM_BYTES: answered with 413."""


class UnsupportedForm(Exception):
    """The body is not an urlencoded form: answered with 415."""


@dataclass(frozen=True)
class Uploads:
    """What a page that takes files accepts: how many files, and how large the whole post may be."""

    max_files: int
    max_bytes: int


@dataclass
class Form:
    """Posted fields; ``get`` gives the first value of a name, ``getlist`` all of them; ``files``
    the uploaded files by field name (only on pages that take uploads)."""

    fields: dict[str, list[str]] = field(default_factory=dict)
    files: dict[str, list[UploadFile]] = field(default_factory=dict)

    def get(self, name: str, default: str = "") -> str:
        values = self.fields.get(name)
        return values[0] if values else default

    def getlist(self, name: str) -> list[str]:
        return list(self.fields.get(name, []))

    def __contains__(self, name: str) -> bool:
        return name in self.fields


def parse_form(body: bytes) -> Form:
    try:
        pairs = parse_qsl(
            body.decode("utf-8", errors="replace"),
            keep_blank_values=True,
            max_num_fields=MAX_FIELDS,
            errors="replace",
        )
    except ValueError as exc:  # more than MAX_FIELDS fields
        raise FormTooLarge(str(exc)) from exc
    fields: dict[str, list[str]] = {}
    for name, value in pairs:
        fields.setdefault(name, []).append(value)
    return Form(fields)


async def _read_multipart(request: Request, uploads: Uploads) -> Form:
    try:
        check_declared(request.headers, uploads.max_bytes)
        limited = Request(request.scope, limited_receive(request.receive, uploads.max_bytes))
        posted = await limited.form(max_files=uploads.max_files, max_fields=MAX_FIELDS)
    except BodyTooLarge as exc:
        raise FormTooLarge(str(exc.detail)) from exc
    except HTTPException as exc:  # Starlette's refusal of a malformed body or too many parts
        raise UnsupportedForm(str(exc.detail)) from exc
    form = Form()
    for name, value in posted.multi_items():
        if isinstance(value, UploadFile):
            form.files.setdefault(name, []).append(value)
        else:
            form.fields.setdefault(name, []).append(value)
    return form


async def read_form(request: Request, uploads: Uploads | None = None) -> Form:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data" and uploads is not None:
        return await _read_multipart(request, uploads)
    if content_type not in ("", "application/x-www-form-urlencoded"):
        raise UnsupportedForm(content_type)
    try:
        body = await read_request_body(request, MAX_FORM_BYTES)
    except BodyTooLarge as exc:
        raise FormTooLarge(str(exc.detail)) from exc
    if not content_type:
        if body:
            raise UnsupportedForm("no content type")
        return Form()  # an empty post: no fields (so no CSRF token either)
    return parse_form(body)


def text(value: str) -> str:
    """Form text as we store it: browsers send CRLF line ends from a textarea; keep LF."""
    return value.replace("\r\n", "\n").replace("\r", "\n")


_MESSAGES = {
    "missing": "This is required.",
    "string_too_short": "This is required.",
    "value_error": "{msg}",
    "string_pattern_mismatch": "This value is not allowed.",
    "list_type": "Choose from the list.",
}


def _message(error: dict[str, object]) -> str:
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    assert isinstance(ctx, dict)
    if kind == "string_too_long":
        return f"Use at most {ctx.get('max_length')} characters."
    if kind == "string_too_short" and int(ctx.get("min_length", 1) or 1) > 1:
        return f"Use at least {ctx.get('min_length')} characters."
    if kind == "too_long":
        return f"Choose at most {ctx.get('max_length')}."
    if kind == "value_error":
        message = str(error.get("msg", "")).removeprefix("Value error, ")
        if "email" in message.lower():
            return "Enter a valid email address."
        return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")
    return _MESSAGES.get(kind, "This value is not valid.")


def field_errors(exc: ValidationError) -> dict[str, str]:
    """One message per field name (the first error of each), worded for people."""
    errors: dict[str, str] = {}
    for error in exc.errors():
        loc = error.get("loc") or ("form",)
        errors.setdefault(str(loc[0]), _message(dict(error)))
    return errors
