"""The settings of the work done outside a request: Celery (queues, routes, retries, beat's schedule) and
the clusters the workers talk to (Consul waits, the node probe, Docker's API version, the local cluster,
nodes' reserved ports). `portal/settings.py` takes them in."""

import os

from kombu import Queue

from portal.environment import env_bool

# --- Celery: every Docker and Consul call runs in a worker -----------------------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", CELERY_BROKER_URL)
# kombu's Redis transport with one client per channel and a worker's acknowledgement records written without
# waiting for Redis's answer (plumbing/broker.py).
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CELERY_BROKER_TRANSPORT = "plumbing.broker:Transport"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery's Django fixup closes every database connection before and after each task unless told to
# reuse them: a new PostgreSQL connection (a backend forked, ~10 ms) for every operation. Its own
# closing is turned off here; portal/celery.py closes them as a request would instead (CONN_MAX_AGE,
# health checks, and at once after an error).
CELERY_DB_REUSE_MAX = 2**31
# Two queues, and every worker takes from both in turn: what a user waits for (operations, the
# questions a page asks) in "celery", what only keeps the portal current (the events follower's
# follow-ups, beat's sweeps) in "background". A run no longer waits behind a burst of follow-ups
# (bench/e2e.py measured 150-250 ms of that per create).
CELERY_TASK_QUEUES = (Queue("celery"), Queue("background"))
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_ROUTES = {
    name: {"queue": "background"}
    for name in (
        "networks.follow_container",
        "networks.follow_network",
        "networks.reconcile_all",
        "networks.refresh_health_all",
        "networks.operations_recover",
        "portal.idempotency_expire",
        "webhooks.deliver",
        "webhooks.relay",
    )
}
CELERY_TASK_TIME_LIMIT = int(os.environ.get("CELERY_TASK_TIME_LIMIT", "300"))
CELERY_TASK_SOFT_TIME_LIMIT = int(os.environ.get("CELERY_TASK_SOFT_TIME_LIMIT", "240"))
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A worker whose task queue went away keeps trying to reconnect for as long as it takes.
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER")
# A web request that enqueues while the task queue is down gives up within about a second (the
# operation waits in the outbox, the operations table); Celery's defaults hold it ~19 s, then raise.
_QUICK_RETRY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.3, "interval_max": 0.3}
CELERY_TASK_PUBLISH_RETRY_POLICY = _QUICK_RETRY
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"retry_policy": _QUICK_RETRY}
# A Redis that accepts connections but does not answer (hung, or behind a network that drops its packets)
# holds a command no longer than this: a web request then answers as when the queue is down, and a
# worker reconnects. Redis answers a broker's commands in well under a millisecond; a worker's BRPOP is
# read only once Redis has answered it, so this does not bound its wait for work.
REDIS_SOCKET_TIMEOUT = 1
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 2
CELERY_REDIS_SOCKET_TIMEOUT = REDIS_SOCKET_TIMEOUT  # the result store's (a question's answer): 120 s by default
# A message delivered to a worker that died is redelivered after visibility_timeout; it must outlast
# the longest task (CELERY_TASK_TIME_LIMIT) and retry countdown. operations_recover hands such
# operations over sooner (after RECOVERY_GRACE_SECONDS), so this is only the broker's own safety net.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 600,
    "socket_connect_timeout": 2,
    "socket_timeout": REDIS_SOCKET_TIMEOUT,
}
CELERY_BEAT_SCHEDULE = {
    "recover-operations": {
        "task": "networks.operations_recover",
        "schedule": float(os.environ.get("OPERATIONS_RECOVER_EVERY", "10")),
    },
    "refresh-cluster-health": {"task": "networks.refresh_health_all", "schedule": 60.0},
    "expire-idempotency-keys": {"task": "portal.idempotency_expire", "schedule": 3600.0},
    "relay-webhooks": {"task": "webhooks.relay", "schedule": float(os.environ.get("WEBHOOK_RELAY_EVERY", "15"))},
    "reconcile-clusters": {
        "task": "networks.reconcile_all",
        "schedule": float(os.environ.get("RECONCILE_EVERY", "300")),
    },
}

# How long an operation waits for a cluster's Consul that does not answer (retrying with backoff)
# before it fails with a sentence naming what is down.
STATE_STORE_WAIT_SECONDS = float(os.environ.get("STATE_STORE_WAIT_SECONDS", "120"))

# The image a worker runs (`netstat -lntu` and `ip`, --network host) on each node to learn the ports the
# node's own programs listen on and its underlay's MTU; a node without it keeps what it had (the reserved
# table still applies).
NODE_PROBE_IMAGE = os.environ.get("NODE_PROBE_IMAGE", "overlay-portal/tools:latest")

# A network this full (addresses used / usable) gets a warning badge and a dashboard line; at 1.0 a run
# or a connect that needs an address from it is refused.
NETWORK_UTILIZATION_WARNING = float(os.environ.get("NETWORK_UTILIZATION_WARNING", "0.8"))

# A team network with no container for this many days is offered for removal (a list filter, a
# dashboard line, and a removal of a chosen set after a preview).
UNUSED_NETWORK_DAYS = int(os.environ.get("UNUSED_NETWORK_DAYS", "30"))

# The oldest Docker Engine API a cluster may speak (1.40 = Docker 19.03); registration refuses older ones.
DOCKER_MIN_API_VERSION = os.environ.get("DOCKER_MIN_API_VERSION", "1.40")

# --- The local cluster made by cluster/cluster --------------------------------------------------
CLUSTER_DESCRIPTION_FILE = os.environ.get("OVERLAY_PORTAL_CLUSTER_FILE", "/var/lib/overlay-portal/cluster.json")

# Host ports the nodes serve beyond Docker, swarm, Consul and SSH (networks/services/ports.py has those),
# which runs may not publish: PORT[-LAST][/tcp|/udp|/tcp+udp]:WHAT, comma-separated.
NODE_RESERVED_PORTS = os.environ.get("NODE_RESERVED_PORTS", "")

# --- Outgoing webhooks (webhooks/, docs/webhooks.md) ---------------------------------------------
# Destinations in these ranges are allowed even when private, loopback or link-local (CIDRs, comma-separated).
WEBHOOK_ALLOWED_NETWORKS = [
    item.strip() for item in os.environ.get("WEBHOOK_ALLOWED_NETWORKS", "").split(",") if item.strip()
]
# http:// destinations (else https only).
WEBHOOK_ALLOW_HTTP = env_bool("WEBHOOK_ALLOW_HTTP")
# Seconds to wait for a receiver's answer (connecting and reading each).
WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("WEBHOOK_TIMEOUT_SECONDS", "5"))
# The waits before each retry of a failed delivery, in seconds; after the last one it is given up.
# The default sums to about a day: 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 2 h, 4 h, 8 h, 8 h.
WEBHOOK_RETRY_SCHEDULE = [
    float(item)
    for item in os.environ.get("WEBHOOK_RETRY_SCHEDULE", "5,30,120,600,1800,3600,7200,14400,28800,28800").split(",")
]
# An endpoint whose deliveries fail this many times in a row is paused until an owner resumes it.
WEBHOOK_PAUSE_AFTER_FAILURES = int(os.environ.get("WEBHOOK_PAUSE_AFTER_FAILURES", "15"))
# The portal's address, before the links in webhook bodies (such as an operation's url), e.g. https://portal.example.com.
WEBHOOK_PORTAL_URL = os.environ.get("WEBHOOK_PORTAL_URL", "")
# After a rotation, deliveries are signed with the old secret too for this long (hours).
WEBHOOK_SECRET_OVERLAP_HOURS = float(os.environ.get("WEBHOOK_SECRET_OVERLAP_HOURS", "24"))
