"""growth days: Kit's finished days kept locally

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 21:37:09.666667

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('growth_days',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('connection_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('subscribers', sa.Integer(), nullable=False),
    sa.Column('new_subscribers', sa.Integer(), nullable=False),
    sa.Column('cancellations', sa.Integer(), nullable=False),
    sa.Column('net_new_subscribers', sa.Integer(), nullable=False),
    sa.Column('fetched_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], ['kit_connections.id'], name=op.f('fk_growth_days_connection_id_kit_connections'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_growth_days')),
    sa.UniqueConstraint('connection_id', 'day', name=op.f('uq_growth_days_connection_id_day'))
    )


def downgrade():
    op.drop_table('growth_days')
