"""Kit-side choices that Kit's plugin docs leave open, named in one place.

The sandbox's email editor (``editor.py``) plays Kit's side of content
blocks (KIT_PLATFORM.md §8). Where the docs say *that* Kit does something but
not exactly *how*, the sandbox picks one way, here, so that a reader (and a
test) can see every guess at once, and change it in one place when Kit says
otherwise.
"""

from __future__ import annotations

#: The styles Kit sends with every block request, as ``{"styles": ...}``: one
#: object per tag. The docs show the tags (``p``, ``h1`` ... ``a``), not the
#: property names: the sandbox sends them camelCased, as a JavaScript editor
#: would (``fontSize``), and the app takes CSS names too.
STYLES: dict[str, dict[str, str]] = {
    "p": {
        "fontFamily": "Helvetica, Arial, sans-serif",
        "fontSize": "16px",
        "lineHeight": "1.5",
        "color": "#353535",
    },
    "h1": {"fontSize": "28px", "fontWeight": "700", "color": "#1d1d1d"},
    "h2": {"fontSize": "22px", "fontWeight": "700", "color": "#1d1d1d"},
    "h3": {"fontSize": "18px", "fontWeight": "700", "color": "#1d1d1d"},
    "li": {"fontSize": "16px", "lineHeight": "1.5", "color": "#353535"},
    "a": {"color": "#1677be", "textDecoration": "underline"},
}

#: The search request's body. Kit's docs: "an empty search parameter" on load,
#: "the user's search query" while typing, and "the value of the option they
#: had previously selected" when a draft is reopened; Kit's demo reads
#: ``search`` from a JSON body. The sandbox sends ``{"search": ...}`` in all
#: three cases (the saved value in ``search`` too), plus the block's current
#: ``settings`` (what a dependent search may need).
SEARCH_FIELD = "search"

#: How long the editor waits for the app's answer (Kit documents none).
REQUEST_TIMEOUT_SECONDS = 10.0

#: The content type of Kit's POSTs: JSON. (Kit's samples for the token
#: endpoint send JSON under a form type; the block requests' type is not
#: documented.)
CONTENT_TYPE = "application/json"

#: A component's ``default``, when the settings JSON gives one, is the value
#: the editor starts with (and sends) for a newly inserted block.
USE_DEFAULTS = True

#: A block is requested when it is inserted, whenever a setting changes
#: (the creator presses Apply: the sandbox has no JavaScript), and on Refresh,
#: as the docs list. Kit waits for the required settings first.
RENDER_ON_INSERT = True

#: A reopened draft keeps each block's last HTML (the docs say nothing of a
#: new request then) and asks each search setting for its saved value's label.
RERENDER_ON_REOPEN = False

#: The Liquid a dynamic block's preview understands: ``{{ subscriber.KEY }}``
#: (first_name, email_address, or a custom field's key), its ``| default:
#: "text"`` filter, and ``{% if subscriber.KEY %} ... {% endif %}``. Kit runs
#: full Liquid at send time; the sandbox previews this subset, for the
#: subscribers named below, and leaves anything else as it is.
PREVIEW_SUBSCRIBERS = 2  # one with a first name, one without
