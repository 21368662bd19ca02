"""The pages Kit's App Store review asks for (KIT_PLATFORM.md §5c): a help
article about installing and first use (/help), a way to get support
(/support) and a privacy policy generated from what the app stores
(/privacy, privacy.py). A configured HELP_URL, SUPPORT_URL or PRIVACY_URL
replaces the page: the route then sends the browser there, and every link
(the footer, `flask kit doctor --review`) names that address instead."""

from flask import Blueprint

bp = Blueprint("pages", __name__)

from app.pages import views  # noqa: E402, F401  (registers the routes)
