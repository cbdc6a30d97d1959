"""Test settings: the portal's own settings with development defaults filled in from the environment."""

import os

os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("SECRET_KEY", "insecure-development-key-do-not-use-in-production")
# A Redis database of its own, so a `make run` worker never takes the tests' tasks.
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/15")

from portal.settings import *  # noqa: E402,F403
