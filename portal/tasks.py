"""Periodic housekeeping of the portal app (tenancy, tokens); the Docker and Consul work is in networks.tasks."""

from celery import shared_task

from . import services


@shared_task(name="portal.idempotency_expire", soft_time_limit=60, time_limit=90)
def idempotency_expire_task() -> int:
    return services.idempotency_expire()
