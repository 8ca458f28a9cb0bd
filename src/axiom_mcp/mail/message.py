"""The messages Axiom sends, built from the plain-text templates beside this module."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from email.message import EmailMessage

from jinja2 import Environment, PackageLoader, StrictUndefined

SUBJECTS = {
    "password_reset": "Set a new Axiom password",
    "verify_email": "Confirm your email address for Axiom",
    "change_email": "Confirm your new email address for Axiom",
    "email_changed": "Your Axiom email address was changed",
}
"""Each kind of message (its template is ``templates/<kind>.txt``) and its subject."""

_templates = Environment(
    loader=PackageLoader("axiom_mcp.mail", "templates"),
    autoescape=False,  # plain text, never shown as HTML
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)


@dataclass(frozen=True, slots=True)
class Letter:
    """One message to one person, before it gets a sender and headers."""

    kind: str
    to: str
    subject: str
    text: str
    link: str | None
    """The link the message carries, if any (what the development log shows)."""


def compose(kind: str, to: str, *, link: str | None = None, **context: object) -> Letter:
    text = _templates.get_template(f"{kind}.txt").render(link=link, to=to, **context)
    return Letter(kind=kind, to=to, subject=SUBJECTS[kind], text=text, link=link)


def as_email(letter: Letter, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = letter.to
    message["Subject"] = letter.subject
    message["Message-ID"] = _message_id(sender.rpartition("@")[2].strip("> ") or "localhost")
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to a robot
    # 8bit, not quoted-printable: a link stays whole in the message's source (and in a saved .eml).
    message.set_content(letter.text, cte="8bit")
    return message


def _message_id(domain: str) -> str:
    """A unique Message-ID from ``secrets`` (email.utils.make_msgid draws from the ``random`` module,
    whose state belongs to whoever else runs in the process)."""
    return f"<{secrets.token_hex(16)}@{domain}>"
