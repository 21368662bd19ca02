"""`flask kit webhooks legacy list | follow | unfollow`, against the sandbox."""

from __future__ import annotations

from tests.support.accounts import signed_in
from tests.support.installing import install

SHOP = "https://example.com/shop"


def legacy(app, *args: str):  # type: ignore[no-untyped-def]
    return app.test_cli_runner().invoke(args=["kit", "webhooks", "legacy", *args])


def at_kit(kit) -> list[tuple[str, object]]:  # type: ignore[no-untyped-def]
    with kit.state.lock:
        return sorted(
            (rule.event, rule.param)
            for rule in kit.state.webhooks.legacy.rules.values()
        )


def test_follow_list_and_unfollow_a_link_and_a_product(app, client, kit, kit_browser):
    signed_in(client)
    install(client, kit_browser)
    done = legacy(app, "follow", "1", "--link", SHOP)
    assert done.exit_code == 0, done.output
    assert "Following subscriber.link_click" in done.output
    assert legacy(app, "follow", "1", "--product", "501").exit_code == 0
    assert at_kit(kit) == [
        ("purchase.purchase_create", None),
        ("subscriber.link_click", SHOP),
        ("subscriber.product_purchase", 501),
    ]
    listed = legacy(app, "list")
    assert listed.exit_code == 0
    header, *lines = listed.output.splitlines()
    assert header.split()[:3] == ["CONNECTION", "EVENT", "FOLLOWS"]
    assert any(SHOP in line and "active" in line for line in lines)
    assert "/webhooks/kit/legacy/" not in listed.output  # no key, no URL

    gone = legacy(app, "unfollow", "1", "--link", SHOP)
    assert gone.exit_code == 0, gone.output
    assert at_kit(kit) == [
        ("purchase.purchase_create", None),
        ("subscriber.product_purchase", 501),
    ]


def test_follow_refuses_what_kit_would_and_unknown_connections(
    app, client, kit, kit_browser
):
    assert legacy(app, "follow", "1", "--link", SHOP).exit_code == 1  # none yet
    signed_in(client)
    install(client, kit_browser)
    assert legacy(app, "follow", "1", "--product", "shoes").exit_code == 2
    assert legacy(app, "follow", "1").exit_code == 2
    assert legacy(app, "follow", "1", "--link", SHOP, "--product", "5").exit_code == 2
    assert at_kit(kit) == [("purchase.purchase_create", None)]
