"""Forms and sequences with their subscriber counts, and a page each listing
their subscribers: against the sandbox over HTTP (issue 21, section 2)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from html import unescape

import pytest
import requests

from tests.support.accounts import sign_up
from tests.support.installing import install

ADA = 1001


@pytest.fixture
def ada(client, kit, kit_browser, user):  # type: ignore[no-untyped-def]
    install(client, kit_browser, account=ADA)
    return kit.state.account_data(ADA)


def text(response) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text[:500]
    return unescape(response.text)


def active(data, added: dict[int, object]) -> list[int]:  # type: ignore[no-untyped-def]
    return [i for i in added if data.subscribers[i].state == "active"]


def until(condition: Callable[[], object], seconds: float = 30) -> None:
    """Wait for a state (not a duration); fail if it never holds."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.01)


# --- the sandbox serves them in Kit's shape ----------------------------------------


def test_the_sandbox_lists_a_forms_and_a_sequences_subscribers(kit):
    from kit_sandbox.testing import real_grant

    token = real_grant(kit, ADA)["access_token"]
    data = kit.state.account_data(ADA)
    form = data.forms[0]
    headers = {"Authorization": f"Bearer {token}"}
    body = requests.get(
        f"{kit.url}/v4/forms/{form.id}/subscribers",
        params={"per_page": 2, "include_total_count": "true"},
        headers=headers,
        timeout=10,
    ).json()
    assert body["total_count"] == len(active(data, data.form_subscribers[form.id]))
    first = body["subscribers"][0]
    assert set(first) >= {"id", "email_address", "state", "created_at", "added_at"}
    assert first["id"] > body["subscribers"][1]["id"]  # newest first
    assert body["pagination"]["has_next_page"] is True
    sequence = data.sequences[0]
    seq = requests.get(
        f"{kit.url}/v4/sequences/{sequence.id}/subscribers",
        params={"status": "all", "include_total_count": "true"},
        headers=headers,
        timeout=10,
    ).json()
    assert seq["total_count"] == len(data.sequence_subscribers[sequence.id])
    missing = requests.get(
        f"{kit.url}/v4/forms/999999/subscribers", headers=headers, timeout=10
    )
    assert (missing.status_code, missing.json()) == (404, {"errors": ["Not Found"]})


# --- the app ------------------------------------------------------------------------


def test_forms_and_sequences_show_their_subscriber_counts(client, ada):
    forms = text(client.get("/c/1/forms"))
    for form in ada.forms:
        count = len(active(ada, ada.form_subscribers.get(form.id, {})))
        row = re.search(
            rf'forms/{form.id}">{re.escape(form.name)}</a>.*?<td[^>]*class="num">([^<]+)</td>',
            forms,
            re.S,
        )
        assert row is not None, form.name
        assert row.group(1) == f"{count:,}"
    sequences = text(client.get("/c/1/sequences"))
    for sequence in ada.sequences:
        count = len(active(ada, ada.sequence_subscribers.get(sequence.id, {})))
        assert f'sequences/{sequence.id}">{sequence.name}</a>' in sequences
        assert f'<td data-label="Active subscribers" class="num">{count:,}</td>' in (
            sequences
        )


def test_a_forms_page_lists_its_subscribers_with_kits_cursors(client, ada):
    form = max(ada.forms, key=lambda f: len(ada.form_subscribers.get(f.id, {})))
    members = sorted(active(ada, ada.form_subscribers[form.id]), reverse=True)
    assert len(members) > 50  # two pages at least
    first = text(client.get(f"/c/1/forms/{form.id}"))
    assert f"<h1>{form.name}</h1>" in first
    assert f"1–50 of {len(members):,}" in first
    newest = ada.subscribers[members[0]]
    assert f'href="/c/1/subscribers/{newest.id}">{newest.email_address}</a>' in first
    after = re.search(r'rel="next" href="([^"]+)"', first)
    assert after is not None
    second = text(client.get(unescape(after.group(1))))
    assert f"51–{min(100, len(members))} of {len(members):,}" in second
    assert ada.subscribers[members[50]].email_address in second
    assert 'aria-current="page">Forms' in second  # the tab stays on Forms


def test_a_sequences_page_and_unknown_ids(client, ada):
    sequence = ada.sequences[0]
    members = active(ada, ada.sequence_subscribers[sequence.id])
    page = text(client.get(f"/c/1/sequences/{sequence.id}"))
    assert sequence.name in page
    assert f"of {len(members):,}" in page or f"{len(members):,}" in page
    assert ada.subscribers[max(members)].email_address in page
    for path in ("/c/1/forms/999999", "/c/1/sequences/999999"):
        missing = client.get(path)
        assert missing.status_code == 404
        assert "in this Kit account" in unescape(missing.text)


def test_the_list_renders_when_one_count_fails(client, kit, ada):
    failing, *others = ada.sequences
    kit.state.add_path_fault(f"/v4/sequences/{failing.id}/subscribers", "500")
    page = text(client.get("/c/1/sequences"))
    assert "Some subscriber counts are unavailable right now" in page
    assert page.count(">Unavailable</span>") == 1
    for sequence in others:
        count = len(active(ada, ada.sequence_subscribers.get(sequence.id, {})))
        assert f'class="num">{count:,}</td>' in page


def test_counts_go_to_kit_at_once_and_are_cached(make_app, kit, kit_browser):
    """Four sequences: their four counts are at Kit together, not one after
    another; the next visit asks Kit for none of them."""
    app = make_app(KIT_HTTP_TIMEOUT=30)
    client = app.test_client()
    sign_up(client)
    install(client, kit_browser, account=ADA)
    sequences = kit.state.account_data(ADA).sequences
    assert len(sequences) == 4
    kit.state.add_fault("api", "hang", times=1 + len(sequences))
    with ThreadPoolExecutor(1) as pool:
        page = pool.submit(client.get, "/c/1/sequences")
        until(lambda: kit.state.hanging == 1)  # the list of sequences
        kit.state.release_hangs()
        until(lambda: kit.state.hanging == len(sequences))  # every count at once
        kit.state.release_hangs()
        assert page.result(timeout=60).status_code == 200
    kit.state.add_path_fault(f"/v4/sequences/{sequences[0].id}/subscribers", "500")
    again = text(client.get("/c/1/sequences"))
    assert "Unavailable" not in again  # from the cache: Kit was not asked
