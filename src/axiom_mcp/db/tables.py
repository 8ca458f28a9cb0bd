"""The schema: the user's data (the original's collections) and the OAuth tables.

Every timestamp is stored timezone-aware in UTC. Codes and tokens are stored only as SHA-256 hashes.
Changing a table means a new Alembic revision under ``migrations/versions``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, validates
from sqlalchemy.types import TypeDecorator

from axiom_mcp.db.fold import KEY_GROWTH, name_key
from axiom_mcp.ids import ID_LENGTH, new_id, utcnow

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SEARCH_TABLES = "item_search"
"""Tables outside these models: items' full-text search documents and the database's own index over
them (SQLite's FTS5 table and its shadow tables), named with this prefix (migration 0016, data/fulltext.py)."""


def modelled(_object: Any, name: str | None, type_: str, _reflected: bool, _compare_to: Any) -> bool:
    """Alembic's ``include_object``: whether comparing the models with a database looks at a table."""
    return not (type_ == "table" and name is not None and name.startswith(SEARCH_TABLES))

NAME_MAX = 255
CONTENT_MAX = 100_000


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every database (SQLite would hand back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[Any]: JSON}


def _id_column() -> Mapped[str]:
    return mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)


def _owner_column() -> Mapped[str]:
    return mapped_column(String(ID_LENGTH), ForeignKey("users.id", ondelete="CASCADE"), index=True)


class Timestamps:
    created: Mapped[datetime] = mapped_column(default=utcnow)
    updated: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class User(Timestamps, Base):
    __tablename__ = "users"

    id: Mapped[str] = _id_column()
    email: Mapped[str] = mapped_column(String(320), unique=True)
    """Stored lower-cased, so uniqueness is case-insensitive on every database."""
    name: Mapped[str] = mapped_column(String(NAME_MAX), default="")
    avatar: Mapped[str] = mapped_column(String(1024), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    timezone: Mapped[str] = mapped_column(String(64), default="", server_default="")
    """An IANA time zone name the web app shows times in ("" until known: UTC)."""
    items_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Bumped by the database (triggers on items, migration 0005) in every transaction that inserts,
    deletes or reorders one of the user's items: the list's rank marks (data/marks.py) are valid
    exactly while it stays put."""


item_tags = Table(
    "item_tags",
    Base.metadata,
    Column("item_id", String(ID_LENGTH), ForeignKey("items.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", String(ID_LENGTH), ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True),
)

client_access_tags = Table(
    "client_access_tags",
    Base.metadata,
    Column("client_id", String(ID_LENGTH), ForeignKey("clients.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", String(ID_LENGTH), ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Tag(Timestamps, Base):
    __tablename__ = "tags"
    __table_args__ = (
        Index("ix_tags_user_created", "user_id", "created"),
        Index("uq_tags_user_id_name_key", "user_id", "name_key", unique=True),
    )

    id: Mapped[str] = _id_column()
    user_id: Mapped[str] = _owner_column()
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    name_key: Mapped[str] = mapped_column(String(KEY_GROWTH * NAME_MAX), server_default="")
    """``name`` as compared (``fold.name_key``: trimmed, any case): unique per person, so the database
    itself refuses a second "Work" beside "work", even from two writes at once. Set whenever ``name``
    is (below); a bulk insert sets it itself. ("" only on a row written without it, which the
    index then keeps to one per person: a forgotten key fails loudly.)"""

    @validates("name")
    def _keyed(self, _attribute: str, name: str) -> str:
        self.name_key = name_key(name)
        return name


class Item(Timestamps, Base):
    __tablename__ = "items"
    # (created, id) is the list order; with id in it a page's ids come from the index alone.
    # (updated, id) serves the list sorted by last change (sort=-updated).
    __table_args__ = (
        Index("ix_items_user_created_id", "user_id", "created", "id"),
        Index("ix_items_user_updated_id", "user_id", "updated", "id"),
    )

    id: Mapped[str] = _id_column()
    user_id: Mapped[str] = _owner_column()
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    content: Mapped[str] = mapped_column(Text, default="")
    # The content's first words as plain text, written with it (data/kinds.py ``Derived``).
    excerpt: Mapped[str] = mapped_column(Text, default="", server_default="")
    files: Mapped[list[Any]] = mapped_column(default=list)
    tags: Mapped[list[Tag]] = relationship(secondary=item_tags, lazy="raise", order_by=Tag.name)


class Client(Timestamps, Base):
    __tablename__ = "clients"
    __table_args__ = (Index("ix_clients_user_created", "user_id", "created"),)

    id: Mapped[str] = _id_column()
    user_id: Mapped[str] = _owner_column()
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    access_tags: Mapped[list[Tag]] = relationship(secondary=client_access_tags, lazy="raise", order_by=Tag.name)


# --- OAuth ---------------------------------------------------------------------------------------


class OAuthClient(Base):
    """A registered client: by DCR (RFC 7591), from a Client ID Metadata Document, or first-party."""

    __tablename__ = "_oauth_clients"

    id: Mapped[str] = _id_column()
    client_id: Mapped[str] = mapped_column(String(2048), unique=True)
    client_secret_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    client_secret_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    client_name: Mapped[str] = mapped_column(String(NAME_MAX), default="")
    redirect_uris: Mapped[list[Any]] = mapped_column(default=list)
    grant_types: Mapped[list[Any]] = mapped_column(default=list)
    response_types: Mapped[list[Any]] = mapped_column(default=list)
    token_endpoint_auth_method: Mapped[str] = mapped_column(String(64), default="none")
    scope: Mapped[str | None] = mapped_column(Text, default=None)
    source: Mapped[str] = mapped_column(String(16), default="dcr")
    """`dcr`, `cimd` or `first_party`."""
    client_metadata: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)
    """The rest of the registered metadata (client_uri, logo_uri, ...), as sent."""
    registered_from: Mapped[str | None] = mapped_column(String(64), default=None)
    metadata_fetched_at: Mapped[datetime | None] = mapped_column(default=None)
    created: Mapped[datetime] = mapped_column(default=utcnow)
    last_used: Mapped[datetime | None] = mapped_column(default=None, index=True)


class OAuthAuthorizationRequest(Base):
    """A validated GET /oauth/authorize, waiting for the user's consent.

    The consent page carries only the opaque request id (its hash is stored), never the raw
    parameters, so nothing the browser sends later can change what was validated.
    """

    __tablename__ = "_oauth_authorization_requests"

    id: Mapped[str] = _id_column()
    request_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[str] = mapped_column(String(2048))
    redirect_uri: Mapped[str] = mapped_column(Text)
    redirect_uri_provided: Mapped[bool] = mapped_column(Boolean, default=True)
    scopes: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str | None] = mapped_column(Text, default=None)
    code_challenge: Mapped[str] = mapped_column(String(128))
    resource: Mapped[str | None] = mapped_column(Text, default=None)
    prompt: Mapped[str | None] = mapped_column(String(64), default=None)
    created: Mapped[datetime] = mapped_column(default=utcnow)
    expires: Mapped[datetime] = mapped_column(index=True)


class OAuthAuthorizationCode(Base):
    __tablename__ = "_oauth_authorization_codes"

    id: Mapped[str] = _id_column()
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    grant_id: Mapped[str] = mapped_column(String(ID_LENGTH), index=True)
    """Ties the code to every token issued from it, so a replay can revoke them all."""
    client_id: Mapped[str] = mapped_column(String(2048))
    user_id: Mapped[str] = _owner_column()
    redirect_uri: Mapped[str] = mapped_column(Text)
    redirect_uri_provided: Mapped[bool] = mapped_column(Boolean, default=True)
    code_challenge: Mapped[str] = mapped_column(String(128))
    code_challenge_method: Mapped[str] = mapped_column(String(8), default="S256")
    scopes: Mapped[str] = mapped_column(Text, default="")
    resource: Mapped[str | None] = mapped_column(Text, default=None)
    refreshable: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    """False when the app asked for ``offline_access`` and the person withheld it: no refresh token."""
    used: Mapped[bool] = mapped_column(Boolean, default=False)
    created: Mapped[datetime] = mapped_column(default=utcnow)
    expires: Mapped[datetime] = mapped_column(index=True)


class OAuthAccessToken(Base):
    __tablename__ = "_oauth_access_tokens"

    id: Mapped[str] = _id_column()
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    grant_id: Mapped[str] = mapped_column(String(ID_LENGTH), index=True)
    client_id: Mapped[str] = mapped_column(String(2048), index=True)
    user_id: Mapped[str] = _owner_column()
    scopes: Mapped[str] = mapped_column(Text, default="")
    resource: Mapped[str | None] = mapped_column(Text, default=None)
    """The audience (RFC 8707)."""
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    created: Mapped[datetime] = mapped_column(default=utcnow)
    expires: Mapped[datetime] = mapped_column(index=True)
    last_used: Mapped[datetime | None] = mapped_column(default=None)
    name: Mapped[str] = mapped_column(String(100), default="", server_default="")
    """An API token's label (given when made on the account page; empty for a login's)."""


class OAuthRefreshToken(Base):
    """Refresh tokens, rotated on use; ``grant_id`` is the rotation chain."""

    __tablename__ = "_oauth_refresh_tokens"

    id: Mapped[str] = _id_column()
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    grant_id: Mapped[str] = mapped_column(String(ID_LENGTH), index=True)
    parent_id: Mapped[str | None] = mapped_column(String(ID_LENGTH), default=None)
    client_id: Mapped[str] = mapped_column(String(2048), index=True)
    user_id: Mapped[str] = _owner_column()
    scopes: Mapped[str] = mapped_column(Text, default="")
    resource: Mapped[str | None] = mapped_column(Text, default=None)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    rotated_at: Mapped[datetime | None] = mapped_column(default=None)
    """When this token was replaced: exchanged for its successor, or (an unused successor) replaced by a
    retry of its parent. Presented again after the refresh grace, it revokes its grant."""
    successor_used: Mapped[bool] = mapped_column(Boolean, default=False)
    created: Mapped[datetime] = mapped_column(default=utcnow)
    expires: Mapped[datetime] = mapped_column(index=True)


class OAuthConsent(Base):
    """Which user allowed which client which scopes: the "connected apps"."""

    __tablename__ = "_oauth_consents"
    __table_args__ = (UniqueConstraint("user_id", "client_id", name="uq__oauth_consents_user_client"),)

    id: Mapped[str] = _id_column()
    user_id: Mapped[str] = _owner_column()
    client_id: Mapped[str] = mapped_column(String(2048))
    scopes: Mapped[str] = mapped_column(Text, default="")
    created: Mapped[datetime] = mapped_column(default=utcnow)
    updated: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    last_used: Mapped[datetime | None] = mapped_column(default=None)
    restricted: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    """The app sees only the items of its client profile (``profile_id``); False: all of them."""
    profile_id: Mapped[str | None] = mapped_column(
        String(ID_LENGTH), ForeignKey("clients.id", ondelete="SET NULL"), default=None
    )
    """The client profile whose access tags say what a restricted app sees. A restricted consent
    whose profile was deleted sees nothing (never everything)."""


# --- Web sessions and throttling ------------------------------------------------------------------


class WebSession(Base):
    """A signed-in browser; the cookie holds the random session id, the table only its hash."""

    __tablename__ = "_web_sessions"

    id: Mapped[str] = _id_column()
    session_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[str] = _owner_column()
    csrf_secret: Mapped[str] = mapped_column(String(64))
    created: Mapped[datetime] = mapped_column(default=utcnow)
    expires: Mapped[datetime] = mapped_column(index=True)
    user_agent: Mapped[str] = mapped_column(String(300), default="", server_default="")
    """The browser's User-Agent at sign-in, to name the device on the account page."""
    last_seen: Mapped[datetime | None] = mapped_column(default=None)
    """Moved forward at most every few minutes (``web_sessions.SEEN_EVERY``), not on every page."""


class LoginThrottle(Base):
    """Failed login counts per account and per address, shared by every instance."""

    __tablename__ = "_login_throttle"

    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[datetime] = mapped_column(default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(default=None)


class SignupThrottle(Base):
    """Sign-up attempts per address in the current window, shared by every instance."""

    __tablename__ = "_signup_throttle"

    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[datetime] = mapped_column(default=utcnow, index=True)


# --- Activity ------------------------------------------------------------------------------------


class Activity(Base):
    """One call an OAuth app made (an MCP tool call, a REST request): who, what, which ids, outcome.

    Never content or argument text: only the action's name, the record ids it named or made, and
    whether it worked (with an error code when not).
    """

    __tablename__ = "activity"
    __table_args__ = (Index("ix_activity_user_client_at", "user_id", "client_id", "at"),)

    id: Mapped[str] = _id_column()
    user_id: Mapped[str] = mapped_column(String(ID_LENGTH), ForeignKey("users.id", ondelete="CASCADE"))
    client_id: Mapped[str] = mapped_column(String(2048))
    at: Mapped[datetime] = mapped_column(index=True)
    surface: Mapped[str] = mapped_column(String(8))
    """``mcp`` or ``rest``."""
    action: Mapped[str] = mapped_column(String(200))
    """The tool's name, or the REST route as ``METHOD /path/{param}``."""
    record_ids: Mapped[list[Any]] = mapped_column(default=list)
    ok: Mapped[bool] = mapped_column(Boolean)
    error: Mapped[str | None] = mapped_column(String(64), default=None)


class Avatar(Base):
    """A person's picture, already resized (at most AVATAR_SIZE pixels a side) and re-encoded as PNG.

    Kept in the database, not in a file: a few tens of kilobytes, and every instance sees it.
    """

    __tablename__ = "avatars"

    user_id: Mapped[str] = mapped_column(String(ID_LENGTH), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    updated: Mapped[datetime] = mapped_column(default=utcnow)


class RegistrationThrottle(Base):
    """Dynamic client registrations per address in the current window, shared by every instance."""

    __tablename__ = "_registration_throttle"

    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class OneTimeLink(Base):
    """A link mailed to a person (set a new password, confirm an address): used once, only its hash kept."""

    __tablename__ = "_one_time_links"

    id: Mapped[str] = _id_column()
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = _owner_column()
    email: Mapped[str] = mapped_column(String(320))
    """The address the link was mailed to: the one it confirms."""
    created: Mapped[datetime] = mapped_column(default=utcnow)
    expires: Mapped[datetime] = mapped_column(index=True)
    used: Mapped[datetime | None] = mapped_column(default=None)


class ItemFile(Base):
    """A file attached to an item: its bytes are a blob (``axiom_mcp.blobs``) under ``storage_key``.

    The row is written only once the blob is complete, so a row always has its bytes; a blob
    without a row is an orphan that cleanup removes.
    """

    __tablename__ = "files"
    __table_args__ = (Index("ix_files_item_created", "item_id", "created"),)

    id: Mapped[str] = _id_column()
    user_id: Mapped[str] = _owner_column()
    item_id: Mapped[str] = mapped_column(String(ID_LENGTH), ForeignKey("items.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    size: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str] = mapped_column(String(NAME_MAX))
    """From the file's bytes, never from its name or what the uploader claimed."""
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)
    created: Mapped[datetime] = mapped_column(default=utcnow)


class DeletedRecord(Base):
    """A record deleted a moment ago, kept whole so its owner can undo the delete (data/undo.py).

    ``snapshot`` holds the record's row and the rows that went with it (its tag links, an item's
    file rows, what pointed at it); ``blob_keys`` the bytes of its files, which stay in the blob
    store until the undo window ends (then cleanup removes row and bytes).
    """

    __tablename__ = "_deleted_records"
    __table_args__ = (Index("ix__deleted_records_user_kind_deleted", "user_id", "kind", "deleted"),)

    id: Mapped[str] = _id_column()
    user_id: Mapped[str] = _owner_column()
    kind: Mapped[str] = mapped_column(String(64))
    """The kind's plural name (data/kinds.py)."""
    record_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    snapshot: Mapped[dict[str, Any]] = mapped_column()
    blob_keys: Mapped[list[Any]] = mapped_column(default=list)
    deleted: Mapped[datetime] = mapped_column(default=utcnow, index=True)
