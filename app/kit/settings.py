"""Where Kit is and who we are to it, built once from the app config."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

USER_AGENT = "KitAppStarter/0.1 (+https://github.com/kit-app-starter)"


@dataclass(frozen=True)
class KitSettings:
    client_id: str
    client_secret: str | None
    authorize_url: str
    token_url: str
    revoke_url: str
    api_url: str
    app_url: str
    timeout: float = 10.0
    # Kit's token endpoint: its answer is a rotated pair, the only live copy of
    # the grant, so it gets longer than an API call (never less than one).
    token_timeout: float = 30.0
    user_agent: str = USER_AGENT

    @property
    def public_client(self) -> bool:
        """No secret: Kit's "Secure application" is off and PKCE alone protects us."""
        return not self.client_secret

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> KitSettings:
        return cls(
            client_id=config["KIT_CLIENT_ID"],
            client_secret=config.get("KIT_CLIENT_SECRET"),
            authorize_url=config["KIT_AUTHORIZE_URL"],
            token_url=config["KIT_TOKEN_URL"],
            revoke_url=config["KIT_REVOKE_URL"],
            api_url=config["KIT_API_URL"],
            app_url=config["KIT_APP_URL"],
            timeout=float(config.get("KIT_HTTP_TIMEOUT", 10.0)),
            token_timeout=max(
                float(config.get("KIT_TOKEN_TIMEOUT", 30.0)),
                float(config.get("KIT_HTTP_TIMEOUT", 10.0)),
            ),
        )
