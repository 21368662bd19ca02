"""users: when the creator agreed to what the app keeps about a Kit account

`users.data_agreed_at`: set when the creator continues to Kit from a page that
shows the notice of what the app keeps (sign-in on the way to Kit, the
"Before you connect" page, the plugin consent page). Existing users start with
NULL: the next install or reconnect asks them once.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 12:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("data_agreed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("users") as batch:
        batch.drop_column("data_agreed_at")
