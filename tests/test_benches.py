"""`make bench` runs each bench as `python bench/<name>.py`: Python then looks for imports in bench/, not in the
repository, until the script puts the repository on its path. An import of the portal's own packages above that
line fails only when the bench runs (bench/web.py did from b8e99be on, and `make bench` stopped there)."""

import ast
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {"portal", "networks", "webhooks", "plumbing", "client", "bench"}
SCRIPTS = sorted(path for path in (ROOT / "bench").glob("*.py") if "__main__" in path.read_text())


def _module_names(node: ast.stmt) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and not node.level:
        return [node.module or ""]
    return []


def _puts_repository_on_path(node: ast.stmt) -> bool:
    return "sys.path.insert" in ast.unparse(node)


def _imported_before_path(source: str) -> list[str]:
    """The portal's packages a script imports at its top before the line that puts the repository on its path."""
    early = []
    for node in ast.parse(source).body:
        if _puts_repository_on_path(node):
            return early
        early += [name for name in _module_names(node) if name.split(".")[0] in PACKAGES]
    return [*early, "(the script never puts the repository on its path)"]


def test_the_rule_sees_an_early_import_and_the_benches_are_found():
    assert len(SCRIPTS) >= 10, SCRIPTS
    source = "import sys\nfrom portal.actors import Actor\nsys.path.insert(0, 'x')\nimport networks\n"
    assert _imported_before_path(source) == ["portal.actors"]
    assert _imported_before_path("import sys\nsys.path.insert(0, 'x')\nimport networks\n") == []


@pytest.mark.parametrize("script", SCRIPTS, ids=[path.name for path in SCRIPTS])
def test_a_bench_imports_the_portal_after_putting_it_on_the_path(script):
    assert _imported_before_path(script.read_text()) == [], f"move these imports below sys.path.insert in {script}"


def test_a_bench_in_process_takes_its_own_database_whatever_the_shell_has(monkeypatch):
    """`make bench DATABASE_URL=...` hands DATABASE_URL, DEBUG=true and its development key to every bench:
    bench/api_reads.py kept them, so it filled that database with its team of 1,000 networks (and dropped its
    own, unused), bench/allocator.py failed on them in the next `make bench`, and its figures were DEBUG's."""
    from bench.served import KEYS_MADE, environment, in_process

    # Each variable the bench sets is put back as it was after the test (monkeypatch keeps it): the suite's
    # worker and web processes would start with a bench's settings otherwise.
    for name in ("BENCH_DATABASE", "BENCH_REDIS_DB", KEYS_MADE, *environment("sqlite://", 0)):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/somebodys")
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("DEBUG", "true")
    monkeypatch.setenv("SECRET_KEY", "insecure-development-key-do-not-use-in-production")  # make's
    assert in_process("bench_mine", 12) == ("bench_mine", 12)
    assert os.environ["DATABASE_URL"] == "postgres://postgres@127.0.0.1:5432/bench_mine"
    assert os.environ["CELERY_BROKER_URL"] == os.environ["CACHE_URL"] == "redis://127.0.0.1:6379/12"
    assert os.environ["DEBUG"] == "false"
    made = os.environ["SECRET_KEY"], os.environ["PORTAL_SECRETS_KEYS"]
    assert "insecure" not in made[0]
    assert in_process("bench_mine", 12) == ("bench_mine", 12)  # as a process the bench started runs it
    assert (os.environ["SECRET_KEY"], os.environ["PORTAL_SECRETS_KEYS"]) == made
