"""activity: what each connected app did (calls, record ids, outcome; never content)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 17:00:00
"""

from alembic import op
import sqlalchemy as sa

import axiom_mcp.db.tables

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('activity',
    sa.Column('id', sa.String(length=15), nullable=False),
    sa.Column('user_id', sa.String(length=15), nullable=False),
    sa.Column('client_id', sa.String(length=2048), nullable=False),
    sa.Column('at', axiom_mcp.db.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('surface', sa.String(length=8), nullable=False),
    sa.Column('action', sa.String(length=200), nullable=False),
    sa.Column('record_ids', sa.JSON(), nullable=False),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.Column('error', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_activity_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activity'))
    )
    op.create_index('ix_activity_user_client_at', 'activity', ['user_id', 'client_id', 'at'], unique=False)
    op.create_index(op.f('ix_activity_at'), 'activity', ['at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_activity_at'), table_name='activity')
    op.drop_index('ix_activity_user_client_at', table_name='activity')
    op.drop_table('activity')
