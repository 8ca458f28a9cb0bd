"""Mail out: to a real SMTP server on loopback, or (no server configured) to the log and a folder."""

from __future__ import annotations

import logging
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from axiom_mcp.mail.message import compose
from axiom_mcp.mail.outbox import FolderOutbox, SmtpOutbox, outbox_for, post, undelivered_folder
from tests.conftest import make_settings
from tests.support.servers import free_port
from tests.support.smtp import link_in, smtp_server

LINK = "http://localhost:3000/auth/reset?token=axol_abc"


def settings(tmp_path: Path, **overrides: object):  # type: ignore[no-untyped-def]
    return make_settings("sqlite+aiosqlite:///unused.db", tmp_path, **overrides)


async def test_a_message_reaches_a_real_smtp_server(tmp_path: Path) -> None:
    with smtp_server() as mailbox:
        configured = settings(tmp_path, smtp_url=mailbox.url, mail_from="Axiom <axiom@example.org>")
        await post(configured, compose("password_reset", "ann@example.com", link=LINK))
        message = await mailbox.wait_for("ann@example.com")
    assert message["From"] == "Axiom <axiom@example.org>"
    assert message["Subject"] == "Set a new Axiom password"
    assert link_in(message) == LINK
    assert not (tmp_path / "mail").exists()


async def test_without_smtp_the_message_is_logged_and_kept_as_eml(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="axiom.mail")
    await post(settings(tmp_path, environment="development"), compose("verify_email", "ann@example.com", name="Ann", link=LINK))
    [path] = list((tmp_path / "mail").glob("*.eml"))
    assert path.stat().st_mode & 0o777 == 0o600  # it carries a sign-in link
    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert message["To"] == "ann@example.com" and LINK in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    [record] = caplog.records
    assert record.levelno == logging.INFO
    assert "Confirm your email address" in record.getMessage() and "ann@example.com" in record.getMessage()
    assert LINK in record.getMessage()


async def test_outside_development_the_link_stays_out_of_the_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="axiom.mail")
    await post(settings(tmp_path), compose("password_reset", "ann@example.com", link=LINK))  # environment "test"
    assert "ann@example.com" in caplog.text and LINK not in caplog.text
    [path] = list((tmp_path / "mail").glob("*.eml"))
    assert LINK in path.read_text()


async def test_a_failed_send_is_logged_never_raised_and_never_shows_the_password(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    closed = f"smtp+starttls://mailer:hunter2-secret@127.0.0.1:{free_port()}"
    await post(settings(tmp_path, smtp_url=closed), compose("password_reset", "ann@example.com", link=LINK))
    assert "could not send" in caplog.text and "ann@example.com" in caplog.text
    assert "hunter2" not in caplog.text


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example.org", SmtpOutbox("A <a@x.org>", "mail.example.org", 25, None, None, False, False)),
        ("smtp+starttls://u%40x:p%2Fw@mail.example.org:587",
         SmtpOutbox("A <a@x.org>", "mail.example.org", 587, "u@x", "p/w", False, True)),
        ("smtps://u:pw@mail.example.org", SmtpOutbox("A <a@x.org>", "mail.example.org", 465, "u", "pw", True, False)),
    ],
    ids=["plain", "starttls", "implicit-tls"],
)
def test_the_smtp_url_says_how_to_connect(tmp_path: Path, url: str, expected: SmtpOutbox) -> None:
    assert outbox_for(settings(tmp_path, smtp_url=url, mail_from="A <a@x.org>")) == expected


def test_no_smtp_url_means_the_folder(tmp_path: Path) -> None:
    assert outbox_for(settings(tmp_path)) == FolderOutbox(
        sender="Axiom <axiom@localhost>", folder=tmp_path / "mail", log_links=False)


def test_the_folder_is_named_to_people_only_in_development(tmp_path: Path) -> None:
    assert undelivered_folder(settings(tmp_path, environment="development")) == tmp_path / "mail"
    assert undelivered_folder(settings(tmp_path)) is None  # test/production: not a visitor's business
    assert undelivered_folder(settings(tmp_path, environment="development", smtp_url="smtp://h")) is None


def test_the_smtp_url_is_a_secret(tmp_path: Path) -> None:
    configured = settings(tmp_path, smtp_url="smtps://u:hunter2-secret@mail.example.org")
    assert "hunter2" not in repr(configured) and "hunter2" not in str(configured.model_dump())
    with pytest.raises(ValidationError) as failed:
        settings(tmp_path, smtp_url="http://u:hunter2-secret@mail.example.org")
    assert "AXIOM_SMTP_URL" in str(failed.value) and "hunter2" not in str(failed.value)
    assert isinstance(configured.smtp_url, SecretStr)


def test_a_message_id_leaves_the_random_module_alone() -> None:
    """The standard library's make_msgid draws from the ``random`` module: a message built on the
    server's thread while Hypothesis drew a test case (tests/hardening/test_fuzz_api.py, sign-up
    sends mail) made that test flaky. Message ids come from ``secrets``, unguessable and apart."""
    import random

    from axiom_mcp.mail.message import as_email, compose

    letter = compose("verify_email", "ann@example.com", link="http://localhost:3000/x", name="Ann")
    before = random.getstate()
    first = as_email(letter, "Axiom <axiom@mail.example>")["Message-ID"]
    second = as_email(letter, "Axiom <axiom@mail.example>")["Message-ID"]
    assert random.getstate() == before
    assert first != second and first.startswith("<") and first.endswith("@mail.example>")
