"""The README's recipe for a content block: every name it uses exists, and
following it on a copy of the tree (one module, one line in `MODULES`) gives
a block that `flask kit plugins --json` lists with its URLs and that renders
HTML Kit's filter takes."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
from pathlib import Path

from app.plugins import blocks, html
from tests.copies import PYTHON, ROOT, copy_checkout, environment

NEW_BLOCK = '''"""A block added as the README says (test_plugin_block_recipe.py)."""

from html import escape

from app.plugins import html
from app.plugins.blocks import Block


def render(connection, settings, styles):
    return html.element("p", styles, escape(settings["word"])) + html.link(
        "https://example.com/words", "More words", styles
    )


def search(connection, text):
    return [{"label": w, "value": w} for w in ("kale", "leek") if text in w]


BLOCK = Block(
    name="word_of_the_day",
    label="Word of the day",
    description="One word, and a link",
    settings=[
        {"type": "text", "name": "word", "label": "Word"},
        {"type": "search", "name": "pick", "label": "Or pick one"},
    ],
    defaults={"word": "kale"},
    render=render,
    searches={"pick": search},
)
'''


def recipe() -> str:
    """The README's paragraph that adds a content block."""
    readme = (ROOT / "README.md").read_text()
    start = readme.index("**Add a content block**")
    return readme[start : readme.index("\n\n", start)]


def test_every_name_in_the_readmes_block_recipe_exists() -> None:
    text = recipe()
    named = re.findall(r"`([^`]+)`", text)
    paths = [n for n in named if n.startswith("app/")]
    assert paths and all((ROOT / p).exists() for p in paths), paths
    assert "MODULES" in named and hasattr(blocks, "MODULES")
    fields = {f.name for f in dataclasses.fields(blocks.Block)}
    used = re.findall(r"(\w+)=", text)
    assert used and set(used) <= fields, set(used) - fields
    for name in re.findall(r"`html\.(\w+)`", text):
        assert callable(getattr(html, name)), name
    assert "render(connection, settings, styles)" in text


def test_the_recipe_followed_on_a_copy_gives_a_listed_working_block(
    tmp_path: Path,
) -> None:
    copy = copy_checkout(tmp_path / "tree", leave_out=("docs/screenshots/",))
    (copy / "app/plugins/blocks/word_of_the_day.py").write_text(NEW_BLOCK)
    init = copy / "app/plugins/blocks/__init__.py"
    source = init.read_text()
    assert source.count("MODULES = (\n") == 1
    init.write_text(
        source.replace("MODULES = (\n", 'MODULES = (\n    "word_of_the_day",\n')
    )
    env = environment(copy, PUBLIC_BASE_URL="https://app.example.com")
    listed = subprocess.run(  # noqa: S603 (the copy's own Python)
        [*PYTHON, "-m", "flask", "--app", "app", "kit", "plugins", "--json"],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert listed.returncode == 0, listed.stderr
    entry = next(
        b
        for b in json.loads(listed.stdout)["blocks"]
        if b["identifier"] == "word_of_the_day"
    )
    base = "https://app.example.com/plugins/blocks/word_of_the_day"
    assert entry["request_url"] == base
    assert entry["search_urls"] == {"pick": f"{base}/search/pick"}
    rendered = subprocess.run(  # noqa: S603
        [
            *PYTHON,
            "-c",
            "from app.plugins.blocks import BY_NAME, answer;"
            "print(answer(BY_NAME['word_of_the_day'], None,"
            " {'settings': {'word': 'leek'}, 'styles': {'p': {'color': '#333'}}}))",
        ],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert rendered.returncode == 0, rendered.stderr
    assert "'code': 200" in rendered.stdout
    assert '<p style="color: #333">leek</p>' in rendered.stdout
    assert 'target="_blank"' in rendered.stdout
