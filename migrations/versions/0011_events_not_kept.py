"""connections: the Kit event types the creator does not want kept

`kit_connections.events_not_kept`: Kit's event types (space-separated) that
the creator switched off on the app's settings page (`/kit/settings`). The
webhook receiver acknowledges their deliveries and stores nothing. Existing
rows start with "" (every type kept, as before).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 06:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("kit_connections") as batch:
        batch.add_column(
            sa.Column(
                "events_not_kept", sa.String(length=2048), nullable=False, server_default=""
            )
        )
    # The default only fills the rows already there; the model sets it after.
    with op.batch_alter_table("kit_connections") as batch:
        batch.alter_column("events_not_kept", server_default=None)


def downgrade():
    with op.batch_alter_table("kit_connections") as batch:
        batch.drop_column("events_not_kept")
