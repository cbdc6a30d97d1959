"""gunicorn's configuration for the portal: `gunicorn -c deploy/gunicorn.conf.py portal.wsgi`.

Every value can be changed from the environment (the systemd unit reads /etc/overlay-portal/env).
"""

import os

# The database as scripts/serve gives it to `make run`'s web server, unless the environment says otherwise (read
# when the portal's settings load, after this file): each process's threads share a pool of 8 connections (so
# processes x threads never become as many PostgreSQL connections), and a request never waits more than 10 s
# for a row another session holds (then 503, nothing done: plumbing/database_retry.py).
os.environ.setdefault("DATABASE_POOL_SIZE", "8")
os.environ.setdefault("DATABASE_LOCK_TIMEOUT", "10")

# Refuses to start several processes whose limits would each count in their own memory (CACHE_URL); each
# process connects the database, the cache and the task queue before it serves (`ready`).
from portal.webserver import default_workers, on_starting, post_worker_init  # noqa: F401 (gunicorn hooks, by name)

# Behind nginx on the same host; GUNICORN_BIND=0.0.0.0:8000 when the proxy is elsewhere.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

# Sized to the machine: cores + 1 processes (at most 12: `default_workers`), each with many threads,
# since requests that wait hold a thread without using the CPU: API calls with ?wait= (up to 120 s,
# while a worker does the job) and every open detail page's long poll (up to 20 s at a time, then asked
# again). Waiting requests give their database connection back while they wait, so threads do not cost
# connections. Raise GUNICORN_THREADS with the number of pages open at once: processes x threads is the limit.
workers = int(os.environ.get("GUNICORN_WORKERS", default_workers()))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "32"))

# Longer than the longest ?wait= (120 s), so a waiting request is never killed as stuck.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "150"))
graceful_timeout = 30
keepalive = 5

# Recycle processes now and then, so a slow leak never grows for weeks.
max_requests = 2000
max_requests_jitter = 200

# The proxy's addresses: only they may say the request came over HTTPS (X-Forwarded-Proto).
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")

accesslog = "-"  # to the journal
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
proc_name = "overlay-portal"
# No runtime control socket: systemd starts, reloads (HUP) and stops it.
control_socket_disable = True
