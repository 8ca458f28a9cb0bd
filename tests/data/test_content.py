"""Item content: sanitized HTML at rest; Markdown and plain text in; Markdown and text out."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from axiom_mcp.data import content

XSS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    '<img src=x onerror="alert(1)">',
    '<svg onload=alert(1)><circle r="1"/></svg>',
    '<a href="javascript:alert(1)">click</a>',
    '<a href="JaVaScRiPt:alert(1)">click</a>',
    '<a href="&#106;avascript:alert(1)">click</a>',
    '<a href=" javascript:alert(1)">click</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">click</a>',
    '<a href="vbscript:msgbox(1)">click</a>',
    '<p style="background:url(javascript:alert(1))">styled</p>',
    "<style>body{display:none}</style><p>hidden?</p>",
    '<iframe src="https://evil.example"></iframe>',
    '<object data="x.swf"></object><embed src="x.swf">',
    '<form action="https://evil.example"><input name=p><button>go</button></form>',
    '<meta http-equiv="refresh" content="0;url=https://evil.example">',
    '<base href="https://evil.example/">',
    '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>',
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    '<div onmouseover="alert(1)">hover</div>',
    '<p>a</p><!-- <img src=x onerror=alert(1)> -->',
    '<code class="x onclick=alert(1)">code</code>',
    '"><script>alert(1)</script>',
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
]


class _Markup(HTMLParser):
    """Every element and attribute a browser would build from the stored HTML."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, {k: v or "" for k, v in attrs}))

    handle_startendtag = handle_starttag

    def handle_comment(self, data: str) -> None:
        self.found.append(("!--", {}))


def dangers(stored: str) -> list[str]:
    parser = _Markup()
    parser.feed(stored)
    problems = []
    for tag, attrs in parser.found:
        if tag not in content.TAGS:
            problems.append(f"<{tag}>")
        for name, value in attrs.items():
            if name.startswith("on") or name == "style" or name not in content.ATTRIBUTES.get(tag, set()) | {"rel"}:
                problems.append(f"{tag}[{name}]")
            if name == "href" and urlsplit(value.strip()).scheme.lower() not in content.URL_SCHEMES:
                problems.append(f"href={value!r}")
    return problems


@pytest.mark.parametrize("payload", XSS)
@pytest.mark.parametrize("fmt", content.FORMATS)
def test_no_payload_survives_in_any_format(payload: str, fmt: content.Format) -> None:
    stored = content.to_stored(payload, fmt)
    assert dangers(stored) == [], stored
    assert content.sanitize(stored) == stored  # stable: cleaning again changes nothing


def test_the_danger_check_itself_finds_danger() -> None:
    assert dangers('<p onclick="x" style="y"><script></script><a href="javascript:1">a</a></p>') == [
        "p[onclick]", "p[style]", "<script>", "href='javascript:1'"]


def test_what_a_note_needs_survives() -> None:
    rich = ('<h2>Plan</h2><p>Hello <strong>bold</strong>, <em>italic</em>, <code>x = 1</code> and '
            '<a href="https://example.com/a?b=1">a link</a>.</p><ul><li>one</li><li>two</li></ul>'
            '<ol start="3"><li>three</li></ol><blockquote>quoted</blockquote><pre><code class="language-python">'
            'print(1)</code></pre><table><tr><th>k</th><td>v</td></tr></table>')
    stored = content.to_stored(rich, "html")
    for kept in ("<h2>Plan</h2>", "<strong>bold</strong>", "<em>italic</em>", "<code>x = 1</code>",
                 '<ol start="3">', "<blockquote>quoted</blockquote>", 'class="language-python"', "<th>k</th>"):
        assert kept in stored
    assert '<a href="https://example.com/a?b=1" rel="noopener noreferrer nofollow">a link</a>' in stored


def test_markdown_in_is_html_at_rest_and_markdown_out() -> None:
    written = "# Trip\n\nPack **socks** and *maps*.\n\n- passport\n- tickets\n\n[Map](https://maps.example/)\n\n```\nx = 1\n```"
    stored = content.to_stored(written, "markdown")
    assert "<h1>Trip</h1>" in stored and "<strong>socks</strong>" in stored and "<li>passport</li>" in stored
    back = content.to_markdown(stored)
    assert back.startswith("# Trip") and "**socks**" in back and "*maps*" in back
    assert "- passport" in back and "[Map](https://maps.example/)" in back and "x = 1" in back
    assert content.to_stored(back, "markdown") == stored  # a second round trip changes nothing


def test_raw_html_inside_markdown_is_text_not_markup() -> None:
    stored = content.to_stored("Hi <b onclick=x>there</b>", "markdown")
    assert "<b" not in stored and "&lt;b onclick=x&gt;" in stored


def test_plain_text_is_escaped_into_paragraphs_with_line_breaks() -> None:
    stored = content.to_stored("Dear <you> & me,\nsee you\n\n\nBye", "text")
    assert stored == "<p>Dear &lt;you&gt; &amp; me,<br>see you</p><p>Bye</p>"
    assert content.to_text(stored) == "Dear <you> & me,\nsee you\nBye"


def test_text_and_excerpt_for_previews() -> None:
    stored = content.to_stored("<h1>Title</h1><p>First   paragraph with <b>bold</b>.</p><ul><li>a</li><li>b</li></ul>", "html")
    assert content.to_text(stored) == "Title\nFirst paragraph with bold.\na\nb"
    long = content.to_stored("word " * 100, "text")
    short = content.excerpt(long, 30)
    assert len(short) <= 30 and short.endswith("…") and "  " not in short
    assert content.excerpt("<p>Short</p>") == "Short"


def test_readable_shows_content_from_before_rich_text_safely() -> None:
    assert content.readable("line one\nline two\n\n1 < 2 & more") == "<p>line one<br>line two</p><p>1 &lt; 2 &amp; more</p>"
    assert content.readable("a &lt; b") == "<p>a &lt; b</p>"  # tagless HTML (sent as HTML): entities are characters
    assert content.readable('<p onclick="x">hi</p><script>alert(1)</script>') == "<p>hi</p>"
    assert content.readable("") == ""
    stored = content.to_stored("# T\n\n*x*", "markdown")
    assert content.readable(stored) == stored


def test_read_formats_and_guessed_formats() -> None:
    stored = content.to_stored("<h2>Plan</h2><p><b>now</b></p>", "html")
    assert content.to_read(stored, "html") == stored
    assert content.to_read(stored, "markdown") == "## Plan\n\n**now**"
    assert content.guess_format("<p>x</p>") == "html"
    assert content.guess_format("**x** and 1 < 2") == "markdown"


def test_an_excerpt_reads_only_what_it_needs_and_never_half_a_tag() -> None:
    long = "<p>" + "word " * 50_000 + "</p>"
    assert content.excerpt(long) == content.excerpt(long + "<p>more</p>")
    assert len(content.excerpt(long)) <= content.EXCERPT_LENGTH
    straddling = '<p>ab</p><a href="https://example.com/' + "y" * 100 + '">link words here and more</a>'
    assert content.excerpt(straddling, 10) == "ab link…"  # the first 80 characters end inside the tag
