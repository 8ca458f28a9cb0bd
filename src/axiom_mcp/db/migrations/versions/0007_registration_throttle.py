"""_registration_throttle: dynamic client registrations per address

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 17:00:00

The registration limit was kept in one process's memory and keyed by the exact address: each
instance counted on its own, and an IPv6 subscriber got a fresh count from every address of its /64.
"""

from alembic import op
import sqlalchemy as sa

import axiom_mcp.db.tables

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('_registration_throttle',
    sa.Column('key', sa.String(length=400), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('window_start', axiom_mcp.db.tables.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk__registration_throttle'))
    )
    op.create_index(op.f('ix__registration_throttle_window_start'), '_registration_throttle', ['window_start'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix__registration_throttle_window_start'), table_name='_registration_throttle')
    op.drop_table('_registration_throttle')
