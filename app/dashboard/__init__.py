from flask import Blueprint

bp = Blueprint("dashboard", __name__)

from app.dashboard import audience, lists, times, views  # noqa: E402, F401
