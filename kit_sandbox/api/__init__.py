"""Kit's API v4 (``/v4/...``, bearer tokens): see ``blueprint.py``."""

from ..webhooks import (
    api_views,  # noqa: F401  (/v4/webhook_endpoints on bp)
    legacy_views,  # noqa: F401  (/v4/webhooks on bp)
)
from . import account, content, members, subscribers, tags  # noqa: F401  (views)
from .blueprint import bp

__all__ = ["bp"]
