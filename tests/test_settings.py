"""One settings object from the environment: AXIOM_ variables, the seed's aliases, safe refusals."""

from __future__ import annotations

import os
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from axiom_mcp.settings import Settings

SECRET = "s" * 32
SEED_ALIASES = ("PORT", "VITE_POCKETBASE_URL", "VITE_APP_URL")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Nothing from the machine's environment or working folder leaks into these tests."""
    for name in list(os.environ):
        if name.startswith("AXIOM_") or name in SEED_ALIASES:
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def refused(**values: object) -> str:
    with pytest.raises(ValidationError) as caught:
        Settings(**values)  # type: ignore[arg-type]
    return str(caught.value)


def test_defaults_match_the_seed() -> None:
    settings = Settings()
    assert (settings.auth_port, settings.web_port, settings.mcp_port) == (8090, 3000, 8091)
    assert settings.public_url == settings.issuer == "http://localhost:8090"
    assert settings.web_url == "http://localhost:3000"
    assert settings.mcp_url == "http://localhost:8091"
    assert settings.mcp_resource == "http://localhost:8091/mcp"
    assert settings.api_resource == "http://localhost:8090/api/v1"
    assert settings.access_token_ttl == timedelta(days=90)
    assert settings.authorization_code_ttl == timedelta(minutes=10)
    assert settings.database_url == f"sqlite+aiosqlite:///{Path('axiom-data') / 'axiom.db'}"
    assert settings.is_sqlite
    assert settings.environment == "development"


def test_axiom_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AXIOM_AUTH_PORT", "9001")
    monkeypatch.setenv("AXIOM_WEB_PORT", "9002")
    monkeypatch.setenv("AXIOM_MCP_PORT", "9003")
    monkeypatch.setenv("AXIOM_HOST", "0.0.0.0")
    monkeypatch.setenv("AXIOM_DATABASE_URL", "postgresql+asyncpg://axiom@db.internal/axiom")
    monkeypatch.setenv("AXIOM_MCP_URL", "https://mcp.example.com/")
    settings = Settings()
    assert (settings.auth_port, settings.web_port, settings.mcp_port, settings.host) == (9001, 9002, 9003, "0.0.0.0")
    assert settings.public_url == "http://localhost:9001"  # derived from the port when not set
    assert settings.web_url == "http://localhost:9002"
    assert settings.mcp_url == "https://mcp.example.com"  # no trailing slash: it is part of the audience
    assert settings.mcp_resource == "https://mcp.example.com/mcp"
    assert not settings.is_sqlite


def test_the_seeds_variables_are_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VITE_POCKETBASE_URL", "https://pb.example.com/")
    monkeypatch.setenv("VITE_APP_URL", "https://app.example.com")
    monkeypatch.setenv("PORT", "8191")
    settings = Settings()
    assert settings.public_url == settings.issuer == "https://pb.example.com"
    assert settings.api_resource == "https://pb.example.com/api/v1"
    assert settings.web_url == "https://app.example.com"
    assert settings.mcp_port == 8191
    assert settings.mcp_url == "http://localhost:8191"


def test_axiom_variables_win_over_the_seeds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VITE_POCKETBASE_URL", "https://old.example.com")
    monkeypatch.setenv("AXIOM_PUBLIC_URL", "https://new.example.com")
    monkeypatch.setenv("VITE_APP_URL", "https://old-app.example.com")
    monkeypatch.setenv("AXIOM_WEB_URL", "https://new-app.example.com")
    monkeypatch.setenv("PORT", "1111")
    monkeypatch.setenv("AXIOM_MCP_PORT", "2222")
    settings = Settings()
    assert (settings.public_url, settings.web_url, settings.mcp_port) == (
        "https://new.example.com", "https://new-app.example.com", 2222
    )


def test_arguments_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AXIOM_AUTH_PORT", "9001")
    assert Settings(auth_port=9999).auth_port == 9999


def test_single_origin_puts_everything_under_one_url() -> None:
    settings = Settings(single_origin=True, public_url="https://axiom.example.com/")
    assert settings.public_url == settings.web_url == settings.mcp_url == "https://axiom.example.com"
    assert settings.mcp_resource == "https://axiom.example.com/mcp"
    local = Settings(single_origin=True, single_origin_port=8123)
    assert local.public_url == local.web_url == local.mcp_url == "http://localhost:8123"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("P90D", timedelta(days=90), id="iso-days"),
        pytest.param("PT15M", timedelta(minutes=15), id="iso-minutes"),
        pytest.param("P1DT2H", timedelta(days=1, hours=2), id="iso-mixed"),
        pytest.param("3600", timedelta(hours=1), id="seconds"),
        pytest.param(" 90 ", timedelta(seconds=90), id="seconds-with-spaces"),
        pytest.param("1.5", timedelta(seconds=1.5), id="fractional-seconds"),
        pytest.param("01:30:00", timedelta(hours=1, minutes=30), id="clock"),
        pytest.param("2 days, 00:00:00", timedelta(days=2), id="python-style"),
    ],
)
def test_durations_read_iso8601_or_seconds(monkeypatch: pytest.MonkeyPatch, value: str, expected: timedelta) -> None:
    monkeypatch.setenv("AXIOM_ACCESS_TOKEN_TTL", value)
    monkeypatch.setenv("AXIOM_CLEANUP_INTERVAL", value)
    settings = Settings()
    assert settings.access_token_ttl == settings.cleanup_interval == expected


def test_the_refresh_grace_and_the_introspection_clients_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AXIOM_REFRESH_GRACE", "45")
    monkeypatch.setenv("AXIOM_INTROSPECTION_CLIENTS", " axc_reports , axc_search ")
    settings = Settings()
    assert settings.refresh_grace == timedelta(seconds=45)
    assert settings.introspection_clients == ["axc_reports", "axc_search"]


@pytest.mark.parametrize("value", ["ninety days", "", "-5", "0", "P0D", "PT0S", "-P1D", "1e9999"])
def test_bad_durations_are_refused_naming_the_variable(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("AXIOM_REFRESH_TOKEN_TTL", value)
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert "refresh_token_ttl" in str(caught.value)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("AXIOM_AUTH_PORT", "http"),
        ("AXIOM_WEB_PORT", "0"),
        ("PORT", "70000"),
        ("AXIOM_ENVIRONMENT", "staging"),
        ("AXIOM_PUBLIC_URL", "localhost:8090"),
        ("AXIOM_PUBLIC_URL", "https://axiom.example.com/?tenant=1"),
        ("VITE_APP_URL", "ftp://app.example.com"),
        ("AXIOM_MCP_URL", "https://mcp.example.com/#frag"),
        ("AXIOM_MCP_URL", "https://"),
    ],
)
def test_nonsense_is_refused_at_start(monkeypatch: pytest.MonkeyPatch, variable: str, value: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError):
        Settings()


# --- the secret -----------------------------------------------------------------------------------


def test_development_generates_a_secret_once_and_keeps_it(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    first = settings.resolved_secret()
    assert len(first) >= 32
    path = tmp_path / "data" / "secret.key"
    assert path.read_text() == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert Settings(data_dir=tmp_path / "data").resolved_secret() == first  # the next start reuses it


def test_a_configured_secret_is_used_as_is(tmp_path: Path) -> None:
    assert Settings(data_dir=tmp_path, secret_key=SECRET).resolved_secret() == SECRET
    assert not (tmp_path / "secret.key").exists()


@pytest.mark.parametrize("environment", ["test", "production"])
def test_outside_development_a_secret_must_be_set(monkeypatch: pytest.MonkeyPatch, environment: str) -> None:
    monkeypatch.setenv("AXIOM_ENVIRONMENT", environment)
    urls = {"public_url": "https://a.example", "web_url": "https://b.example", "mcp_url": "https://c.example"}
    assert "AXIOM_SECRET_KEY" in refused(**urls)
    assert "at least 32" in refused(secret_key="short", **urls)
    monkeypatch.setenv("AXIOM_SECRET_KEY", SECRET)
    assert Settings(**urls).resolved_secret() == SECRET  # type: ignore[arg-type]


def test_production_wants_https_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AXIOM_ENVIRONMENT", "production")
    monkeypatch.setenv("AXIOM_SECRET_KEY", SECRET)
    assert "AXIOM_PUBLIC_URL" in refused()  # the http://localhost defaults
    assert "AXIOM_WEB_URL" in refused(public_url="https://a.example")
    assert "AXIOM_MCP_URL" in refused(public_url="https://a.example", web_url="https://b.example")
    Settings(public_url="https://a.example", web_url="https://b.example", mcp_url="https://c.example")
    Settings(single_origin=True, public_url="https://axiom.example")


@pytest.mark.parametrize("switch", ["cimd_allow_private_addresses", "cimd_allow_http"])
def test_production_refuses_the_test_switches(monkeypatch: pytest.MonkeyPatch, switch: str) -> None:
    monkeypatch.setenv("AXIOM_ENVIRONMENT", "production")
    monkeypatch.setenv("AXIOM_SECRET_KEY", SECRET)
    assert "CIMD" in refused(single_origin=True, public_url="https://axiom.example", **{switch: True})


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgres://u:p@db/axiom", "postgresql+asyncpg://u:p@db/axiom"),
        ("postgresql://u@db:5433/axiom", "postgresql+asyncpg://u@db:5433/axiom"),
        ("postgresql+asyncpg://u@db/axiom", "postgresql+asyncpg://u@db/axiom"),
        ("sqlite:////var/lib/axiom/axiom.db", "sqlite+aiosqlite:////var/lib/axiom/axiom.db"),
        ("sqlite+aiosqlite:///axiom.db", "sqlite+aiosqlite:///axiom.db"),
    ],
)
def test_database_urls_get_the_async_driver(monkeypatch: pytest.MonkeyPatch, given: str, used: str) -> None:
    monkeypatch.setenv("AXIOM_DATABASE_URL", given)
    assert Settings().database_url == used
