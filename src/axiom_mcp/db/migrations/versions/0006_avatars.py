"""avatars: each person's picture, resized, in the database

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 17:20:00
"""

from alembic import op
import sqlalchemy as sa

import axiom_mcp.db.tables

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('avatars',
    sa.Column('user_id', sa.String(length=15), nullable=False),
    sa.Column('content_type', sa.String(length=64), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('updated', axiom_mcp.db.tables.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_avatars_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_avatars'))
    )


def downgrade() -> None:
    op.drop_table('avatars')
