"""_deleted_records: a deleted record kept whole for a short while, so its owner can undo the delete

Revision ID: 0018
Revises: 0014
Create Date: 2026-11-29 20:00:00

(0015-0017 are taken by work merged beside this one; the lead renumbers ``down_revision`` at merge.)
"""

from alembic import op
import sqlalchemy as sa

import axiom_mcp.db.tables

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('_deleted_records',
    sa.Column('id', sa.String(length=15), nullable=False),
    sa.Column('user_id', sa.String(length=15), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('record_id', sa.String(length=15), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('snapshot', sa.JSON(), nullable=False),
    sa.Column('blob_keys', sa.JSON(), nullable=False),
    sa.Column('deleted', axiom_mcp.db.tables.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk__deleted_records_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk__deleted_records'))
    )
    op.create_index('ix__deleted_records_user_kind_deleted', '_deleted_records', ['user_id', 'kind', 'deleted'], unique=False)
    op.create_index(op.f('ix__deleted_records_user_id'), '_deleted_records', ['user_id'], unique=False)
    op.create_index(op.f('ix__deleted_records_deleted'), '_deleted_records', ['deleted'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix__deleted_records_deleted'), table_name='_deleted_records')
    op.drop_index(op.f('ix__deleted_records_user_id'), table_name='_deleted_records')
    op.drop_index('ix__deleted_records_user_kind_deleted', table_name='_deleted_records')
    op.drop_table('_deleted_records')
