"""webhooks: endpoints at Kit and the events they delivered

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 23:43:48.960495

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('webhook_endpoints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('connection_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('kit_endpoint_id', sa.String(length=64), nullable=True),
    sa.Column('secret', sa.Text(), nullable=True),
    sa.Column('previous_secret', sa.Text(), nullable=True),
    sa.Column('previous_secret_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('last_delivery_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=255), nullable=True),
    sa.Column('checked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], ['kit_connections.id'], name=op.f('fk_webhook_endpoints_connection_id_kit_connections'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_endpoints')),
    sa.UniqueConstraint('connection_id', name=op.f('uq_webhook_endpoints_connection_id')),
    sa.UniqueConstraint('key', name=op.f('uq_webhook_endpoints_key'))
    )
    op.create_table('webhook_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('connection_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('delivery_id', sa.BigInteger(), nullable=True),
    sa.Column('type', sa.String(length=64), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('subscriber_email', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('data', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], ['kit_connections.id'], name=op.f('fk_webhook_events_connection_id_kit_connections'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_events')),
    sa.UniqueConstraint('connection_id', 'event_id', name=op.f('uq_webhook_events_connection_id_event_id'))
    )
    with op.batch_alter_table('webhook_events', schema=None) as batch_op:
        batch_op.create_index('ix_webhook_events_connection_occurred', ['connection_id', 'occurred_at', 'id'], unique=False)
        batch_op.create_index('ix_webhook_events_connection_id_id', ['connection_id', 'id'], unique=False)
        batch_op.create_index('ix_webhook_events_received_at', ['received_at'], unique=False)



def downgrade():
    with op.batch_alter_table('webhook_events', schema=None) as batch_op:
        batch_op.drop_index('ix_webhook_events_received_at')
        batch_op.drop_index('ix_webhook_events_connection_id_id')
        batch_op.drop_index('ix_webhook_events_connection_occurred')

    op.drop_table('webhook_events')
    op.drop_table('webhook_endpoints')
