"""_one_time_links: mailed single-use links (password reset, email confirmation)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 17:00:00

A person who forgot their password, or confirms an address, follows a link mailed to them. The
table keeps only the SHA-256 of each link's token, when it expires and when it was used.
"""

from alembic import op
import sqlalchemy as sa

import axiom_mcp.db.tables

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('_one_time_links',
    sa.Column('id', sa.String(length=15), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('purpose', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=15), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('created', axiom_mcp.db.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires', axiom_mcp.db.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used', axiom_mcp.db.tables.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk__one_time_links_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk__one_time_links')),
    sa.UniqueConstraint('token_hash', name=op.f('uq__one_time_links_token_hash'))
    )
    op.create_index(op.f('ix__one_time_links_expires'), '_one_time_links', ['expires'], unique=False)
    op.create_index(op.f('ix__one_time_links_user_id'), '_one_time_links', ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix__one_time_links_user_id'), table_name='_one_time_links')
    op.drop_index(op.f('ix__one_time_links_expires'), table_name='_one_time_links')
    op.drop_table('_one_time_links')
