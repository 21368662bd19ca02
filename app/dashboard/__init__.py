from flask import Blueprint

bp = Blueprint("dashboard", __name__)

from app.dashboard import audience, times, views  # noqa: E402, F401  (routes, filter)
