"""tags.name_key: a person's tag names are unique whatever their case; duplicates merged

Revision ID: 0017
Revises: 0014
Create Date: 2026-11-29 20:00:00

Tags one person named alike ("work", "Work", " WORK ") are merged into the oldest (created, then
id): every item and client profile that carried any of them carries the kept one, once; the
others are deleted. The key is computed in Python (``fold.name_key``, the function the app writes
it with), not by the database's lower(), which folds only ASCII on SQLite. Then a unique index on
(user_id, name_key) makes a duplicate impossible.

Plain ALTER TABLE and CREATE INDEX, not a batch: SQLite's batch copies the table, and dropping the
old ``tags`` would cascade to item_tags and client_access_tags (foreign keys are on).
Owners are taken a few hundred at a time, so a large database is never read whole into memory.
The downgrade drops the key; merged tags stay merged.
"""

from __future__ import annotations

from typing import Any

from alembic import op
import sqlalchemy as sa

from axiom_mcp.db.fold import KEY_GROWTH, name_key
from axiom_mcp.db.tables import NAME_MAX

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

OWNERS_AT_ONCE = 500

tags = sa.table('tags', sa.column('id'), sa.column('user_id'), sa.column('name'), sa.column('created'),
                sa.column('name_key'))
LINKS = (
    sa.table('item_tags', sa.column('item_id'), sa.column('tag_id')),
    sa.table('client_access_tags', sa.column('client_id'), sa.column('tag_id')),
)


def _merge(bind: Any, merged: dict[str, str]) -> None:
    """Move every link of each merged tag to the tag it merges into (never twice), then delete it."""
    for link in LINKS:
        holder = next(c for c in link.c if c.name != 'tag_id')
        for gone, kept in merged.items():
            already = sa.select(holder).where(link.c.tag_id == kept)
            moved = sa.select(holder, sa.literal(kept)).where(link.c.tag_id == gone, holder.not_in(already))
            bind.execute(sa.insert(link).from_select([holder.name, 'tag_id'], moved))
            bind.execute(sa.delete(link).where(link.c.tag_id == gone))
    bind.execute(sa.delete(tags).where(tags.c.id.in_(list(merged))))


def upgrade() -> None:
    op.add_column('tags', sa.Column('name_key', sa.String(length=KEY_GROWTH * NAME_MAX), server_default='',
                                    nullable=False))
    bind = op.get_bind()
    after = ''
    while True:
        owners = bind.scalars(
            sa.select(tags.c.user_id).where(tags.c.user_id > after).group_by(tags.c.user_id)
            .order_by(tags.c.user_id).limit(OWNERS_AT_ONCE)
        ).all()
        if not owners:
            break
        after = owners[-1]
        rows = bind.execute(
            sa.select(tags.c.id, tags.c.user_id, tags.c.name).where(tags.c.user_id.in_(owners))
            .order_by(tags.c.user_id, tags.c.created, tags.c.id)
        ).all()
        first: dict[tuple[str, str], str] = {}
        keys: list[dict[str, str]] = []
        merged: dict[str, str] = {}
        for tag_id, owner, name in rows:
            key = name_key(name)
            kept = first.setdefault((owner, key), tag_id)
            if kept == tag_id:
                keys.append({'tag': tag_id, 'key': key})
            else:
                merged[tag_id] = kept
        if merged:
            _merge(bind, merged)
        bind.execute(tags.update().where(tags.c.id == sa.bindparam('tag')).values(name_key=sa.bindparam('key')), keys)
    op.create_index('uq_tags_user_id_name_key', 'tags', ['user_id', 'name_key'], unique=True)


def downgrade() -> None:
    op.drop_index('uq_tags_user_id_name_key', table_name='tags')
    op.drop_column('tags', 'name_key')
