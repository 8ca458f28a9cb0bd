"""Where messages go: an SMTP server (``AXIOM_SMTP_URL``), or, with none configured, the log and a
folder of ``.eml`` files under the data dir. Both sit behind ``Outbox``; ``outbox_for`` chooses.

``post`` is what pages call: it never raises and never waits long, so a mail server that is down
or slow costs a visitor neither an error page nor a hint about which addresses have accounts.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

import aiosmtplib

from axiom_mcp.ids import utcnow
from axiom_mcp.mail.message import Letter, as_email
from axiom_mcp.settings import Settings

log = logging.getLogger("axiom.mail")

SEND_TIMEOUT = 10.0
"""Seconds one delivery may take (connect, TLS, every SMTP command) before it is given up."""

MAIL_FOLDER = "mail"
"""Where undelivered messages are kept, under the data dir."""


class Outbox(Protocol):
    async def send(self, letter: Letter) -> None:
        """Deliver ``letter`` or raise."""


@dataclass(frozen=True)
class SmtpOutbox:
    sender: str
    hostname: str
    port: int
    username: str | None
    password: str | None
    use_tls: bool
    start_tls: bool

    async def send(self, letter: Letter) -> None:
        await aiosmtplib.send(
            as_email(letter, self.sender),
            hostname=self.hostname,
            port=self.port,
            username=self.username,
            password=self.password,
            use_tls=self.use_tls,
            start_tls=self.start_tls,
            timeout=SEND_TIMEOUT,
        )


@dataclass(frozen=True)
class FolderOutbox:
    """No mail server (development): the message goes to the log and to ``folder`` as one .eml file."""

    sender: str
    folder: Path
    log_links: bool
    """Put the link in the log line too (development: where a developer looks first). Elsewhere logs
    travel to collectors, and a sign-in link must not."""

    async def send(self, letter: Letter) -> None:
        path = await asyncio.to_thread(self._write, as_email(letter, self.sender).as_bytes())
        link = (letter.link or "(none)") if self.log_links else "(in the file)"
        log.info("mail not sent (no SMTP server configured): %r to %s, link %s; kept in %s",
                 letter.subject, letter.to, link, path)

    def _write(self, data: bytes) -> Path:
        # The messages carry sign-in links: readable by the server's user only.
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = self.folder / f"{utcnow():%Y%m%dT%H%M%S}-{secrets.token_hex(4)}.eml"
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
        return path


def mail_folder(settings: Settings) -> Path:
    return settings.data_dir / MAIL_FOLDER


def outbox_for(settings: Settings) -> Outbox:
    url = settings.smtp_url.get_secret_value()
    if not url:
        return FolderOutbox(sender=settings.mail_from, folder=mail_folder(settings),
                            log_links=settings.environment == "development")
    parts = urlsplit(url)
    use_tls = parts.scheme == "smtps"
    start_tls = parts.scheme == "smtp+starttls"
    return SmtpOutbox(
        sender=settings.mail_from,
        hostname=parts.hostname or "localhost",
        port=parts.port or (465 if use_tls else 587 if start_tls else 25),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        use_tls=use_tls,
        start_tls=start_tls,
    )


def undelivered_folder(settings: Settings) -> Path | None:
    """The folder that holds the messages, when a person should be told to look there: in
    development without a mail server. None otherwise (mail goes out, or is no visitor's business)."""
    if settings.smtp_url.get_secret_value() or settings.environment != "development":
        return None
    return mail_folder(settings)


async def post(settings: Settings, letter: Letter) -> None:
    """Send ``letter``; a failure is logged (never the SMTP URL) and swallowed."""
    try:
        await asyncio.wait_for(outbox_for(settings).send(letter), SEND_TIMEOUT + 1)
    except Exception as exc:  # noqa: BLE001 - a page must answer whatever the mail server does
        log.warning("could not send %r to %s: %s", letter.subject, letter.to, type(exc).__name__)
