"""legacy webhooks: the rules at Kit's /v4/webhooks for the events Webhooks 2.0
refuses (purchases, link clicks), and for accounts where 2.0 answers 404

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 06:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('legacy_webhooks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('connection_id', sa.Integer(), nullable=False),
    sa.Column('event', sa.String(length=64), nullable=False),
    sa.Column('param', sa.String(length=1000), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('kit_rule_id', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('last_delivery_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], ['kit_connections.id'], name=op.f('fk_legacy_webhooks_connection_id_kit_connections'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_legacy_webhooks')),
    sa.UniqueConstraint('connection_id', 'event', 'param', name=op.f('uq_legacy_webhooks_connection_id_event_param')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_legacy_webhooks_key_hash'))
    )
    with op.batch_alter_table('kit_connections', schema=None) as batch_op:
        batch_op.add_column(sa.Column('legacy_rules_until', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('kit_connections', schema=None) as batch_op:
        batch_op.drop_column('legacy_rules_until')
    op.drop_table('legacy_webhooks')
