"""tokens: a refresh whose answer never arrived is remembered on its connection

`kit_connections.unsettled_refresh`: SHA-256 of the refresh token sent to Kit
when no answer came back (Kit silent past KIT_TOKEN_TIMEOUT, a worker killed
mid-call). A later `invalid_grant` for that token is then "refresh outcome
unknown", not "the creator revoked" (app/kit/tokens.py).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 00:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("kit_connections") as batch:
        batch.add_column(sa.Column("unsettled_refresh", sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table("kit_connections") as batch:
        batch.drop_column("unsettled_refresh")
