"""items.excerpt: the content's first words as plain text, stored with it

List pages showed an excerpt per item worked out from its HTML on every read; now the data layer
writes it with the content (data/kinds.py ``Derived``), and this fills it for the items there are.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-29 20:10:00
"""

from alembic import op
import sqlalchemy as sa

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

_BATCH = 1000


def upgrade() -> None:
    # Plain ALTER TABLE, not a batch: SQLite's batch copies the table, and the items triggers
    # (migration 0011) that name ``users`` would break on the copy's rename.
    op.add_column('items', sa.Column('excerpt', sa.Text(), server_default='', nullable=False))
    # The same function the data layer writes it with (migrations are outside the import layers).
    from axiom_mcp.data.content import excerpt

    connection = op.get_bind()
    items = sa.table('items', sa.column('id', sa.String), sa.column('content', sa.Text), sa.column('excerpt', sa.Text))
    last = ''
    while True:
        rows = connection.execute(
            sa.select(items.c.id, items.c.content).where(items.c.id > last).order_by(items.c.id).limit(_BATCH)
        ).all()
        if not rows:
            break
        changed = [{'key': row.id, 'value': excerpt(row.content or '')} for row in rows]
        changed = [c for c in changed if c['value']]
        if changed:
            connection.execute(
                items.update().where(items.c.id == sa.bindparam('key')).values(excerpt=sa.bindparam('value')),
                changed,
            )
        last = rows[-1].id


def downgrade() -> None:
    op.drop_column('items', 'excerpt')
