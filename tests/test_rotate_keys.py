"""`flask kit rotate-keys`: every encrypted column re-encrypted under the new
key, so the old key can go."""

from __future__ import annotations

from cryptography.fernet import Fernet
from sqlalchemy import Text, select, type_coerce

from app.extensions import db
from app.kit import grants
from app.kit.tokens import valid_access_token
from app.models import KitConnection, RetiredGrant, WebhookEndpoint
from tests.support.accounts import signed_in
from tests.support.installing import install
from tests.support.rows import stored
from tests.support.settings import TEST_ENCRYPTION_KEY
from tests.support.webhooks import add_endpoint


def test_rotate_keys_re_encrypts_everything_under_the_new_key(
    make_app, kit, kit_browser
):
    old_app = make_app()
    client = old_app.test_client()
    signed_in(client)
    install(client, kit_browser)
    tokens = stored(old_app)

    new_key = Fernet.generate_key().decode()
    both = make_app(TOKEN_ENCRYPTION_KEYS=f"{new_key},{TEST_ENCRYPTION_KEY}")
    result = both.test_cli_runner().invoke(args=["kit", "rotate-keys"])
    assert result.exit_code == 0, result.output
    # Two tokens, one PKCE verifier, and the webhook signing secret of the install.
    assert "rotated 4" in result.output

    with both.app_context():
        raw = db.session.execute(
            select(
                type_coerce(KitConnection.access_token, Text),
                type_coerce(KitConnection.refresh_token, Text),
            )
        ).one()
    for ciphertext, plain in zip(
        raw, (tokens.access_token, tokens.refresh_token), strict=True
    ):
        assert Fernet(new_key).decrypt(ciphertext.encode()).decode() == plain

    # The old key can go now: an app with only the new key reads everything.
    new_only = make_app(TOKEN_ENCRYPTION_KEYS=new_key)
    with new_only.app_context():
        assert (
            valid_access_token(1, new_only.extensions["kit_settings"])
            == tokens.access_token
        )


def test_rotate_keys_covers_every_encrypted_column(make_app, kit, kit_browser):
    """Retired pairs and webhook signing secrets too: every EncryptedText
    column of the models, with no list to forget."""
    old_app = make_app()
    client = old_app.test_client()
    signed_in(client)
    install(client, kit_browser)
    with old_app.app_context():
        db.session.query(WebhookEndpoint).delete()
        grants.retire(db.session, "old-access", "old-refresh", RetiredGrant.REPLACED, 1)
        db.session.commit()
    add_endpoint(old_app, secret="whsec-current", previous_secret="whsec-previous")

    new_key = Fernet.generate_key().decode()
    both = make_app(TOKEN_ENCRYPTION_KEYS=f"{new_key},{TEST_ENCRYPTION_KEY}")
    result = both.test_cli_runner().invoke(args=["kit", "rotate-keys"])
    assert result.exit_code == 0, result.output
    assert "rotated 7" in result.output  # 2 tokens, 1 verifier, 2 retired, 2 secrets

    new_only = make_app(TOKEN_ENCRYPTION_KEYS=new_key)
    with new_only.app_context():
        retired = db.session.scalars(select(RetiredGrant)).one()
        assert (retired.access_token, retired.refresh_token) == (
            "old-access",
            "old-refresh",
        )
        endpoint = db.session.scalars(select(WebhookEndpoint)).one()
        assert (endpoint.secret, endpoint.previous_secret) == (
            "whsec-current",
            "whsec-previous",
        )
