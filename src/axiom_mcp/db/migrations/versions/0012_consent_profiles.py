"""_oauth_consents.restricted and profile_id: what each connected app may see

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29 17:50:00
"""

from alembic import op
import sqlalchemy as sa

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('_oauth_consents') as batch:
        batch.add_column(sa.Column('restricted', sa.Boolean(), server_default='0', nullable=False))
        batch.add_column(sa.Column('profile_id', sa.String(length=15), nullable=True))
        batch.create_foreign_key(
            op.f('fk__oauth_consents_profile_id_clients'), 'clients', ['profile_id'], ['id'], ondelete='SET NULL'
        )


def downgrade() -> None:
    with op.batch_alter_table('_oauth_consents') as batch:
        batch.drop_constraint(op.f('fk__oauth_consents_profile_id_clients'), type_='foreignkey')
        batch.drop_column('profile_id')
        batch.drop_column('restricted')
