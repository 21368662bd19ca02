from flask import Blueprint

bp = Blueprint("install", __name__)

from app.install import views  # noqa: E402, F401  (registers the routes)
