"""files: attached files' names, sizes, types and hashes; their bytes are blobs

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 17:30:00
"""

from alembic import op
import sqlalchemy as sa

import axiom_mcp.db.tables

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('files',
    sa.Column('id', sa.String(length=15), nullable=False),
    sa.Column('user_id', sa.String(length=15), nullable=False),
    sa.Column('item_id', sa.String(length=15), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('content_type', sa.String(length=255), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('storage_key', sa.String(length=64), nullable=False),
    sa.Column('created', axiom_mcp.db.tables.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_files_item_id_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_files_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_files')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_files_storage_key'))
    )
    op.create_index('ix_files_item_created', 'files', ['item_id', 'created'], unique=False)
    op.create_index(op.f('ix_files_user_id'), 'files', ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_files_user_id'), table_name='files')
    op.drop_index('ix_files_item_created', table_name='files')
    op.drop_table('files')
