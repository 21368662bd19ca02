from flask import Blueprint

from app import mail

bp = Blueprint("auth", __name__)
# The mailer is bound with the blueprint that sends mail.
bp.record_once(lambda state: mail.init_app(state.app))

from app.auth import mail_pages, views  # noqa: E402, F401  (registers the routes)
