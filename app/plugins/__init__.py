"""Kit calls the app (plugin access, KIT_PLATFORM.md §8): the OAuth server Kit
signs creators in with (server.py, kit_request.py, views.py), the link from a
plugin grant to the Kit connection of the same install (links.py), Kit's
uninstall notice (uninstall.py), the guard every plugin route wears
(guard.py), and the content blocks Kit's email editor calls (blocks/,
block_views.py, html.py, kept.py)."""

from flask import Blueprint, Flask

bp = Blueprint("plugins", __name__, url_prefix="/plugins")


def init_app(app: Flask) -> None:
    from app.plugins import server

    server.init_app(app)
    app.register_blueprint(bp)


from app.plugins import block_views, views  # noqa: E402, F401  (registers the routes)
