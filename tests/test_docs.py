"""The README and docs/ name only what exists, and the README stays short.

Every relative link (and its #anchor) resolves, and every repository path a document names in
backticks or in a code block exists: `networks/services/ports.py`, `tests/networks/*/test_x.py`
(a glob: at least one match), `deploy/` (a folder). A path is a word whose first part is an entry of
the repository's top folder or `..`, or a word with a slash that ends like a source file. Paths into what the
portal makes at run time (`var/`, `.venv/`) and absolute paths are not the repository's.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README_MAX_LINES = 250
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "cluster" / "README.md"]
MADE_AT_RUN_TIME = {"var", ".venv", "test-artifacts", ".git", ".pytest_cache", ".hypothesis", ".ruff_cache"}
SOURCE_ENDINGS = (".py", ".md", ".html", ".txt", ".ini", ".toml", ".conf", ".service", ".example", ".cfg", ".css")

FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`([^`\n]+)`")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def top_entries() -> set[str]:
    return {entry.name for entry in ROOT.iterdir() if entry.name not in MADE_AT_RUN_TIME}


def heading_anchors(text: str) -> set[str]:
    """GitHub's anchors: the heading lowercased, punctuation dropped, spaces as hyphens."""
    anchors = set()
    for line in FENCE.sub("", text).splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            anchors.add(re.sub(r"\s", "-", re.sub(r"[^\w\- ]", "", title)))
    return anchors


def path_words(text: str) -> set[str]:
    """Words of code spans and code blocks, cut at `::` (a test's name) and stripped of quotes."""
    words = set()
    spans = [*INLINE_CODE.findall(FENCE.sub("", text)), *FENCE.findall(text)]
    for span in spans:
        for word in span.split():
            word = word.split("::")[0].strip("\"'(),;")
            words.add(word)
    return words


def named_paths(text: str) -> set[str]:
    tops = top_entries()
    paths = set()
    for word in path_words(text):
        if word.startswith(("/", "~", "$")) or "://" in word or "/" not in word:
            continue
        first = word.split("/")[0]
        if first in MADE_AT_RUN_TIME:
            continue
        if first in tops or first == ".." or word.endswith(SOURCE_ENDINGS):
            paths.add(word)
    return paths


def exists(path: str) -> bool:
    pattern = re.sub(r"<[^>]*>", "*", path)
    if any(char in pattern for char in "*?["):
        return any(ROOT.glob(pattern.rstrip("/")))
    target = (ROOT / pattern).resolve()
    if ROOT not in target.parents:
        return False  # outside the repository: a fresh clone does not have it
    return target.is_dir() if pattern.endswith("/") else target.exists()


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_repository_path_a_document_names_exists(document):
    missing = sorted(path for path in named_paths(document.read_text()) if not exists(path))
    assert missing == [], f"{document.relative_to(ROOT)} names paths that are not in the repository: {missing}"


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_relative_link_resolves(document):
    text = document.read_text()
    broken = []
    for link in LINK.findall(FENCE.sub("", text)):
        if re.match(r"^[a-z]+:", link):
            continue  # https:, mailto:
        target, _, anchor = link.partition("#")
        path = (document.parent / target).resolve() if target else document
        if not path.exists() or ROOT not in (path, *path.parents):
            broken.append(link)
        elif anchor and path.suffix == ".md" and anchor not in heading_anchors(path.read_text()):
            broken.append(link)
    assert broken == [], f"{document.relative_to(ROOT)} links to what does not exist: {broken}"


def test_the_readme_fits():
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines; move detail into docs/."


def test_a_wrong_path_or_link_is_found():
    text = (
        "See `networks/services/no_such_module.py`, `tests/nowhere/`, `views/gone.py`, `../shared/DESIGN.md`.\n"
        "```sh\ncp deploy/missing.conf /etc/\n```\n"
    )
    assert {path for path in named_paths(text) if not exists(path)} == {
        "networks/services/no_such_module.py",
        "tests/nowhere/",
        "views/gone.py",
        "deploy/missing.conf",
        "../shared/DESIGN.md",
    }
    assert named_paths("`var/log/<program>.log`, `/etc/overlay-portal/env`, `overlay-portal/tools:latest`") == set()
