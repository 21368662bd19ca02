"""Requests that wait on Kit take a slot of their process; without one, a 503
at once. (With a real gunicorn and a slow Kit: test_serve.py.)"""

from __future__ import annotations

from contextlib import ExitStack

import pytest

from app.kit_capacity import KEY, Capacity, KitBusy
from tests.support.accounts import signed_in
from tests.support.installing import install
from tests.support.rows import snapshot


def test_slots_per_process_and_per_user():
    capacity = Capacity(per_worker=3, per_user=2)
    with ExitStack() as held:
        held.enter_context(capacity.slot("ada"))
        held.enter_context(capacity.slot("ada"))
        with pytest.raises(KitBusy):  # Ada's own limit
            held.enter_context(capacity.slot("ada"))
        held.enter_context(capacity.slot("ben"))  # others still get one
        with pytest.raises(KitBusy):  # the process's limit
            held.enter_context(capacity.slot("chloe"))
    # Every slot came back, also from the refusals.
    with ExitStack() as held:
        for user in ("ada", "ada", "chloe"):
            held.enter_context(capacity.slot(user))


def test_a_slot_comes_back_when_the_view_fails():
    capacity = Capacity(per_worker=1, per_user=1)
    with pytest.raises(RuntimeError), capacity.slot("ada"):
        raise RuntimeError("Kit said no")
    with capacity.slot("ada"):
        pass


@pytest.fixture
def owner(app, client, kit, kit_browser):  # type: ignore[no-untyped-def]
    signed_in(client)
    install(client, kit_browser, account=1001)
    return client


def test_without_a_slot_kit_pages_answer_503_and_the_rest_still_work(app, owner, kit):
    capacity: Capacity = app.extensions[KEY]
    assert capacity.per_worker == 3  # GUNICORN_THREADS (4) - 1
    before, calls = snapshot(app, kit), kit.state.stats()["api_requests"]
    with ExitStack() as held:
        for other in ("someone", "else", "entirely"):  # every slot is taken
            held.enter_context(capacity.slot(other))
        page = owner.get("/c/1/forms?after=x")
        assert page.status_code == 503
        assert page.headers["Retry-After"] == "5"
        assert "Busy waiting on Kit" in page.text
        assert 'href="/c/1/forms?after=x">Try again' in page.text
        write = owner.post("/c/1/subscribers", data={"email_address": "n@example.com"})
        assert write.status_code == 503
        assert "Nothing was saved" in write.text
        assert 'href="/c/1">Back to your account' in write.text
        as_json = owner.get("/c/1/tags", headers={"Accept": "application/json"})
        assert as_json.status_code == 503
        assert as_json.json["error"] == "Busy waiting on Kit"
        # Pages that need no Kit call do not need a slot.
        for path in ("/accounts", "/healthz", "/connections/1"):
            assert owner.get(path).status_code == 200, path
    assert kit.state.stats()["api_requests"] == calls  # Kit was not called
    assert snapshot(app, kit) == before
    assert owner.get("/c/1/forms").status_code == 200  # the slots came back


def test_one_creator_cannot_take_every_slot(app, owner):
    capacity: Capacity = app.extensions[KEY]
    with ExitStack() as held:
        for _ in range(2):  # two of this creator's pages already wait on Kit
            held.enter_context(capacity.slot(1))
        assert owner.get("/c/1/forms").status_code == 503
        with capacity.slot(2):  # while another creator still gets a slot
            pass
    assert owner.get("/c/1/forms").status_code == 200
