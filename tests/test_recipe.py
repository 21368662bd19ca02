"""The README's recipe ("Make it yours": add a Kit API call, add a page) holds.

It is applied to a copy of the tree step by step, as a forker would, for Kit's
`GET /v4/segments`: the sandbox's endpoint, a typed `Segment`, a cached fetch,
a page with its tab, and the page's own test. The copy must then pass what
`make format` and `make lint` run (ruff, and mypy strict on app/kit) and its
new test, run in the copy with the copy's code (tests/copies.py).

The code the recipe adds is in tests/recipe/; EDITS says where each piece goes,
in the README's words, and NAMES what of the tree the README tells a forker to
use. When the recipe rots (a file, a name or a place it names is gone or moved)
the test says which step of the README broke, and the README is checked to
name every one of those places and names, so neither changes alone. (A fork
with a segments page of its own may delete this test and tests/recipe/.)
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.copies import PYTHON, ROOT, copy_checkout, environment

SNIPPETS = Path(__file__).parent / "recipe"
SANDBOX = "1. Make it work in the sandbox"
TYPE = "2. Type what you read"
FETCH = "3. Fetch it"
TEST = "4. Test it"
PAGE = "Add a page"
WRITES = "Writes"
NEW_TEST = "tests/test_segments.py"
GONE = "needs the Kit sandbox, and kit_sandbox/ was deleted"


@dataclass(frozen=True)
class Edit:
    """A piece of code the recipe adds: to `path`, which the README names as
    `named`; `where` is "new" (a file of its own), "end" (appended), or
    "after: LINE" / "before: LINE" with LINE the start of the one line of the
    file it goes next to. `code` is the code, or a file of tests/recipe/."""

    step: str
    path: str
    named: str
    where: str
    code: str

    def text(self) -> str:
        snippet = SNIPPETS / self.code
        return snippet.read_text() if "\n" not in self.code else self.code

    def apply(self, tree: Path) -> str | None:
        """Add the code to the file in `tree`; what went wrong, or None."""
        target = tree / self.path
        if self.where == "new":
            if not target.parent.is_dir():
                return f"there is no folder {target.parent.relative_to(tree)}/"
            if target.exists():
                return f"{self.path} exists already"
            target.write_text(self.text())
            return None
        if not target.is_file():
            return f"there is no file {self.path}"
        lines = target.read_text().splitlines(keepends=True)
        if self.where == "end":
            lines.append(self.text())
        else:
            side, _, start = self.where.partition(": ")
            found = [
                i for i, line in enumerate(lines) if line.strip().startswith(start)
            ]
            if len(found) != 1:
                return f"{self.path} has {len(found)} lines starting {start!r}, not 1"
            lines.insert(found[0] + (side == "after"), self.text())
        target.write_text("".join(lines))
        return None


# fmt: off
EDITS = [
    Edit(SANDBOX, "kit_sandbox/records.py", "kit_sandbox/records.py", "end",
         "1_sandbox_record.py.txt"),
    Edit(SANDBOX, "kit_sandbox/audience.py", "kit_sandbox/audience.py",
         "after: from __future__ import", "from .records import SegmentRecord\n"),
    Edit(SANDBOX, "kit_sandbox/audience.py", "ID_STARTS", "after: ID_STARTS = {",
         '    "segment": 15_001,\n'),
    Edit(SANDBOX, "kit_sandbox/audience.py", "AccountData", "after: ids: IdSequence",
         "    segments: list[SegmentRecord] = field(default_factory=list)\n"),
    Edit(SANDBOX, "kit_sandbox/seed/account_data.py",
         "kit_sandbox/seed/account_data.py", "after: from __future__ import",
         "from ..records import SegmentRecord\n"),
    Edit(SANDBOX, "kit_sandbox/seed/account_data.py", "seed_account_data",
         "before: return data", "1_sandbox_seed.py.txt"),
    Edit(SANDBOX, "kit_sandbox/api/segments.py", "kit_sandbox/api/", "new",
         "1_sandbox_endpoint.py.txt"),
    Edit(SANDBOX, "kit_sandbox/api/__init__.py", "kit_sandbox/api/__init__.py",
         "after: from . import ", "from . import segments\n"),
    Edit(TYPE, "app/kit/resources.py", "app/kit/resources.py", "end",
         "2_type.py.txt"),
    Edit(FETCH, "app/dashboard/data.py", "app/dashboard/data.py",
         "after: from __future__ import", "from app.kit.resources import Segment\n"),
    Edit(FETCH, "app/dashboard/data.py", "app/dashboard/data.py", "end",
         "3_fetch.py.txt"),
    Edit(TEST, NEW_TEST, "tests/test_<yours>.py", "new", "4_test.py.txt"),
    Edit(PAGE, "app/dashboard/views.py", "app/dashboard/views.py", "end",
         "page_view.py.txt"),
    Edit(PAGE, "templates/dashboard/segments.html", "templates/dashboard/", "new",
         "page_template.html"),
    Edit(PAGE, "templates/dashboard/_layout.html", "templates/dashboard/_layout.html",
         "before: ] %}", '  ("dashboard.segments", "Segments", "users"),\n'),
]
# fmt: on

# What of the tree the recipe tells a forker to use, by step, and the file that
# defines it (a function, class, assignment or template block of that name).
NAMES = {
    SANDBOX: [
        ("to_api", "kit_sandbox/records.py"),
        ("AccountData", "kit_sandbox/audience.py"),
        ("ID_STARTS", "kit_sandbox/audience.py"),
        ("seed_account_data", "kit_sandbox/seed/account_data.py"),
        ("list_response", "kit_sandbox/api/blueprint.py"),
        ("forms", "kit_sandbox/api/content.py"),
    ],
    TYPE: [
        ("CustomField", "app/kit/resources.py"),
        ("_Record", "app/kit/resources.py"),
        ("from_kit", "app/kit/resources.py"),
    ],
    FETCH: [
        ("client_for", "app/kit_cache.py"),
        ("cached", "app/kit_cache.py"),
        ("answers", "app/kit_cache.py"),
        ("tags", "app/dashboard/data.py"),
        ("subscriber", "app/dashboard/data.py"),
    ],
    TEST: [
        ("granted", "tests/support/installing.py"),
        ("make_app", "tests/conftest.py"),
        ("kit", "tests/conftest.py"),
        ("account_data", "kit_sandbox/state.py"),
    ],
    PAGE: [
        ("kit_page", "app/dashboard/render.py"),
        ("own_connection", "app/auth/access.py"),
        ("kit_content", "templates/dashboard/_layout.html"),
    ],
    WRITES: [("write", "app/dashboard/render.py")],
}


def defines(text: str, name: str) -> bool:
    word = re.escape(name)
    return bool(
        re.search(
            rf"^\s*(?:def|class) {word}\b|^{word}\b *[:=]|{{%-? *block {word}\b",
            text,
            re.MULTILINE,
        )
    )


def missing_names(tree: Path) -> list[str]:
    """The names the recipe uses that `tree` no longer defines where it did."""
    return [
        f"{step}: {path} defines no `{name}`, which the README's recipe uses"
        for step, names in NAMES.items()
        for name, path in names
        if not (tree / path).is_file() or not defines((tree / path).read_text(), name)
    ]


def recipe_code() -> list[str]:
    """The code spans of the README's recipe, white space made single spaces."""
    text = (ROOT / "README.md").read_text()
    for bullet in ("- **Add a Kit API call", "- **Add a page:**", "- **Writes**"):
        assert bullet in text, f"README.md's recipe has no {bullet!r} any more"
    start = text.index("- **Add a Kit API call")
    end = text.index("\n- **", text.index("- **Writes**"))
    return [
        " ".join(span.split()) for span in re.findall(r"`([^`]+)`", text[start:end])
    ]


def test_the_readme_names_every_place_and_name_the_recipe_uses() -> None:
    pytest.importorskip("kit_sandbox", reason=GONE)  # step 1 is the sandbox's
    code = recipe_code()
    named = " ".join(code)
    unnamed = [
        f"{edit.step}: `{edit.named}`" for edit in EDITS if edit.named not in code
    ] + [
        f"{step}: `{name}`"
        for step, names in NAMES.items()
        for name, _ in names
        if not re.search(rf"(?<!\w){re.escape(name)}\b", named)
    ]
    assert not unnamed, f"README.md's recipe does not name {unnamed}"
    assert not missing_names(ROOT)
    # Every file or folder the recipe names exists (but the ones it invents).
    paths = [c for c in code if "/" in c and " " not in c and not c.startswith("/")]
    invented = ("<", "yours")
    gone = [
        path
        for path in paths
        if not any(part in path for part in invented)
        and not (ROOT / path).exists()
        and not (ROOT / "templates" / path).exists()
    ]
    assert not gone, f"README.md's recipe names what is not there: {gone}"
    used = {edit.code for edit in EDITS}
    assert {p.name for p in SNIPPETS.iterdir()} <= used, "a snippet no step uses"


def run(copy: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603
        [*PYTHON, *args],
        cwd=copy,
        env=environment(copy),
        capture_output=True,
        text=True,
        timeout=300,
    )


def steps_in(output: str) -> list[str]:
    """The steps whose files a failure's output names."""
    return sorted({f"{e.step} ({e.path})" for e in EDITS if e.path in output})


def test_the_recipe_applied_to_a_copy_passes_lint_types_and_its_own_test(
    tmp_path: Path,
) -> None:
    pytest.importorskip("kit_sandbox", reason=GONE)
    copy = copy_checkout(tmp_path / "tree", leave_out=("docs/screenshots/",))
    rotted = missing_names(copy)
    rotted += [
        f"{edit.step}: {problem}"
        for edit in EDITS
        if (problem := edit.apply(copy)) is not None
    ]
    assert not rotted, "The README's recipe cannot be followed:\n" + "\n".join(rotted)

    # mypy (strict on app/kit, with the new dataclass) while the rest runs,
    # from a copy of this checkout's cache when there is one: it checks again
    # every file whose hash changed, and the rest takes it a second, not 20.
    cache = tmp_path / "mypy"
    try:
        shutil.copytree(ROOT / ".mypy_cache", cache)
    except OSError:  # none yet, or `make lint` writing it meanwhile: start cold
        shutil.rmtree(cache, ignore_errors=True)
    mypy = subprocess.Popen(  # noqa: S603
        [*PYTHON, "-m", "mypy", "--cache-dir", str(cache)],
        cwd=copy,
        env=environment(copy),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        changed = sorted({edit.path for edit in EDITS if edit.path.endswith(".py")})
        run(copy, "-m", "ruff", "format", *changed)  # `make format`
        run(copy, "-m", "ruff", "check", "--fix", *changed)
        for check in (["check"], ["format", "--check"]):
            linted = run(copy, "-m", "ruff", *check, *changed)
            assert linted.returncode == 0, (
                f"`ruff {' '.join(check)}` on the recipe's code, after `make format`:"
                f" {steps_in(linted.stdout)}\n{linted.stdout}{linted.stderr}"
            )

        tested = run(
            copy, "-m", "pytest", "-n0", "-q", "-p", "no:cacheprovider",
            f"--basetemp={tmp_path / 'pytest'}", NEW_TEST,
        )  # fmt: skip
        output = tested.stdout + tested.stderr
        assert tested.returncode == 0, (
            f"The recipe applied, its test {NEW_TEST} fails in the copy; the steps "
            f"named in the failure: {steps_in(output)}\n{output[-6000:]}"
        )
        assert "2 passed" in tested.stdout, output
    finally:
        typed, _ = mypy.communicate(timeout=300)
    assert mypy.returncode == 0, f"mypy on the copy: {steps_in(typed)}\n{typed}"
