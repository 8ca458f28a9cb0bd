"""Item content: stored as sanitized HTML, written as HTML, Markdown or plain text, read back as any.

Every write goes through ``to_stored``: Markdown is rendered (markdown-it-py, CommonMark with
tables and strikethrough), plain text is escaped into paragraphs, and the HTML that results, or
that was sent, is cleaned by an allowlist sanitizer (nh3, the Ammonia crate): only the tags and
attributes below survive, links only to http, https and mailto, never a script, an event handler,
a style or a frame. Reads convert back: Markdown for models (markdownify), plain text for list
previews and search.

Content written before this held plain text, or HTML nobody cleaned; it is not migrated. Whatever
shows it as HTML (the web app's read view and editor, the MCP tools) goes through ``readable``:
text without a single tag becomes paragraphs, anything else is sanitized on the way out (so old
text that happens to hold a tag-like ``<word>`` loses it).
"""

from __future__ import annotations

import html
from collections import OrderedDict
import re
from html.parser import HTMLParser
from typing import Literal

import nh3
from markdown_it import MarkdownIt
from markdownify import markdownify

Format = Literal["html", "markdown", "text"]
FORMATS: tuple[Format, ...] = ("html", "markdown", "text")
ReadFormat = Literal["markdown", "html"]
"""What a model may ask to read content as."""

EXCERPT_LENGTH = 200

TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "b", "em", "i", "u", "s", "del", "ins",
    "mark", "sub", "sup", "small", "code", "pre", "kbd", "blockquote", "ul", "ol", "li", "a", "table",
    "thead", "tbody", "tr", "th", "td", "caption", "dl", "dt", "dd", "span", "div",
}
ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}, "code": {"class"}}
URL_SCHEMES = {"http", "https", "mailto"}
_LANGUAGE_CLASS = re.compile(r"^language-[A-Za-z0-9_+-]{1,32}$")

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable(["table", "strikethrough"])


def _attribute_filter(tag: str, name: str, value: str) -> str | None:
    if tag == "code" and name == "class":  # a fenced block's language, and nothing else
        return value if _LANGUAGE_CLASS.match(value) else None
    return value


def sanitize(markup: str) -> str:
    """``markup`` with everything outside the allowlist removed (text of removed tags is kept,
    except inside script and style, which go whole)."""
    return nh3.clean(
        markup,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        clean_content_tags={"script", "style"},
        attribute_filter=_attribute_filter,
        strip_comments=True,
    ).strip()


def markdown_to_html(text: str) -> str:
    return sanitize(_markdown.render(text))


def text_to_html(text: str) -> str:
    """Plain text as paragraphs (a blank line apart) with line breaks kept."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.replace("\r\n", "\n").strip()) if p.strip()]
    return "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)


def to_stored(content: str, fmt: Format) -> str:
    """What is stored for ``content`` written in ``fmt``: sanitized HTML."""
    if fmt == "markdown":
        return markdown_to_html(content)
    return sanitize(text_to_html(content) if fmt == "text" else content)


_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")


def looks_like_html(markup: str) -> bool:
    """Whether ``markup`` holds at least one tag (a plain ``a < b`` does not)."""
    return _TAG.search(markup) is not None


def guess_format(content: str) -> Format:
    """HTML if it holds a tag, else Markdown: what a plain form field sent without the editor means."""
    return "html" if looks_like_html(content) else "markdown"


def readable(stored: str) -> str:
    """Stored content as HTML safe to show: sanitized, and text without a tag as paragraphs (text
    from before rich content, or HTML sent without a tag: its entities are read as characters)."""
    return sanitize(stored) if looks_like_html(stored) else sanitize(text_to_html(html.unescape(stored)))


def to_read(stored: str, fmt: ReadFormat) -> str:
    """Stored content as a model asked to read it, remembered for notes up to ``READ_CACHE_MAX_CHARS``
    (most of them): list pages read the same items over and over, and sanitizing and converting
    them cost more than the rest of the call (bench/README.md). The answer depends only on the
    text, so a remembered one is never stale."""
    if len(stored) > READ_CACHE_MAX_CHARS:
        return _to_read(stored, fmt)
    key = (fmt, stored)
    found = _read_cache.get(key)
    if found is None:
        found = _read_cache[key] = _to_read(stored, fmt)
        if len(_read_cache) > READ_CACHE_ENTRIES:
            _read_cache.popitem(last=False)
    else:
        _read_cache.move_to_end(key)
    return found


READ_CACHE_MAX_CHARS = 16_384
READ_CACHE_ENTRIES = 4096
"""At most 4,096 notes of at most 16 KiB each: a bound of ~130 MiB with their answers, far less in practice."""
_read_cache: OrderedDict[tuple[str, str], str] = OrderedDict()


def _to_read(stored: str, fmt: ReadFormat) -> str:
    shown = readable(stored)
    return shown if fmt == "html" else to_markdown(shown)


def to_markdown(stored: str) -> str:
    """Stored HTML as Markdown, the way models read and write it."""
    return markdownify(stored, heading_style="ATX", bullets="-", strip=["span", "div"]).strip()


_BLOCKS = {"p", "div", "br", "hr", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote", "dt", "dd",
           "table", "ul", "ol", "caption"}


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCKS:
            self.parts.append("\n")
        elif tag in ("td", "th"):
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def to_text(stored: str) -> str:
    """The words of stored HTML, for previews and search: blocks on their own lines, spaces folded."""
    parser = _Text()
    parser.feed(stored)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).split("\n"))
    return "\n".join(line for line in lines if line)


_ANY_TAG = re.compile(r"""<(/?)([A-Za-z][A-Za-z0-9-]*)(?:[^>"']|"[^"]*"|'[^']*')*>""")


def _words(markup: str) -> str:
    """The text of ``markup`` on one line (``to_text``'s words, found by a pattern)."""
    text = _ANY_TAG.sub(lambda tag: " " if tag.group(2).lower() in _BLOCKS else "", markup)
    return " ".join(html.unescape(text).split())


def excerpt(stored: str, length: int = EXCERPT_LENGTH) -> str:
    """The first ``length`` characters of the text on one line, cut at a word with an ellipsis
    (stored with the content: data/kinds.py ``Derived``).

    Only as much of the markup is read as the excerpt needs, never ending inside a tag."""
    end = 2 * length
    while True:
        whole = end >= len(stored)
        opened = stored.rfind("<", 0, end)
        text = _words(stored if whole else stored[: opened if opened > stored.rfind(">", 0, end) else end])
        if len(text) > length or whole:
            break
        end *= 4
    if len(text) <= length:
        return text
    cut = text[: length - 1].rsplit(" ", 1)[0] or text[: length - 1]
    return cut.rstrip(" ,.;:") + "…"
