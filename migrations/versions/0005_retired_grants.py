"""retired grants: every pair the app stops using, until revoked

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 23:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('retired_grants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('connection_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('access_token', sa.Text(), nullable=False),
    sa.Column('refresh_token', sa.Text(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], ['kit_connections.id'], name=op.f('fk_retired_grants_connection_id_kit_connections'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_retired_grants'))
    )
    with op.batch_alter_table('retired_grants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_retired_grants_connection_id'), ['connection_id'], unique=False)
        batch_op.create_index('ix_retired_grants_next_attempt_at', ['next_attempt_at'], unique=False)


def downgrade():
    with op.batch_alter_table('retired_grants', schema=None) as batch_op:
        batch_op.drop_index('ix_retired_grants_next_attempt_at')
        batch_op.drop_index(batch_op.f('ix_retired_grants_connection_id'))

    op.drop_table('retired_grants')
