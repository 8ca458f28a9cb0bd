"""One settings object, built once (by the CLI or a test) and passed down.

Every field reads an ``AXIOM_`` variable; the original's ``VITE_POCKETBASE_URL``, ``VITE_APP_URL``
and ``PORT`` are accepted as aliases so an original deployment's environment keeps working.
Public URLs always come from here, never from a request's Host header.
"""

from __future__ import annotations

import json
import re
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

SCOPES: dict[str, str] = {
    "profile:read": "See your profile (name and email)",
    "items:read": "Read your items",
    "items:write": "Create, change and delete your items",
    "clients:read": "Read your clients",
    "clients:write": "Create, change and delete your clients",
    "tags:read": "Read your tags",
    "tags:write": "Create, change and delete your tags",
    "offline_access": "Stay connected when you are away (refresh tokens)",
}
"""Every scope the server knows, with the plain words the consent page shows."""

DEFAULT_SCOPES: tuple[str, ...] = tuple(s for s in SCOPES if s != "offline_access")
"""What a request that names no scope is granted: the read and write scopes."""


SMTP_SCHEMES = ("smtp", "smtp+starttls", "smtps")
"""Plain SMTP (port 25), STARTTLS upgrade (587), TLS from the first byte (465)."""

SECRET_MIN_LENGTH = 32
"""A configured secret shorter than this is refused outside development (it signs sessions and CSRF tokens)."""

_SECONDS = re.compile(r"^\s*\d+(\.\d+)?\s*$")
_DURATIONS = (
    "access_token_ttl",
    "refresh_token_ttl",
    "refresh_grace",
    "authorization_code_ttl",
    "authorization_request_ttl",
    "web_session_ttl",
    "unused_client_ttl",
    "cleanup_interval",
    "signup_rate_window",
    "activity_retention",
    "undo_window",
    "statement_timeout",
)


Port = Annotated[int, Field(ge=1, le=65535)]

_ASYNC_DRIVERS = {
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "sqlite": "sqlite+aiosqlite",
}


def _async_driver(url: str) -> str:
    """The URL with the async driver this package ships (asyncpg, aiosqlite) when it names none:
    hosting platforms hand out ``postgres://...``, and people write ``sqlite:///...``."""
    scheme, sep, rest = url.partition("://")
    if sep and scheme in _ASYNC_DRIVERS:
        return f"{_ASYNC_DRIVERS[scheme]}://{rest}"
    return url


def _alias(name: str, *extra: str) -> AliasChoices:
    return AliasChoices(f"AXIOM_{name.upper()}", *extra)


class Settings(BaseSettings):
    """Configuration of the three services (auth + API, web, MCP)."""

    # An error never echoes what was given: the SMTP URL and the secret key are among the inputs.
    model_config = SettingsConfigDict(env_prefix="AXIOM_", extra="ignore", populate_by_name=True,
                                      hide_input_in_errors=True)

    environment: Literal["development", "test", "production"] = Field(
        "development",
        description="Outside `development` a secret must be set; `production` also refuses http:// public "
        "URLs and the CIMD test switches.",
    )
    data_dir: Path = Field(Path("axiom-data"), description="Folder for the SQLite database and the local secret.")
    database_url: str = Field(
        "",
        description="SQLAlchemy async URL; empty means SQLite at <data_dir>/axiom.db. "
        "PostgreSQL: postgresql+asyncpg://user@host/db",
    )
    secret_key: str = Field(
        "",
        description="Signs web sessions and CSRF tokens. Required (at least 32 characters) outside "
        "development; in development one is generated and kept in <data_dir>/secret.key.",
    )

    host: str = Field("127.0.0.1", description="Address the servers bind to.")
    auth_port: Port = Field(8090, validation_alias=_alias("auth_port"))
    web_port: Port = Field(3000, validation_alias=_alias("web_port"))
    mcp_port: Port = Field(8091, validation_alias=_alias("mcp_port", "PORT"))

    public_url: str = Field(
        "",
        description="Public URL of the auth + API service; it is the OAuth issuer. "
        "In single-origin mode it is the one URL of everything.",
        validation_alias=_alias("public_url", "VITE_POCKETBASE_URL"),
    )
    web_url: str = Field("", validation_alias=_alias("web_url", "VITE_APP_URL"))
    mcp_url: str = Field("", description="Public URL of the MCP service (without /mcp).")
    single_origin: bool = Field(False, description="Serve all three services on one port under public_url.")
    single_origin_port: Port = Field(8000, description="The port of single-origin mode.")

    # Durations read ISO 8601 (`P90D`, `PT15M`), `[D days, ]HH:MM:SS`, or a number of seconds (`3600`).
    access_token_ttl: timedelta = Field(timedelta(days=90), description="90 days, as the original: Claude often never refreshes.")
    refresh_token_ttl: timedelta = Field(timedelta(days=180))
    refresh_grace: timedelta = Field(
        timedelta(seconds=30),
        description="How long a rotated refresh token is still honoured (a client retrying a lost answer); "
        "presented later it is taken for stolen and its whole grant is revoked.",
    )
    authorization_code_ttl: timedelta = Field(timedelta(minutes=10))
    authorization_request_ttl: timedelta = Field(timedelta(minutes=30))
    web_session_ttl: timedelta = Field(timedelta(days=14))
    unused_client_ttl: timedelta = Field(
        timedelta(days=7), description="Dynamically registered clients never used this long are reaped."
    )
    cleanup_interval: timedelta = Field(timedelta(minutes=10))
    activity_retention: timedelta = Field(
        timedelta(days=90), description="How long what each connected app did is kept (then cleanup removes it)."
    )
    undo_window: timedelta = Field(
        timedelta(minutes=10),
        description="How long a deleted item, client or tag (its tags and files too) can be brought back from the "
        "web app; then cleanup removes it and its files' bytes.",
    )
    storage_url: str = Field(
        "",
        description="Where attached files live: empty for the folder <data_dir>/files, or s3://bucket/prefix "
        "for S3-compatible object storage (credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY).",
    )
    s3_endpoint_url: str = Field("", description="The S3 API's URL when it is not AWS's (MinIO, R2, ...).")
    s3_region: str = Field("", description="The S3 region (empty: botocore's default).")
    max_file_size: int = Field(25 * 1024 * 1024, ge=1, description="Bytes one attached file may have.")
    storage_quota: int = Field(1024 * 1024 * 1024, ge=0, description="Bytes of attached files one person may keep.")
    registration_rate_limit: int = Field(60, description="Registrations per address per minute.")
    login_rate_limit: int = Field(10, description="Failed logins per account or per address per 15 minutes.")
    signup_rate_limit: int = Field(
        10, ge=1, description="Sign-ups (each an argon2 hash, most a new account) per address per signup_rate_window."
    )
    signup_rate_window: timedelta = Field(timedelta(hours=1))
    statement_timeout: timedelta = Field(
        timedelta(seconds=5),
        gt=timedelta(0),
        description="The longest a list or search statement may run; past it the read is cancelled and "
        "answered 503, so one heavy query cannot stall everyone's reads.",
    )
    token_cache_seconds: float = Field(
        2.0, description="How long a verified access token is trusted without a database read."
    )
    mcp_sessions_per_user: int = Field(
        50, ge=1, description="MCP sessions and legacy SSE streams one user may hold open at once; "
        "one more closes their longest-idle one (mcp_server/user_sessions.py).",
    )

    smtp_url: SecretStr = Field(
        SecretStr(""),
        description="Where mail goes out: smtp+starttls://user:pass@host:587, smtps://user:pass@host:465 or "
        "smtp://host:25. Empty: each message is logged and written to <data_dir>/mail/ instead.",
    )
    mail_from: str = Field("Axiom <axiom@localhost>", description="The From: of every message Axiom sends.")

    cimd_allow_private_addresses: bool = Field(
        False, description="Only for tests: let Client ID Metadata Documents come from loopback."
    )
    cimd_allow_http: bool = Field(False, description="Only for tests: accept http:// client_id URLs.")
    cimd_max_bytes: int = 5120
    cimd_timeout_seconds: float = 5.0
    cimd_cache_seconds: float = 300.0
    cimd_fetch_rate_limit: int = Field(
        20, ge=1, description="Client metadata document fetches per client address (IPv6: per /64) per minute."
    )
    cimd_failure_cache_seconds: float = Field(
        60.0, ge=0, description="How long a document URL whose fetch failed is refused without a new fetch."
    )
    cimd_resolver_threads: int = Field(
        4, ge=1, description="Threads for DNS lookups of document hosts (apart from everything else's lookups)."
    )
    cimd_dns_timeout_seconds: float = Field(2.0, gt=0, description="Time limit of one document host's DNS lookup.")
    api_docs: bool | None = Field(
        None,
        description="Serve the API docs (/docs, /openapi.json). Unset: on outside production, off in production.",
    )

    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Addresses or networks (CIDR) whose X-Forwarded-For/-Proto and X-Request-ID headers "
        "are believed; comma-separated or a JSON list. Empty: nobody's.",
    )
    introspection_clients: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Client ids of Axiom's own resource servers: confidential clients that may introspect "
        "any token at /oauth/introspect (any other client learns only about its own tokens); "
        "comma-separated or a JSON list.",
    )
    allowed_origins: list[str] = Field(
        default_factory=list, description="Extra browser origins allowed to call the MCP endpoint."
    )
    log_level: str = "info"
    log_format: Literal["auto", "json", "text"] = Field(
        "auto",
        description="json: one object per line with request ids (for log collectors); text: for people; "
        "auto: text when stderr is a terminal, json otherwise.",
    )

    @field_validator("trusted_proxies", "introspection_clients", mode="before")
    @classmethod
    def _split_list(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @field_validator("smtp_url")
    @classmethod
    def _smtp_scheme(cls, value: SecretStr) -> SecretStr:
        # The message names the schemes only: the URL may hold a password.
        url = value.get_secret_value()
        if url and (urlsplit(url).scheme not in SMTP_SCHEMES or not urlsplit(url).hostname):
            raise ValueError(f"AXIOM_SMTP_URL must look like {' or '.join(s + '://host' for s in SMTP_SCHEMES)}")
        return value

    @field_validator(*_DURATIONS, mode="before")
    @classmethod
    def _seconds(cls, value: Any) -> Any:
        # pydantic reads ISO 8601 durations from strings but not a bare number of seconds, which is
        # what people (and the original's env files) tend to write.
        if isinstance(value, str) and _SECONDS.match(value):
            return timedelta(seconds=float(value))
        return value

    @field_validator(*_DURATIONS)
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("must be a positive duration")
        return value

    @model_validator(mode="after")
    def _fill_defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.data_dir / 'axiom.db'}"
        self.database_url = _async_driver(self.database_url)
        if self.single_origin:
            base = (self.public_url or f"http://localhost:{self.single_origin_port}").rstrip("/")
            self.public_url = base
            self.web_url = self.web_url or base
            self.mcp_url = self.mcp_url or base
        self.public_url = (self.public_url or f"http://localhost:{self.auth_port}").rstrip("/")
        self.web_url = (self.web_url or f"http://localhost:{self.web_port}").rstrip("/")
        self.mcp_url = (self.mcp_url or f"http://localhost:{self.mcp_port}").rstrip("/")
        for name in ("public_url", "web_url", "mcp_url"):
            # These become the issuer, redirect targets and token audiences: a typo must stop the start.
            parts = urlsplit(getattr(self, name))
            if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
                raise ValueError(
                    f"AXIOM_{name.upper()} must be an absolute http(s) URL without query or fragment, "
                    f"like https://axiom.example.com (got {getattr(self, name)!r})"
                )
        if self.storage_url:
            parts = urlsplit(self.storage_url)
            if parts.scheme != "s3" or not parts.netloc or parts.query or parts.fragment:
                raise ValueError(f"AXIOM_STORAGE_URL must look like s3://bucket/prefix (got {self.storage_url!r})")
        if self.environment != "development":
            # A generated secret is fine on one developer's machine, never on a shared deployment.
            if not self.secret_key:
                raise ValueError(f"AXIOM_SECRET_KEY must be set when AXIOM_ENVIRONMENT={self.environment}")
            if len(self.secret_key) < SECRET_MIN_LENGTH:
                raise ValueError(f"AXIOM_SECRET_KEY must have at least {SECRET_MIN_LENGTH} characters")
        if self.environment == "production":
            if self.cimd_allow_private_addresses or self.cimd_allow_http:
                raise ValueError("the CIMD test switches are refused in production")
            for name in ("public_url", "web_url", "mcp_url"):
                if urlsplit(getattr(self, name)).scheme != "https":
                    raise ValueError(f"AXIOM_{name.upper()} must be an https:// URL in production")
        return self

    @property
    def serves_api_docs(self) -> bool:
        return self.api_docs if self.api_docs is not None else self.environment != "production"

    @property
    def issuer(self) -> str:
        """The OAuth issuer (RFC 8414 section 2): exactly the auth service's public URL."""
        return self.public_url

    @property
    def mcp_resource(self) -> str:
        """The MCP endpoint's canonical URI: the audience its tokens must carry (RFC 8707)."""
        return f"{self.mcp_url}/mcp"

    @property
    def api_resource(self) -> str:
        """The REST API's audience."""
        return f"{self.public_url}/api/v1"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def resolved_secret(self) -> str:
        """The configured secret, or (in development) one generated once and kept in data_dir."""
        if self.secret_key:
            return self.secret_key
        if self.environment != "development":  # unreachable through validation; kept as a guard
            raise ValueError("AXIOM_SECRET_KEY must be set outside development")
        path = self.data_dir / "secret.key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        value = secrets.token_urlsafe(48)
        path.write_text(value)
        path.chmod(0o600)
        return value
