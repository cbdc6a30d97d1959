"""Listen to Docker's events on every node of every cluster and hand what matters to the worker.

One thread per node reads `docker events` in windows of WINDOW seconds, each window starting where
the last one ended, so nothing is missed while the stream is reopened. The end of each window handled
is recorded on the node, and a restarted follower starts from it: what changed while it was down is
followed up within seconds. After an outage, or a restart, it catches up on at most CATCH_UP seconds,
the reconcile's interval (the periodic reconcile covers anything older). The follower only listens:
`networks.services.events` decides what an event means and the worker does the work.
"""

from __future__ import annotations

import logging
import signal
import threading
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from networks.engine import EngineError
from networks.engine import docker as docker_engine
from networks.models import Node
from networks.services import queue
from networks.services.events import (
    event_follow_up,
    follow_up_is_own_create,
    node_events_handled,
    node_events_resume_at,
)

logger = logging.getLogger("networks.follow_events")

WINDOW = 20
CATCH_UP = int(settings.CELERY_BEAT_SCHEDULE.get("reconcile-clusters", {}).get("schedule", 300))
RETRY = 5


def follow_node(
    *, node_id: int, cluster_id: int, name: str, endpoint: str, from_manager: bool, stop: threading.Event
) -> None:
    since = None
    while not stop.is_set():
        try:
            if since is None:  # where the last follower of this node got to
                since = node_events_resume_at(node_id=node_id, now=time.time(), catch_up=CATCH_UP)
                logger.info("%s: resuming from %d s ago", name, max(0, time.time() - since))
            since = max(since, int(time.time()) - CATCH_UP)
            until = since + WINDOW
            for event in docker_engine.events(endpoint, since=since, until=until):
                follow_up = event_follow_up(event, from_manager=from_manager)
                if follow_up is None or follow_up_is_own_create(cluster_id=cluster_id, follow_up=follow_up):
                    continue
                logger.info("%s: %s %s %s", name, event.get("Type"), event.get("Action"), follow_up.docker_id[:12])
                if follow_up.kind == "container":
                    queue.send(queue.FOLLOW_CONTAINER, cluster_id, follow_up.docker_id, follow_up.is_system)
                elif follow_up.kind == "network":
                    queue.send(queue.FOLLOW_NETWORK, cluster_id, follow_up.docker_id)
                else:
                    queue.send(queue.CLUSTER_REFRESH_HEALTH, cluster_id)
                if stop.is_set():
                    return
            node_events_handled(node_id=node_id, until=until)
            since = until
        except EngineError as error:
            logger.warning("%s: cannot read events (%s); trying again in %d s", name, error, RETRY)
            stop.wait(RETRY)
        except Exception:  # a broker or database hiccup must not end the thread; the next window retries
            logger.exception("%s: following events failed; trying again in %d s", name, RETRY)
            close_old_connections()  # a database connection that broke is opened again
            stop.wait(RETRY)


class Command(BaseCommand):
    help = "Follow Docker's events on every cluster node so changes made outside the portal show at once."

    def add_arguments(self, parser):
        parser.add_argument("--rescan", type=float, default=15.0, help="Seconds between looks for new nodes.")

    def handle(self, *args, rescan: float, **options):
        done = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: done.set())
        followers: dict[tuple, threading.Event] = {}
        while not done.is_set():
            close_old_connections()
            wanted = {
                (node.pk, node.cluster_id, node.name, node.docker, node.role == Node.Role.MANAGER)
                for node in Node.objects.select_related("cluster")
            }
            for key in set(followers) - wanted:
                followers.pop(key).set()
                logger.info("%s: no longer following", key[2])
            for key in wanted - set(followers):
                node_id, cluster_id, name, endpoint, manager = key
                followers[key] = threading.Event()
                threading.Thread(
                    target=follow_node,
                    kwargs={
                        "node_id": node_id,
                        "cluster_id": cluster_id,
                        "name": name,
                        "endpoint": endpoint,
                        "from_manager": manager,
                        "stop": followers[key],
                    },
                    name=f"events-{name}",
                    daemon=True,
                ).start()
                logger.info("%s: following %s (cluster %s)", name, endpoint, cluster_id)
            done.wait(rescan)
        for stop in followers.values():
            stop.set()
        logger.info("Stopped following events.")
