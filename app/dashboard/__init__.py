from flask import Blueprint

bp = Blueprint("dashboard", __name__)

from app.dashboard import audience, lists, tags, views, when  # noqa: E402, F401
