"""The settings of the app's listing in Kit's App Store: its app id (installs
started on the app's own site go through Kit's install link) and the help,
support and privacy addresses Kit's review asks for (KIT_PLATFORM.md §5c).

Each address is optional: unset, the app serves its own page (/help,
/support, /privacy). Kit wants every one of them on https, so production
refuses an http one at start-up rather than at review.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from app.config.values import ConfigError, Text

LISTING_URLS = ("HELP_URL", "SUPPORT_URL", "PRIVACY_URL")
# Kit's app ids are numbers: `k_<id>` in the install link's `k_app_id`.
APP_ID = re.compile(r"[0-9]{1,20}")
EMAIL = re.compile(r"[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+")


def listing_config(text: Text, production: bool) -> dict[str, Any]:
    app_id = text("KIT_APP_ID")
    if app_id is not None and not APP_ID.fullmatch(app_id):
        raise ConfigError(
            f"KIT_APP_ID must be your app's number in Kit's App Store (the "
            f"<id> of https://app.kit.com/apps/<id>), not {app_id[:40]!r}."
        )
    config: dict[str, Any] = {"KIT_APP_ID": app_id}
    for name in LISTING_URLS:
        config[name] = _address(name, text(name), production)
    email = text("SUPPORT_EMAIL")
    if email is not None and not EMAIL.fullmatch(email):
        raise ConfigError(
            "SUPPORT_EMAIL must be one address, such as help@example.com."
        )
    config["SUPPORT_EMAIL"] = email
    return config


def _address(name: str, value: str | None, production: bool) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{name} must be a full URL, such as https://example.com/…")
    if production and parts.scheme != "https":
        raise ConfigError(
            f"{name} is {value}: Kit's App Store review asks for https, and "
            f"production refuses anything else. Use https://{parts.netloc}"
            f"{parts.path}, or unset {name} to serve the app's own page."
        )
    return value
