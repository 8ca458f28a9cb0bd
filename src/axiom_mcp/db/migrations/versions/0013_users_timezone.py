"""users.timezone: the IANA time zone the web app shows a person's times in

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29 18:00:00
"""

from alembic import op
import sqlalchemy as sa

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


# Plain ALTER TABLE, not a batch: SQLite's batch copies the table, and the items triggers
# (migration 0011) that name ``users`` would break on the copy's rename.


def upgrade() -> None:
    op.add_column('users', sa.Column('timezone', sa.String(length=64), server_default='', nullable=False))


def downgrade() -> None:
    op.drop_column('users', 'timezone')
