"""The sandbox's "Kit email editor" plays Kit's side of content blocks over
real HTTP: it inserts the app's blocks, renders their settings forms from the
settings JSON, calls the search URLs (load, typing, a reopened draft) and the
block URLs with the plugin token, and previews the HTML after Kit's filter."""

from __future__ import annotations

import re
from html import escape

import pytest
import requests

from tests.conftest import GONE
from tests.support.blocks import editor_ready

kit_html = pytest.importorskip("kit_sandbox.plugins.kit_html", reason=GONE)

ADA = 1001


@pytest.fixture
def editor(served_app, kit):
    editor_ready(served_app, kit)
    return f"{kit.url}/email-editor"


def sent_subjects(kit):
    data = kit.state.account_data(ADA)
    sent = [b for b in data.broadcasts.values() if b.status == "completed"]
    return [b.subject for b in sorted(sent, key=lambda b: b.sent_at, reverse=True)]


def insert(editor, identifier):
    page = requests.post(
        f"{editor}/insert?account={ADA}", data={"identifier": identifier}
    )
    assert page.status_code == 200, page.text
    return page.text


def pinned_options(page):
    """The (value, label, selected) of the pinned broadcast's search select."""
    select = re.search(r'<select id="0-pinned".*?</select>', page, re.S).group(0)
    return re.findall(r'<option value="(\d+)" ?(selected)?>(.*?)</option>', select)


def previews(page):
    return re.findall(r'<div class="preview" data-preview>(.*?)</div>\n', page, re.S)


def test_inserting_a_block_renders_its_form_searches_and_previews_it(editor, kit):
    page = insert(editor, "latest_broadcasts")
    subjects = sent_subjects(kit)
    # The form, from the settings JSON: each kind as its control.
    assert 'type="number" id="0-count"' in page and 'min="1" max="10"' in page
    # Each starts at its default; a component shows once its dependency holds.
    assert 'id="0-show_dates" name="show_dates" checked' in page
    assert 'name="date_format"' in page and 'name="field"' not in page
    # The empty search on load filled the pinned broadcast's options.
    assert f">{escape(subjects[0])}</option>" in page
    # The block's HTML, after Kit's filter: the three newest, Kit's styles.
    (preview,) = previews(page)
    assert escape(subjects[0]) in preview and escape(subjects[3]) not in preview
    assert "font-size: 22px" in preview and 'target="_blank"' in preview


def test_a_changed_setting_is_sent_and_refresh_asks_again(editor, kit):
    insert(editor, "latest_broadcasts")
    page = requests.post(
        f"{editor}/0?account={ADA}",
        data={"action": "apply", "count": "1", "heading": "Fresh <b>off</b>"},
    ).text
    (preview,) = previews(page)
    assert "Fresh &lt;b&gt;off&lt;/b&gt;" in preview
    assert preview.count("<li") == 1
    assert 'name="date_format"' not in page  # dates off: its format is hidden
    assert "&middot;" not in preview  # nor any date
    calls = len(kit.state.api_requests)
    requests.post(f"{editor}/0?account={ADA}", data={"action": "refresh"})
    assert previews(requests.get(f"{editor}?account={ADA}").text) == [preview]
    assert len(kit.state.api_requests) >= calls  # served from the cache or Kit


def test_typing_searches_and_a_reopened_draft_asks_for_the_saved_label(editor, kit):
    insert(editor, "latest_broadcasts")
    subjects = sent_subjects(kit)
    word = subjects[4].split()[-1]
    page = requests.post(
        f"{editor}/0?account={ADA}",
        data={"action": "search:pinned", "search-pinned": word},
    ).text
    options = pinned_options(page)
    assert options and all(word.lower() in label.lower() for _, _, label in options)
    chosen, _, label = options[0]
    requests.post(
        f"{editor}/0?account={ADA}", data={"action": "apply", "pinned": chosen}
    )
    page = requests.post(f"{editor}/reopen?account={ADA}").text
    assert "Draft reopened" in page
    # Only the saved value's option came back, and it is selected.
    assert pinned_options(page) == [(chosen, "selected", label)]
    assert escape(label, quote=False) in previews(page)[0]


def test_the_dynamic_block_previews_its_liquid_per_subscriber(editor, kit):
    page = insert(editor, "personal_greeting")
    active = [
        s
        for s in kit.state.account_data(ADA).subscribers.values()
        if s.state == "active"
    ]
    named = next(s for s in active if s.first_name)
    nameless = next(s for s in active if not s.first_name)
    assert f"As sent to {named.email_address}:" in page
    assert f"As sent to {nameless.email_address}:" in page
    first, second = previews(page)
    assert f"Hi, {escape(named.first_name)}!" in first
    assert "Hi, there!" in second
    assert "{{" not in first + second  # Kit filled every tag


@pytest.mark.parametrize("mode", ["wrong", "foreign"])
def test_a_bad_token_is_refused_and_the_editor_says_so(editor, kit, mode):
    kit.config.plugin_token_mode = mode
    page = insert(editor, "latest_broadcasts")
    assert previews(page) == []
    assert "The app says:" in page


@pytest.mark.parametrize(
    ("markup", "reason"),
    [
        ("<script>alert(1)</script>", "<script>"),
        ('<iframe src="https://x.example"></iframe>', "<iframe>"),
        ("<video></video>", "<video>"),
        ('<form><input name="q"></form>', "<form>"),
        ('<p style="background: url(https://x.example/a.png)">x</p>', "url()"),
        ('<link rel="stylesheet" href="https://x.example/a.css">', "external CSS"),
        ("<style>@import 'https://x.example/a.css';</style>", "@import"),
        ('<a href="javascript:alert(1)">x</a>', "javascript:"),
        ('<p onclick="x()">x</p>', "onclick"),
    ],
)
def test_kits_filter_in_the_sandbox_refuses_what_kit_rejects(markup, reason):
    found = kit_html.rejections(f"<div>{markup}</div>")
    assert found and reason in found[0]
