"""plugins: Kit as our OAuth client (grants, codes, tokens), and uninstalls

`plugin_grants`, `plugin_codes` and `plugin_tokens` hold what the app's own
OAuth server (app/plugins/) issues to Kit, codes and tokens as SHA-256 hashes
only. `kit_connections.uninstalled_at` is when Kit's revoke call said the
creator uninstalled the app; existing rows start with NULL.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 06:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('plugin_grants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('connection_id', sa.Integer(), nullable=True),
    sa.Column('client_id', sa.String(length=255), nullable=False),
    sa.Column('scope', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_reason', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['connection_id'], ['kit_connections.id'], name=op.f('fk_plugin_grants_connection_id_kit_connections'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_plugin_grants_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plugin_grants'))
    )
    with op.batch_alter_table('plugin_grants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plugin_grants_connection_id'), ['connection_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_plugin_grants_user_id'), ['user_id'], unique=False)

    op.create_table('plugin_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('grant_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.String(length=255), nullable=False),
    sa.Column('redirect_uri', sa.String(length=2048), nullable=False),
    sa.Column('scope', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['grant_id'], ['plugin_grants.id'], name=op.f('fk_plugin_codes_grant_id_plugin_grants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plugin_codes')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_plugin_codes_code_hash'))
    )
    with op.batch_alter_table('plugin_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plugin_codes_grant_id'), ['grant_id'], unique=False)

    op.create_table('plugin_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('grant_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.String(length=255), nullable=False),
    sa.Column('access_token_hash', sa.String(length=64), nullable=False),
    sa.Column('refresh_token_hash', sa.String(length=64), nullable=False),
    sa.Column('scope', sa.String(length=255), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['grant_id'], ['plugin_grants.id'], name=op.f('fk_plugin_tokens_grant_id_plugin_grants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plugin_tokens')),
    sa.UniqueConstraint('access_token_hash', name=op.f('uq_plugin_tokens_access_token_hash')),
    sa.UniqueConstraint('refresh_token_hash', name=op.f('uq_plugin_tokens_refresh_token_hash'))
    )
    with op.batch_alter_table('plugin_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plugin_tokens_grant_id'), ['grant_id'], unique=False)

    with op.batch_alter_table('kit_connections', schema=None) as batch_op:
        batch_op.add_column(sa.Column('uninstalled_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('kit_connections', schema=None) as batch_op:
        batch_op.drop_column('uninstalled_at')
    op.drop_table('plugin_tokens')
    op.drop_table('plugin_codes')
    op.drop_table('plugin_grants')
