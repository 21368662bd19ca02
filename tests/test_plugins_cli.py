"""`flask kit plugins`: what a developer pastes into Kit's app settings, on
the public origin, with every block's URLs and settings JSON."""

from __future__ import annotations

import json

from app.plugins.blocks import BLOCKS
from tests.support.settings import PLUGIN_CLIENT_ID, PLUGIN_CLIENT_SECRET

PUBLIC = "https://kit-app.example.com"


def run(make_app, *args):
    app = make_app(PUBLIC_BASE_URL=PUBLIC)
    result = app.test_cli_runner().invoke(args=["kit", "plugins", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_json_is_one_object_with_the_oauth_urls_and_every_block(make_app):
    printed = json.loads(run(make_app, "--json"))
    oauth = printed["oauth"]
    assert oauth["authorize_url"] == f"{PUBLIC}/plugins/oauth/authorize"
    assert oauth["token_url"] == f"{PUBLIC}/plugins/oauth/token"
    assert oauth["refresh_url"].startswith(f"{PUBLIC}/plugins/oauth/")
    assert oauth["revoke_url"] == f"{PUBLIC}/plugins/oauth/revoke"
    assert (oauth["client_id"], oauth["client_secret"]) == (
        PLUGIN_CLIENT_ID,
        PLUGIN_CLIENT_SECRET,
    )
    assert [b["identifier"] for b in printed["blocks"]] == [b.name for b in BLOCKS]
    broadcasts, greeting = printed["blocks"]
    assert broadcasts["request_url"] == f"{PUBLIC}/plugins/blocks/latest_broadcasts"
    assert broadcasts["search_urls"] == {
        "pinned": f"{PUBLIC}/plugins/blocks/latest_broadcasts/search/pinned"
    }
    search = next(c for c in broadcasts["settings"] if c["type"] == "search")
    assert search["request_url"] == broadcasts["search_urls"]["pinned"]
    assert greeting["dynamic"] is True and broadcasts["dynamic"] is False
    # Kit's identifier rules: lowercase letters, digits, underscores.
    assert all(b["identifier"].replace("_", "").isalnum() for b in printed["blocks"])


def test_every_printed_url_is_a_route_of_the_app(make_app):
    app = make_app(PUBLIC_BASE_URL=PUBLIC)
    printed = json.loads(run(make_app, "--json"))
    adapter = app.url_map.bind("kit-app.example.com", url_scheme="https")
    urls = [u for k, u in printed["oauth"].items() if k.endswith("_url")]
    for block in printed["blocks"]:
        urls += [block["request_url"], *block["search_urls"].values()]
    for url in urls:
        methods = {"GET"} if url.endswith("/authorize") else {"POST"}
        for method in methods:
            endpoint, _ = adapter.match(url.removeprefix(PUBLIC), method=method)
            assert endpoint.startswith("plugins."), url


def test_the_text_form_names_each_block_and_its_settings(make_app):
    printed = run(make_app)
    assert f"client id      {PLUGIN_CLIENT_ID}" in printed
    for block in BLOCKS:
        assert f"{block.label} (" in printed and f"identifier {block.name}" in printed
    assert f"request URL    {PUBLIC}/plugins/blocks/latest_broadcasts" in printed
    assert '"type": "numericalInput"' in printed


def test_without_a_plugin_client_it_says_plugins_are_off(make_app):
    app = make_app(PUBLIC_BASE_URL=PUBLIC)
    app.config.update(KIT_PLUGIN_CLIENT_ID=None, KIT_PLUGIN_CLIENT_SECRET=None)
    result = app.test_cli_runner().invoke(args=["kit", "plugins"])
    assert "plugins are off" in result.output
