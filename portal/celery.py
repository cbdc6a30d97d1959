import os

from celery import Celery
from celery.signals import task_postrun, task_prerun
from django.db import close_old_connections

from plumbing.database_faults import health_checks_by_socket

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
