"""_signup_throttle: sign-up attempts per address

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 10:00:00

Sign-up was not rate limited: one address could create accounts without end, each costing an
argon2 hash. The count lives in the database (not in a process) so it holds across instances.
"""

from alembic import op
import sqlalchemy as sa

import axiom_mcp.db.tables

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('_signup_throttle',
    sa.Column('key', sa.String(length=400), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('window_start', axiom_mcp.db.tables.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk__signup_throttle'))
    )
    op.create_index(op.f('ix__signup_throttle_window_start'), '_signup_throttle', ['window_start'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix__signup_throttle_window_start'), table_name='_signup_throttle')
    op.drop_table('_signup_throttle')
