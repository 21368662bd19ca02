"""connections: the Kit account's sending time zone, whose days Kit counts in

`kit_connections.timezone` (IANA name) and `timezone_label` (Kit's name for
it), read with the account at install and whenever the overview reads the
account again: pages know the zone without asking Kit. Existing rows start
with "" (UTC until the overview reads their account).

The stored growth days are dropped: they were taken once their day had ended
in UTC, which for an account west of UTC is hours before it ended in the
account's zone, so some hold part of a day. They are Kit's figures, fetched
again by the next hourly sync or overview (app/stored_days.py).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 03:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("kit_connections") as batch:
        batch.add_column(
            sa.Column("timezone", sa.String(length=64), nullable=False, server_default="")
        )
        batch.add_column(
            sa.Column(
                "timezone_label", sa.String(length=100), nullable=False, server_default=""
            )
        )
    # The default only fills the rows already there; the model sets it after.
    with op.batch_alter_table("kit_connections") as batch:
        batch.alter_column("timezone", server_default=None)
        batch.alter_column("timezone_label", server_default=None)
    op.execute("DELETE FROM growth_days")


def downgrade():
    with op.batch_alter_table("kit_connections") as batch:
        batch.drop_column("timezone_label")
        batch.drop_column("timezone")
