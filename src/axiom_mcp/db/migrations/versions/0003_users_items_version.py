"""users: items_version, the version of the user's item list order

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 08:30:00

A counter every insert or delete of the user's items bumps in its own transaction
(data/records.py). The deep-page rank marks (data/marks.py) are tagged with the version they were
computed at and used only while it matches, so they are exact. The server default gives existing
rows, and rows bulk-loaded without the column, version 0.
"""

from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN on both databases (SQLite accepts NOT NULL with a default): no table rebuild.
    op.add_column('users', sa.Column('items_version', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    op.drop_column('users', 'items_version')
