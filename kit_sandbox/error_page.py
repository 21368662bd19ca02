"""The sandbox's HTML error page, for the App Store, the consent screen and
any HTTP error on a page (``factory.py``)."""

from __future__ import annotations

from flask import render_template


def error_page(title: str, detail: str, status: int) -> tuple[str, int]:
    return render_template("sandbox/error.html", title=title, detail=detail), status
