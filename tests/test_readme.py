"""The README and the docs name only what exists.

README.md, docs/*.md and bench/README.md are read as a newcomer would follow
them: every `make` target, `flask kit` (and `flask db`) command, `python -m`
module and test named in code is there, every link between the files reaches a
file and, with a `#anchor`, a heading of it; and the README stays short. No
sandbox, no server: the app is built only for its command-line interface.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import click
import pytest

from app import create_app
from tests.support.settings import TEST_ENCRYPTION_KEY

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md")), ROOT / "bench" / "README.md"]
README_MAX_LINES = 300

FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"`([^`]+)`")
LINK = re.compile(r"\]\(([^)\s]+)\)|<img [^>]*src=\"([^\"]+)\"")
HEADING = re.compile(r"^(#{1,6}) +(.+?) *#*$", re.MULTILINE)


def name(page: Path) -> str:
    return str(page.relative_to(ROOT))


def code(page: Path) -> list[str]:
    """Every piece of code on the page: each line of a fenced block, and each
    inline span with its runs of white space (a span broken over two lines)
    made one space."""
    text = page.read_text()
    lines = [line for block in FENCE.findall(text) for line in block.splitlines()]
    spans = CODE_SPAN.findall(FENCE.sub("", text))
    return [" ".join(piece.split()) for piece in lines + spans]


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lowercase, punctuation other than '-' and
    '_' dropped, each space a '-'."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """The anchors of the page's headings (code blocks' `#` lines are not
    headings); a repeated heading gets -1, -2, ... as on GitHub."""
    seen: dict[str, int] = {}
    found = set()
    for _, heading in HEADING.findall(FENCE.sub("", page.read_text())):
        base = slug(heading)
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def make_targets() -> set[str]:
    makefile = (ROOT / "Makefile").read_text()
    return set(re.findall(r"^([a-z][\w-]*):", makefile, re.MULTILINE))


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> click.Group:
    """The app's `flask` command groups (`kit`, `db`), as `flask --app app`
    sees them; the app is configured for Kit, so no sandbox is started."""
    folder = tmp_path_factory.mktemp("readme")
    app = create_app(
        {
            "TESTING": True,
            "APP_ENV": "development",
            "SECRET_KEY": "test-secret-key",
            "TOKEN_ENCRYPTION_KEYS": TEST_ENCRYPTION_KEY,
            "DATABASE_URL": f"sqlite:///{folder}/app.db",
            "KIT_CLIENT_ID": "readme-test",
            "KIT_PENDING_PAIRS_DIR": str(folder / "pending_pairs"),
        }
    )
    return app.cli


def missing_command(group: click.Group, words: list[str]) -> str | None:
    """The first of `words` that is not a command of `group` (or of the group
    before it), or None when the command exists. Words after a command that
    takes no subcommands are its arguments."""
    command: click.Command = group
    for word in words:
        if not isinstance(command, click.Group):
            return None
        sub = command.commands.get(word)
        if sub is None:
            return word
        command = sub
    return None


@pytest.mark.parametrize("page", PAGES, ids=name)
def test_every_make_target_named_exists(page: Path) -> None:
    targets = make_targets()
    named = {
        target
        for piece in code(page)
        for target in re.findall(r"(?:^|[\s;(&|])make ([a-z][\w-]*)", piece)
    }
    assert named <= targets, f"{name(page)}: no such make target {named - targets}"


@pytest.mark.parametrize("page", PAGES, ids=name)
def test_every_flask_command_named_exists(page: Path, cli: click.Group) -> None:
    unknown = []
    for piece in code(page):
        for found in re.findall(r"\bflask (?:--app app )?((?:[a-z][\w-]* ?)+)", piece):
            words = found.split()
            if words[0] not in ("kit", "db"):
                continue  # flask's own commands (run, shell, routes)
            if (word := missing_command(cli, words)) is not None:
                unknown.append(f"{' '.join(words)!r} (no {word!r})")
    assert not unknown, f"{name(page)}: unknown flask commands {unknown}"


@pytest.mark.parametrize("page", PAGES, ids=name)
def test_every_python_module_named_exists(page: Path) -> None:
    modules = set()
    for piece in code(page):
        modules |= set(re.findall(r"\bpython -m ([\w.]+)", piece))
        modules |= set(re.findall(r"\b(bench\.\w+)", piece))
    # `bench.NAME` is a placeholder, not a module.
    modules = {m for m in modules if not any(part.isupper() for part in m.split("."))}
    unknown = sorted(m for m in modules if importlib.util.find_spec(m) is None)
    assert not unknown, f"{name(page)}: no such module {unknown}"
    for module in modules:
        if module.startswith("bench."):
            assert (ROOT / "bench" / f"{module.removeprefix('bench.')}.py").is_file()


@pytest.mark.parametrize("page", PAGES, ids=name)
def test_every_test_named_exists(page: Path) -> None:
    """The tests in brackets that back a claim ("[`test_auth.py`: `test_...`]")."""
    files = {path.name for path in (ROOT / "tests").rglob("test_*.py")}
    defined = set()
    for path in (ROOT / "tests").rglob("test_*.py"):
        defined |= set(re.findall(r"^\s*def (test_\w+)", path.read_text(), re.M))
    unknown = []
    for piece in code(page):
        if re.fullmatch(r"(tests/)?([\w/]+/)?test_\w+\.py", piece):
            exists = (ROOT / piece).is_file() if "/" in piece else piece in files
            if not exists:
                unknown.append(piece)
        elif re.fullmatch(r"test_\w+", piece) and piece not in defined:
            unknown.append(piece)
    assert not unknown, f"{name(page)}: no such test {unknown}"


@pytest.mark.parametrize("page", PAGES, ids=name)
def test_every_relative_link_reaches_a_file_and_heading(page: Path) -> None:
    broken = []
    text = FENCE.sub("", page.read_text())
    for link in [a or b for a, b in LINK.findall(text)]:
        if re.match(r"[a-z]+:", link):
            continue  # https:, mailto:
        path, _, anchor = link.partition("#")
        target = (page.parent / path).resolve() if path else page
        if not target.exists():
            broken.append(f"{link} (no file)")
        elif anchor and (target.suffix != ".md" or anchor not in anchors(target)):
            broken.append(f"{link} (no heading #{anchor})")
    assert not broken, f"{name(page)}: broken links {broken}"


def test_every_doc_links_back_to_the_readme() -> None:
    for page in PAGES[1:]:
        assert "(../README.md)" in page.read_text(), name(page)


def test_the_readme_links_every_doc() -> None:
    text = README.read_text()
    for page in PAGES[1:]:
        assert f"]({name(page)})" in text, name(page)


def test_the_readme_stays_short() -> None:
    lines = len(README.read_text().splitlines())
    assert lines <= README_MAX_LINES, f"README.md: {lines} lines"


@pytest.mark.parametrize(
    ("heading", "expected"),
    [
        ("Token lifecycle", "token-lifecycle"),
        ("`refresh-due` on Celery", "refresh-due-on-celery"),
        ("Going live: a checklist", "going-live-a-checklist"),
        ("What a fork keeps (and deletes)", "what-a-fork-keeps-and-deletes"),
        ("snake_case and-dashes", "snake_case-and-dashes"),
    ],
)
def test_slug_follows_github(heading: str, expected: str) -> None:
    assert slug(heading) == expected
