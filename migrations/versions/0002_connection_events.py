"""connection events, refresh-due index

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 14:34:35.412252

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('connection_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('connection_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], ['kit_connections.id'], name=op.f('fk_connection_events_connection_id_kit_connections'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_connection_events'))
    )
    with op.batch_alter_table('connection_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_connection_events_connection_id'), ['connection_id'], unique=False)

    with op.batch_alter_table('kit_connections', schema=None) as batch_op:
        batch_op.create_index('ix_kit_connections_status_expires_at', ['status', 'expires_at'], unique=False)



def downgrade():
    with op.batch_alter_table('kit_connections', schema=None) as batch_op:
        batch_op.drop_index('ix_kit_connections_status_expires_at')

    with op.batch_alter_table('connection_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_connection_events_connection_id'))

    op.drop_table('connection_events')
