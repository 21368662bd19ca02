"""Kit's App Store pages (``views.py``, the ``store`` blueprint)."""

from .views import bp

__all__ = ["bp"]
