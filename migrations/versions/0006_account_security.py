"""account security: session tokens, verified e-mail, single-use reset links

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 23:20:00.000000

"""
import secrets
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_token', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('email_verified_at', sa.DateTime(timezone=True), nullable=True))

    # The accounts made before e-mail verification keep signing in: their
    # addresses count as verified from now. Each gets its own session token
    # (the sessions made before the upgrade end: they carry none).
    bind = op.get_bind()
    now = datetime.now(timezone.utc)
    if bind.dialect.name == 'sqlite':
        now = now.replace(tzinfo=None)  # as app.crypto.UTCDateTime stores it
    users = sa.table(
        'users',
        sa.column('id', sa.Integer()),
        sa.column('session_token', sa.String(length=64)),
        sa.column('email_verified_at', sa.DateTime(timezone=True)),
    )
    for user_id in bind.execute(sa.select(users.c.id)).scalars().all():
        bind.execute(
            users.update()
            .where(users.c.id == user_id)
            .values(session_token=secrets.token_urlsafe(32), email_verified_at=now)
        )

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('session_token', existing_type=sa.String(length=64), nullable=False)


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('email_verified_at')
        batch_op.drop_column('session_token')
