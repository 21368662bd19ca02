"""Kit's plugin side (KIT_PLATFORM.md §8): the plugin OAuth client an install
runs first (``views.py``), and the token pair kept per account
(``tokens.py``: ``bearer_for`` is what plugin calls send)."""

from .views import bp

__all__ = ["bp"]
