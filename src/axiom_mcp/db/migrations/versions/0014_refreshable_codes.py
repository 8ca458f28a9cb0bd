"""_oauth_authorization_codes.refreshable: whether the person let the app stay connected

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29 18:00:00
"""

from alembic import op
import sqlalchemy as sa

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('_oauth_authorization_codes') as batch:
        batch.add_column(sa.Column('refreshable', sa.Boolean(), server_default='1', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('_oauth_authorization_codes') as batch:
        batch.drop_column('refreshable')
