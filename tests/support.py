"""Helpers shared by the test modules."""

from django.conf import settings


def database_url() -> str:
    """The URL of the database the tests run on, for processes the tests start (workers, allocators)."""
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


def wait_for_operation(operation, timeout: float = 120):
    """Poll the database until the worker finishes the operation; return it fresh."""
    import time

    from networks.models import Operation

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        fresh = Operation.objects.get(pk=operation.pk)
        if fresh.is_finished:
            return fresh
        time.sleep(0.2)
    raise AssertionError(f"operation {operation.pk} did not finish in {timeout}s: {fresh.status} {fresh.progress}")


def wait_until(predicate, timeout: float = 60, interval: float = 0.5):
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


def first_team(cluster):
    """The tenant a test registered the cluster for (its first grant): clusters belong to no one tenant."""
    return cluster.grants.select_related("tenant").order_by("pk").first().tenant


def consul_state(network) -> dict:
    """What the cluster's Consul holds for a network: its document and its endpoints' documents."""
    import json

    from networks.engine import consul as consul_engine
    from networks.services.state import endpoint_prefix, network_key

    address = network.cluster.consul_address
    raw = consul_engine.kv_get(address, network_key(network))
    endpoints = consul_engine.kv_get_tree(address, endpoint_prefix(network))
    return {
        "network": json.loads(raw) if raw else None,
        "endpoints": {key.rsplit("/", 1)[1]: json.loads(value) for key, value in endpoints.items()},
    }


def query_counts(requests: dict) -> dict:
    """How many SQL queries each request made: {name: (status code, queries)}; each value of
    `requests` is a callable that makes one request and returns its response."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = {}
    for name, make in requests.items():
        with CaptureQueriesContext(connection) as queries:
            response = make()
        counts[name] = (response.status_code, len(queries))
    return counts
