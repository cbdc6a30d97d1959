"""The portal's Celery app: its settings from Django's, its tasks found in the apps, a task's database connections
kept as a request keeps them, the services' prepared queries compiled before a worker's pool forks, and what a
worker's processes built frozen out of the garbage collector's sight."""

import gc
import os

from celery import Celery
from celery.signals import task_postrun, task_prerun, worker_init, worker_process_init, worker_ready
from django.db import close_old_connections

from plumbing.database_faults import health_checks_by_socket
from plumbing.prepared import compile_every

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def close_old_database_connections(sender=None, **kwargs) -> None:
    """Around each task, what Django does around each request: a connection older than CONN_MAX_AGE, or
    unusable after an error, is closed (the next query opens a new one); others are kept, checked before
    reuse (CONN_HEALTH_CHECKS), by a look at its socket when that says enough (no round trip on the way to a
    task's start). Tests keep CONN_MAX_AGE 0, so there each task has a connection of its own."""
    if not getattr(getattr(sender, "request", None), "is_eager", False):  # run in the caller's own transaction
        close_old_connections()
        health_checks_by_socket()


@worker_init.connect
def compile_prepared_queries(**kwargs) -> None:
    """In a worker's main process, its tasks imported, before its pool processes are forked: the services'
    prepared queries compiled (plumbing/prepared.py `compile_every`, as a web process does before it serves), so
    that each pool process inherits them instead of compiling them in its first runs (about 6 ms of CPU in
    each: a burst of creates reached every pool process cold). Those that lock still compile on first use, in
    their transaction. Connects to nothing."""
    compile_every()


@worker_process_init.connect
@worker_ready.connect
def freeze_what_the_start_built(**kwargs) -> None:
    """In a worker's main process once it is ready, and in each of its pool processes once set up: what it
    holds by then (Django, the apps, Celery's tasks and tracers: some 200,000 objects) moved out of the garbage
    collector's sight, after a collection of what the start left over, as a web process does before it serves
    (portal/webserver.py warm()). Python's full collection walks every object it tracks: each process ran
    its first ones in its first tasks, and again whenever the objects made since had grown by a quarter; and a
    pool process's walks wrote into the pages it shares with the main process since the fork. What is frozen is
    never freed: it lives as long as the process anyway."""
    gc.collect()
    gc.freeze()
