"""refresh claim: no transaction across a call to Kit

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 23:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('kit_connections', schema=None) as batch_op:
        batch_op.add_column(sa.Column('refresh_claim', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('refresh_claimed_until', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('kit_connections', schema=None) as batch_op:
        batch_op.drop_column('refresh_claimed_until')
        batch_op.drop_column('refresh_claim')
