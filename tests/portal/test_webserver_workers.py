"""How many web processes scripts/serve and deploy/gunicorn.conf.py start when none is asked for: one more than the
machine's cores (more only take turns on them), at most 12."""

import subprocess
import sys

from portal.webserver import default_workers


def test_one_more_than_the_cores_at_most_twelve():
    assert [default_workers(cores) for cores in (1, 2, 4, 11, 12, 64)] == [2, 3, 5, 12, 12, 12]


def test_the_serve_script_asks_the_same_function():
    printed = subprocess.run(
        [sys.executable, "-m", "portal.webserver", "--default-workers"], capture_output=True, text=True, check=True
    ).stdout
    assert int(printed) == default_workers()
