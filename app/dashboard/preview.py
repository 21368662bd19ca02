"""A broadcast's content, made safe to show: Kit hands back the creator's
HTML as it was written (or pasted, or imported), so the preview treats it as
untrusted.

Three layers, each enough on its own for what it covers:
1. nh3 (the binding to ammonia, a maintained allow-list sanitiser) keeps only
   the tags and attributes of an email's layout: no script, no event handler,
   no <base>, <meta>, <style>, <svg>, <form>, no `javascript:` URL, and no
   CSS that loads anything (a `style` with `url(` goes whole).
2. Images load only after the creator asks ("Load images"): until then an
   <img> keeps its alt text and loses its `src`, so no tracking pixel fires
   and the sender learns nothing of the creator's visit.
3. The preview is its own same-origin page, served with a policy of its own
   (`PREVIEW_POLICY`): sandboxed (no script, an opaque origin), nothing
   loaded but images, and those only when asked; shown in an <iframe
   sandbox> on the broadcast's page.
"""

from __future__ import annotations

from dataclasses import dataclass

import nh3

TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "center", "code", "col",
    "colgroup", "div", "em", "figcaption", "figure", "font", "h1", "h2", "h3",
    "h4", "h5", "h6", "hr", "i", "img", "li", "ol", "p", "pre", "s", "small",
    "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th",
    "thead", "tr", "u", "ul",
}  # fmt: skip
CELL = {"align", "valign", "width", "height", "colspan", "rowspan", "bgcolor"}
ATTRIBUTES = {
    "*": {"style", "align", "title", "dir", "lang"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "table": {"width", "cellpadding", "cellspacing", "border", "bgcolor", "role"},
    "td": CELL,
    "th": CELL,
    "col": {"width", "span"},
    "font": {"color", "size", "face"},
}
#: A style that names one of these could load something or run something.
UNSAFE_STYLE = ("url(", "image(", "image-set(", "expression(", "\\", "@import")

#: What the preview's own page may do: show the sanitised HTML with its inline
#: styles; images only when asked (`img-src` widened by `policy`).
PREVIEW_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src {images}; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'self'; "
    "sandbox allow-popups allow-popups-to-escape-sandbox"
)

#: The page around the content: a frame of our own, with a visible box where
#: an image was held back.
FRAME = """<!doctype html><html><head><meta charset="utf-8">
<style>body{{margin:0;padding:16px;font:16px/1.5 system-ui,sans-serif;color:#1f2328;
background:#fff;overflow-wrap:anywhere}}img{{max-width:100%;height:auto}}
img:not([src]){{display:inline-block;min-width:8em;min-height:3em;padding:.5em;
border:1px dashed #6e7781;background:#f6f8fa;color:#57606a;font-size:13px}}</style>
</head><body>{body}</body></html>"""


@dataclass(frozen=True)
class Preview:
    html: str
    #: How many images were held back (0 when loaded, or when there are none).
    held_back: int


def sanitise(content: str, images: bool = False) -> Preview:
    """`content` with only what is safe to show; images' `src` kept only when
    `images` (the creator asked)."""
    held = 0

    def allow(element: str, attribute: str, value: str) -> str | None:
        nonlocal held
        if attribute == "style" and any(u in value.lower() for u in UNSAFE_STYLE):
            return None
        if element == "img" and attribute == "src" and not images:
            held += 1
            return None
        return value

    html = nh3.clean(
        content,
        tags=TAGS,
        clean_content_tags={"script", "style", "title", "noscript", "template"},
        attributes=ATTRIBUTES,
        attribute_filter=allow,
        url_schemes={"http", "https", "mailto"},
        url_relative="deny",  # it would resolve against this app
        link_rel="noopener noreferrer nofollow",
        set_tag_attribute_values={"a": {"target": "_blank"}},
        strip_comments=True,
    )
    return Preview(html, held)


def page(content: str, images: bool) -> str:
    """The preview's whole page (its policy is `policy(images)`)."""
    return FRAME.format(body=sanitise(content, images).html)


def policy(images: bool) -> str:
    return PREVIEW_POLICY.format(images="https: data:" if images else "data:")
