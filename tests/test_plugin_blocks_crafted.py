"""Crafted settings and styles (huge, nested, script in values) get a 4xx or
escaped output from every block, never a 500 and never markup of theirs."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.extensions import db
from app.models import KitConnection
from app.plugins import html
from app.plugins.blocks import BLOCKS, answer
from tests.conftest import GONE
from tests.support.accounts import create_user
from tests.support.installing import connect

rejections = pytest.importorskip("kit_sandbox.plugins.kit_html", reason=GONE).rejections

HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "{{ subscriber.email_address }}",
    "{% for x in (1..9999999) %}x{% endfor %}",
    "javascript:alert(1)",
    "red; background: url(https://evil.example/x.png)",
    "expression(alert(1))",
    "</style><script>x</script>",
    "x" * 6000,
    "\x00\ud7ff\U0010ffff",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(HOSTILE),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(max_size=10), inner, max_size=4),
    ),
    max_leaves=12,
)
names = st.sampled_from(
    sorted({c["name"] for b in BLOCKS for c in b.settings} | {"x", "__proto__"})
)
css_names = st.sampled_from(
    ["color", "fontSize", "font-family", "backgroundImage", "x;y"]
)
crafted_settings = st.one_of(values, st.dictionaries(names, values, max_size=8))
crafted_styles = st.one_of(
    values,
    st.dictionaries(
        st.sampled_from(["p", "h2", "a", "li", "ul", "<script>", "p style"]),
        st.one_of(values, st.dictionaries(css_names, values, max_size=4)),
        max_size=5,
    ),
)


@pytest.fixture
def connected(make_app, kit):
    app = make_app()
    create_user(app)
    connect(app, kit)
    return app


def check(body, status) -> None:
    assert status in (200, 400, 404, 422, 503), (status, body)
    assert body["code"] == status
    if status == 200:
        page = body["html"]
        # No element or attribute of theirs (Kit's filter and the app's check
        # would name an event handler, a script or a CSS url()), only text.
        assert html.refusals(page) == [] and rejections(page) == []
        for marker in ("<script", "<img", "<style"):
            assert marker not in page.lower(), marker
    else:
        assert body["errors"] and all(isinstance(e, str) for e in body["errors"])


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    block=st.sampled_from(BLOCKS),
    raw_settings=crafted_settings,
    raw_styles=crafted_styles,
)
def test_crafted_settings_and_styles_never_reach_the_markup(
    connected, block, raw_settings, raw_styles
):
    with connected.test_request_context():
        connection = db.session.get(KitConnection, 1)
        body, status = answer(
            block, connection, {"settings": raw_settings, "styles": raw_styles}
        )
    check(body, status)


@pytest.mark.parametrize("block", BLOCKS, ids=lambda b: b.name)
@pytest.mark.parametrize("value", HOSTILE)
def test_script_in_every_text_setting_is_escaped_or_refused(connected, block, value):
    texts = {
        c["name"]: value for c in block.settings if c["type"] in ("text", "textarea")
    }
    with connected.test_request_context():
        connection = db.session.get(KitConnection, 1)
        body, status = answer(block, connection, {"settings": texts})
    check(body, status)


@pytest.mark.parametrize(
    "styles",
    [
        {f"t{i}": {} for i in range(41)},  # more tags than any editor has
        {"p": {f"x{i}": "1px" for i in range(41)}},
        {"p": "color: red"},
        ["p"],
        "p { color: red }",
    ],
)
def test_styles_that_are_not_kits_shape_are_a_400(connected, styles):
    with connected.test_request_context():
        connection = db.session.get(KitConnection, 1)
        body, status = answer(BLOCKS[0], connection, {"styles": styles})
    assert status == 400 and body["code"] == 400
