"""A worker's main process compiles the services' prepared queries before its pool forks (portal/celery.py), so
every pool process starts with them, as a web process does before it serves."""

from __future__ import annotations

from celery.signals import worker_init

from networks.services.operations import _locked_read
from networks.services.operations_start import _started_read
from plumbing.prepared import _every
from portal.celery import compile_prepared_queries


def test_a_worker_compiles_the_prepared_queries_before_its_pool_forks():
    # worker_init is sent once the tasks are imported, before the pool starts (Celery's WorkController); sending
    # it here would also set Celery's Django fixup up in the test process, so the receiver is called as it would be.
    assert compile_prepared_queries in worker_init._live_receivers(None)
    for prepared in _every:
        prepared.shared.pop("default", None)
    compile_prepared_queries(sender=None)  # no database access in this test: compiling connects to nothing
    assert "default" in _started_read.shared, "the start's read of its row is compiled"
    assert "default" not in _locked_read.shared, "one that locks compiles in its transaction, on first use"
