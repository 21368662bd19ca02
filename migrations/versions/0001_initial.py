"""users, Kit connections, OAuth attempts

Revision ID: 0001
Revises:
Create Date: 2026-11-28 14:25:08.572739

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    op.create_table('kit_connections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kit_account_id', sa.String(length=64), nullable=False),
    sa.Column('tenant_name', sa.String(length=255), nullable=False),
    sa.Column('account_name', sa.String(length=255), nullable=False),
    sa.Column('account_email', sa.String(length=254), nullable=False),
    sa.Column('access_token', sa.Text(), nullable=True),
    sa.Column('refresh_token', sa.Text(), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('token_issued_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('last_refreshed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_kit_connections_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kit_connections')),
    sa.UniqueConstraint('user_id', 'kit_account_id', 'tenant_name', name=op.f('uq_kit_connections_user_id_kit_account_id_tenant_name'))
    )
    with op.batch_alter_table('kit_connections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kit_connections_user_id'), ['user_id'], unique=False)

    op.create_table('oauth_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('state_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('code_verifier', sa.Text(), nullable=False),
    sa.Column('return_to', sa.String(length=2048), nullable=True),
    sa.Column('tenant_name', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_oauth_attempts_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oauth_attempts')),
    sa.UniqueConstraint('state_hash', name=op.f('uq_oauth_attempts_state_hash'))
    )
    with op.batch_alter_table('oauth_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oauth_attempts_user_id'), ['user_id'], unique=False)



def downgrade():
    with op.batch_alter_table('oauth_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oauth_attempts_user_id'))

    op.drop_table('oauth_attempts')
    with op.batch_alter_table('kit_connections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kit_connections_user_id'))

    op.drop_table('kit_connections')
    op.drop_table('users')
