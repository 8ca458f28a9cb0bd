"""items: page index on (user_id, created, id)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 04:50:00

Lists are ordered by (created DESC, id DESC) within one owner. With ``id`` in the index the
page's ids come from the index alone (a covering, index-only scan), so a deep page (OFFSET of
100,000 rows) no longer reads every skipped row from the table: on the benchmark's user with
100,000 items the last page went from ~690 ms to ~22 ms on SQLite (bench/README.md). It replaces
the (user_id, created) index, its prefix.
"""

from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_items_user_created_id', 'items', ['user_id', 'created', 'id'], unique=False)
    op.drop_index('ix_items_user_created', table_name='items')


def downgrade() -> None:
    op.create_index('ix_items_user_created', 'items', ['user_id', 'created'], unique=False)
    op.drop_index('ix_items_user_created_id', table_name='items')
