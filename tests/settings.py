"""Test settings: the portal's own settings with development defaults filled in from the environment."""

import os

os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("SECRET_KEY", "insecure-development-key-do-not-use-in-production")
# A Redis database of its own, so a `make run` worker never takes the tests' tasks.
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/15")
# Operations give up on a Consul that does not answer sooner than in production (the workers the
# tests start read it too).
os.environ.setdefault("STATE_STORE_WAIT_SECONDS", "15")
# Each test's processes (the workers it starts) close their connections, so the test database can be
# flushed and dropped while they run.
os.environ.setdefault("CONN_MAX_AGE", "0")

# Webhook receivers in the tests listen on 127.0.0.1 over http, and retry soon.
os.environ.setdefault("WEBHOOK_ALLOWED_NETWORKS", "127.0.0.1/32")
os.environ.setdefault("WEBHOOK_ALLOW_HTTP", "true")
os.environ.setdefault("WEBHOOK_RETRY_SCHEDULE", "0.5,0.5,1,1,1,1,1,1")
os.environ.setdefault("WEBHOOK_PAUSE_AFTER_FAILURES", "6")
os.environ.setdefault("WEBHOOK_TIMEOUT_SECONDS", "3")

from portal.settings import *  # noqa: E402,F403
from portal.settings import BASE_DIR, DATABASES  # noqa: E402

# TEST_RUN_ID lets two test sessions run side by side (each its own test database; give each its
# own CELERY_BROKER_URL database too).
_run = os.environ.get("TEST_RUN_ID")
if _run:
    if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "var" / f"test-db-{_run}.sqlite3")}
    else:
        DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_{_run}"}

# The production hasher is slow on purpose (about 0.2 s of CPU a check); the tests check logins, the
# lockout and tokens, not what a hash costs.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
