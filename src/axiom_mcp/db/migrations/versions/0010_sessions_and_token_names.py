"""_web_sessions.user_agent and last_seen; _oauth_access_tokens.name

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 17:50:00

The account page lists signed-in browsers (which device, last seen) and API tokens by name.
"""

from alembic import op
import sqlalchemy as sa

import axiom_mcp.db.tables

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('_web_sessions') as batch:
        batch.add_column(sa.Column('user_agent', sa.String(length=300), server_default='', nullable=False))
        batch.add_column(sa.Column('last_seen', axiom_mcp.db.tables.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('_oauth_access_tokens') as batch:
        batch.add_column(sa.Column('name', sa.String(length=100), server_default='', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('_oauth_access_tokens') as batch:
        batch.drop_column('name')
    with op.batch_alter_table('_web_sessions') as batch:
        batch.drop_column('last_seen')
        batch.drop_column('user_agent')
