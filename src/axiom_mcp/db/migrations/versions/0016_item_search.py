"""item_search: each item's full-text search document, indexed (FTS5 / tsvector + GIN); sort indexes

Revision ID: 0016
Revises: 0014
Create Date: 2026-11-29 20:00:00

The document (data/fulltext.py) is the item's name, its content as text, its tags' names and its
files' names, folded in Python; the data layer keeps it right. SQLite: an ordinary table (its
``doc`` an INTEGER PRIMARY KEY, so VACUUM keeps it) behind an external-content FTS5 table, kept in
step by the triggers SQLite's FTS5 documentation gives. PostgreSQL: a generated, weighted
``tsvector`` column with a GIN index. Existing items are backfilled here. The list's other sorts
have their indexes as (user_id, created, id) serves the default: ``name`` the folded name's (on
item_search, in code point order on both databases), ``-updated`` one on items.
"""

from alembic import op
import sqlalchemy as sa

from axiom_mcp.data.fulltext import BATCH, document, listed_names

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

_SQLITE = [
    "CREATE TABLE item_search (doc INTEGER PRIMARY KEY,"
    " item_id VARCHAR(15) NOT NULL UNIQUE REFERENCES items (id) ON DELETE CASCADE,"
    " user_id VARCHAR(15) NOT NULL, name TEXT NOT NULL, body TEXT NOT NULL, tags TEXT NOT NULL, files TEXT NOT NULL)",
    "CREATE VIRTUAL TABLE item_search_fts USING fts5(name, body, tags, files, content='item_search',"
    " content_rowid='doc', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER item_search_added AFTER INSERT ON item_search BEGIN"
    " INSERT INTO item_search_fts (rowid, name, body, tags, files) VALUES (new.doc, new.name, new.body, new.tags, new.files); END",
    "CREATE TRIGGER item_search_removed AFTER DELETE ON item_search BEGIN"
    " INSERT INTO item_search_fts (item_search_fts, rowid, name, body, tags, files)"
    " VALUES ('delete', old.doc, old.name, old.body, old.tags, old.files); END",
    "CREATE TRIGGER item_search_changed AFTER UPDATE ON item_search BEGIN"
    " INSERT INTO item_search_fts (item_search_fts, rowid, name, body, tags, files)"
    " VALUES ('delete', old.doc, old.name, old.body, old.tags, old.files);"
    " INSERT INTO item_search_fts (rowid, name, body, tags, files) VALUES (new.doc, new.name, new.body, new.tags, new.files); END",
]

_POSTGRESQL = [
    "CREATE TABLE item_search (item_id VARCHAR(15) PRIMARY KEY REFERENCES items (id) ON DELETE CASCADE,"
    " user_id VARCHAR(15) NOT NULL, name TEXT NOT NULL, body TEXT NOT NULL, tags TEXT NOT NULL, files TEXT NOT NULL,"
    " doc tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('simple'::regconfig, name), 'A') || setweight(to_tsvector('simple'::regconfig, tags), 'B')"
    " || setweight(to_tsvector('simple'::regconfig, files), 'C') || setweight(to_tsvector('simple'::regconfig, body), 'D')"
    ") STORED)",
    "CREATE INDEX ix_item_search_doc ON item_search USING gin (doc)",
]


def _backfill() -> None:
    bind = op.get_bind()
    last = ""
    while True:
        items = bind.execute(sa.text(
            "SELECT id, user_id, name, content, files FROM items WHERE id > :last ORDER BY id LIMIT :n"
        ), {"last": last, "n": BATCH}).all()
        if not items:
            return
        last = items[-1][0]
        ids = {f"i{n}": row[0] for n, row in enumerate(items)}
        where = ", ".join(f":{key}" for key in ids)
        tags: dict[str, list[str]] = {}
        for item_id, name in bind.execute(sa.text(
            f"SELECT l.item_id, t.name FROM item_tags AS l JOIN tags AS t ON t.id = l.tag_id WHERE l.item_id IN ({where})"
        ), ids).all():
            tags.setdefault(item_id, []).append(name)
        files: dict[str, list[str]] = {}
        for item_id, name in bind.execute(sa.text(f"SELECT item_id, name FROM files WHERE item_id IN ({where})"), ids).all():
            files.setdefault(item_id, []).append(name)
        bind.execute(sa.text(
            "INSERT INTO item_search (item_id, user_id, name, body, tags, files)"
            " VALUES (:item_id, :user_id, :name, :body, :tags, :files)"
        ), [document(i, u, name, content, listed_names(listed) + files.get(i, []), tags.get(i, []))
            for i, u, name, content, listed in items])


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for statement in _POSTGRESQL if postgresql else _SQLITE:
        op.execute(statement)
    _backfill()
    collate = ' COLLATE "C"' if postgresql else ""
    op.execute(f"CREATE INDEX ix_item_search_user_name ON item_search (user_id, name{collate}, item_id)")
    op.create_index('ix_items_user_updated_id', 'items', ['user_id', 'updated', 'id'])


def downgrade() -> None:
    op.drop_index('ix_items_user_updated_id', table_name='items')
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("item_search_added", "item_search_removed", "item_search_changed"):
            op.execute(f"DROP TRIGGER {trigger}")
        op.execute("DROP TABLE item_search_fts")
    op.execute("DROP TABLE item_search")
