"""The audience pages: subscriber search and counts, a subscriber's page (custom
fields, tags, tag and untag), tags with counts and a tag's page, broadcasts with
their figures and a broadcast's page; all against the sandbox over HTTP."""

from __future__ import annotations

import re
from html import unescape

import pytest

from tests.support.installing import connect

ADA, CHLOE = 1001, 1003


@pytest.fixture
def ada(client, kit, user):  # type: ignore[no-untyped-def]
    """The signed-in user connected to Ada's Kitchen, the big account (a real
    grant, no consent round trip: these pages are not about installing)."""
    connect(client.application, kit, account=ADA)
    return kit.state.account_data(ADA)


def text(response) -> str:  # type: ignore[no-untyped-def]
    return unescape(response.text)


def link(page: str, rel: str) -> str:
    found = re.search(rf'rel="{rel}" href="([^"]+)"', page)
    assert found is not None, rel
    return found.group(1)


def rows(page: str) -> list[str]:
    return re.findall(r'<th scope="row"><a href="[^"]+">([^<]+)</a></th>', page)


def tagged(ada):  # type: ignore[no-untyped-def]
    """A subscriber with at least one tag, and their tags."""
    for sub in sorted(ada.subscribers.values(), key=lambda s: s.id):
        tags = [t for t in ada.tags.values() if sub.id in ada.taggings.get(t.id, {})]
        if tags:
            return sub, tags
    raise AssertionError("the seed tags nobody")


# --- subscribers ----------------------------------------------------------------


def test_search_finds_part_of_an_email_in_any_status(client, ada):
    bounced = next(s for s in ada.subscribers.values() if s.state == "bounced")
    part = bounced.email_address.split("@")[0][1:].upper()  # any case
    found = text(client.get("/c/1/subscribers", query_string={"q": part}))
    assert bounced.email_address in rows(found)
    assert "badge-bounced" in found
    # The status still narrows: no active subscriber has this bounced address.
    narrowed = client.get(
        "/c/1/subscribers", query_string={"q": part, "status": "active"}
    )
    assert bounced.email_address not in rows(text(narrowed))
    # The old `email` parameter and a whole address (Kit's exact filter) work too.
    exact = text(client.get(f"/c/1/subscribers?email={bounced.email_address}"))
    assert rows(exact) == [bounced.email_address]


def test_search_by_first_name_and_nothing_found(client, ada):
    someone = next(s for s in ada.subscribers.values() if s.first_name)
    found = text(client.get("/c/1/subscribers", query_string={"q": someone.first_name}))
    assert someone.email_address in found or "Showing the first 100" in found
    nobody = text(client.get("/c/1/subscribers", query_string={"q": "zzqx-nobody"}))
    assert "No subscriber matches “zzqx-nobody”." in nobody
    assert "Clear the search" in nobody


def test_range_and_total_on_every_page_and_after_previous(client, ada):
    active = sum(1 for s in ada.subscribers.values() if s.state == "active")
    first = text(client.get("/c/1/subscribers"))
    assert first.count(f"1–50 of {active:,}") == 2  # above and below the table
    second = text(client.get(link(first, "next")))
    assert f"51–100 of {active:,}" in second
    third = text(client.get(link(second, "next")))
    assert f"101–150 of {active:,}" in third
    back = text(client.get(link(third, "prev")))
    assert f"51–100 of {active:,}" in back
    assert rows(back) == rows(second)


def test_the_count_is_asked_again_when_the_cache_lost_it(app, client, ada):
    from app.extensions import cache

    first = text(client.get("/c/1/subscribers"))
    with app.app_context():
        cache.clear()
    second = text(client.get(link(first, "next")))
    active = sum(1 for s in ada.subscribers.values() if s.state == "active")
    assert f"51–100 of {active:,}" in second


@pytest.mark.parametrize("page", ["0", "-1", "abc", "10001", "9" * 40])
def test_a_bad_page_number_is_page_one(client, ada, page):
    response = client.get(f"/c/1/subscribers?page={page}")
    assert response.status_code == 200
    assert "1–50 of" in text(response)


def test_a_hostile_search_is_a_400_with_a_way_back(client, ada):
    too_long = client.get("/c/1/subscribers", query_string={"q": "a" * 300})
    assert too_long.status_code == 400
    control = client.get("/c/1/subscribers", query_string={"q": "ada\x00"})
    assert control.status_code == 400


def test_add_form_error_is_summarised_and_focused(client, ada):
    refused = client.post("/c/1/subscribers", data={"email_address": "nope"})
    assert refused.status_code == 400
    page = text(refused)
    assert 'role="alert" tabindex="-1" autofocus' in page
    assert '<a href="#email_address">' in page
    assert '<details class="add-panel" open>' in page
    assert page.index("Add subscriber") < page.index("<table")


# --- one subscriber -------------------------------------------------------------


def test_subscriber_page_shows_details_custom_fields_and_tags(client, ada):
    sub, tags = tagged(ada)
    page = client.get(f"/c/1/subscribers/{sub.id}")
    assert page.status_code == 200
    body = text(page)
    assert f"<h1>{sub.email_address.replace('@', '<wbr>@')}</h1>" in body
    for f in ada.custom_fields:
        assert f"<dt>{f.label}</dt>" in body
        value = sub.fields.get(f.key)
        assert f"<dd>{value or '—'}</dd>" in body
    for t in tags:
        assert t.name in body
    assert body.count(">Remove</button>") == len(tags)


def test_remove_a_tag_then_it_is_gone_at_kit(client, kit, ada):
    sub, tags = tagged(ada)
    tag = tags[0]
    client.get(f"/c/1/subscribers/{sub.id}")  # warm the cache
    removed = client.post(f"/c/1/subscribers/{sub.id}/tags/{tag.id}/remove")
    assert removed.status_code == 302
    assert sub.id not in kit.state.account_data(ADA).taggings.get(tag.id, {})
    page = text(client.get(removed.location))
    assert f"Removed tag “{tag.name}” from {sub.email_address}." in page
    assert f'/tags/{tag.id}/remove"' not in page


def test_add_a_tag_from_the_subscriber_page(client, kit, ada):
    sub, tags = tagged(ada)
    other = next(t for t in ada.tags.values() if t not in tags)
    added = client.post(
        f"/c/1/subscribers/{sub.id}/tags", data={"add-tag_id": str(other.id)}
    )
    assert added.status_code == 302
    assert sub.id in kit.state.account_data(ADA).taggings[other.id]
    page = text(client.get(added.location))
    assert f"Added tag “{other.name}”." in page
    assert f'/tags/{other.id}/remove"' in page
    forged = client.post(
        f"/c/1/subscribers/{sub.id}/tags", data={"add-tag_id": "999999"}
    )
    assert forged.status_code == 400
    assert "Not a valid choice" in text(forged)


# --- tags -----------------------------------------------------------------------


def test_tags_list_counts_and_tag_page_rows(client, ada):
    page = text(client.get("/c/1/tags"))
    names = [t.name for t in ada.tags.values()]
    assert rows(page) == sorted(names, key=str.lower)
    biggest = max(ada.tags.values(), key=lambda t: len(ada.taggings.get(t.id, {})))
    # Kit counts a tag's active subscribers (its list's default status).
    count = sum(
        ada.subscribers[i].state == "active" for i in ada.taggings.get(biggest.id, {})
    )
    assert f'<td data-label="Active subscribers" class="num">{count:,}</td>' in page

    seen: list[str] = []
    url = f"/c/1/tags/{biggest.id}"
    first = text(client.get(url))
    assert f"<h1>{biggest.name}</h1>" in first
    body = first
    while True:
        seen += rows(body)
        nxt = re.search(r'rel="next" href="([^"]+)"', body)
        if not nxt:
            break
        body = text(client.get(nxt.group(1)))
        assert f" of {count:,}" in body
    assert len(seen) == count


def test_creating_an_existing_tag_says_so(client, ada):
    existing = next(iter(ada.tags.values()))
    again = client.post("/c/1/tags", data={"create-name": existing.name})
    assert again.status_code == 302
    assert f"Tag “{existing.name}” already exists." in text(client.get("/c/1/tags"))
    new = client.post("/c/1/tags", data={"create-name": "Brand new tag"})
    assert new.status_code == 302
    assert "Created tag “Brand new tag”." in text(client.get("/c/1/tags"))


# --- broadcasts -----------------------------------------------------------------


def test_broadcasts_show_kits_open_and_click_rates(client, ada):
    page = text(client.get("/c/1/broadcasts"))
    newest = sorted(ada.broadcasts.values(), key=lambda b: -b.id)[:50]
    sent = [b for b in newest if b.status == "completed"]
    assert sent
    for b in sent:
        figures = b.stats.to_api(b.status)
        assert f"{figures['open_rate']:.1f}%" in page
        assert f"{figures['click_rate']:.1f}%" in page
    draft = next(b for b in newest if b.status == "draft")
    assert draft.subject in page


def test_broadcast_page_shows_its_figures(client, ada):
    b = next(b for b in ada.broadcasts.values() if b.status == "completed")
    page = client.get(f"/c/1/broadcasts/{b.id}")
    assert page.status_code == 200
    body = text(page)
    figures = b.stats.to_api(b.status)
    assert f"{figures['recipients']:,}" in body
    assert f"{figures['open_rate']:.1f}%" in body
    assert f"{figures['emails_opened']:,} opened" in body
    assert f"{figures['unsubscribes']:,}" in body


# --- what goes wrong ------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("/c/1/subscribers/999999", "No subscriber #999999 in this Kit account"),
        ("/c/1/tags/999999", "No tag #999999 in this Kit account"),
        ("/c/1/broadcasts/999999", "No broadcast #999999 in this Kit account"),
    ],
)
def test_unknown_ids_are_404_pages_in_words(client, ada, path, words):
    page = client.get(path)
    assert page.status_code == 404
    assert words in text(page)
    assert client.get(path.replace("999999", "9" * 30)).status_code == 404


def test_kit_outage_on_each_new_page_is_the_503_banner(client, kit, ada):
    sub, tags = tagged(ada)
    b = next(iter(ada.broadcasts.values()))
    kit.state.add_fault("api", "500", times=1000)
    for path in (
        f"/c/1/subscribers/{sub.id}",
        f"/c/1/tags/{tags[0].id}",
        "/c/1/tags",
        "/c/1/broadcasts",
        f"/c/1/broadcasts/{b.id}",
        "/c/1/subscribers?q=ada",
    ):
        page = client.get(path)
        assert page.status_code == 503, path
        assert "Kit is unavailable right now" in text(page), path


def test_a_forged_cursor_on_a_tag_page_is_a_400_with_a_way_back(client, ada):
    tag = next(iter(ada.tags.values()))
    page = client.get(f"/c/1/tags/{tag.id}?after=not-a-cursor")
    assert page.status_code == 400
    assert "That page link is not valid any more" in text(page)
    assert f'href="/c/1/tags/{tag.id}">First page</a>' in page.text


def test_a_sent_broadcast_older_than_the_stats_list_is_asked_for_alone(
    client, kit, ada, monkeypatch
):
    # As if the account had more broadcasts than one stats page holds.
    from app.dashboard import broadcast_stats

    monkeypatch.setattr(broadcast_stats, "STATS_PER_PAGE", 1)
    newest = sorted(ada.broadcasts.values(), key=lambda b: -b.id)[:50]
    sent = [b for b in newest if b.status in ("completed", "sending")]
    page = text(client.get("/c/1/broadcasts"))
    for b in sent:
        assert f"{b.stats.to_api(b.status)['open_rate']:.1f}%" in page
    asked = {r["path"] for r in kit.state.api_requests}
    assert len(sent) > 1
    assert any(f"/v4/broadcasts/{b.id}/stats" in asked for b in sent[1:])
